"""Labels: how a view names things — Russian labels and choice words declared on the model,
dates in the centre's format and zone, and filters named by their related row's name."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import current_app
from flask_admin.model import typefmt
from markupsafe import Markup, escape
from sqlalchemy import inspect


def show_date(view, value, name):
    return value.strftime("%d.%m.%Y")


def show_datetime(view, value, name):
    # Stored in UTC (SQLite returns it without a zone); shown in the centre's zone.
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def show_bool(view, value, name):
    """Flask-Admin's check or minus icon, its tooltip in Russian («Работает: да»)."""
    label = (getattr(view, "column_labels", None) or {}).get(name, name)
    glyph, fa = ("ok-circle", "fa-check-circle") if value else ("minus-sign", "fa-minus-circle")
    return Markup(
        f'<span class="fa {fa} glyphicon glyphicon-{glyph} icon-{glyph}" '
        f'title="{escape(label)}: {"да" if value else "нет"}"></span>'
    )


TYPE_FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    bool: show_bool,
    dt.datetime: show_datetime,
    dt.date: show_date,
}

# The column that names a row of a table, in order of preference.
NAME_COLUMNS = (
    "name",
    "surname",
    "last_name",
    "inventory_number",
    "title",
    "number",
    "username",
    "id",
)


def model_labels(model) -> dict[str, str]:
    """Russian labels declared on the model's columns and relationships."""
    mapper = inspect(model)
    labels = {}
    for attr in mapper.attrs:
        info = attr.info if hasattr(attr, "info") else {}
        if not info and hasattr(attr, "columns"):
            info = attr.columns[0].info
        if "label" in info:
            labels[attr.key] = info["label"]
    return labels


def model_choices(model) -> dict[str, list[tuple[str, str]]]:
    return {c.key: c.info["choices"].pairs() for c in inspect(model).columns if "choices" in c.info}


def form_choices(model) -> dict[str, list[tuple[str, str]]]:
    """Choices for the forms: a required choice with no default starts blank,
    so that a hurried clerk does not save the first option by accident."""
    result = {}
    for c in inspect(model).columns:
        if "choices" not in c.info:
            continue
        pairs = c.info["choices"].pairs()
        if not c.nullable and c.default is None and c.server_default is None:
            pairs = [("", "— выберите —"), *pairs]
        result[c.key] = pairs
    return result


def _relationship_at(model, path: str):
    """The relationship a dotted path of relationships ends on, or None."""
    rel = None
    for step in path.split("."):
        rel = inspect(model).relationships.get(step)
        if rel is None:
            return None
        model = rel.mapper.class_
    return rel


class LabelsMixin:
    """Dates in Russian, filters on relationships by name, filter URLs from their columns."""

    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = TYPE_FORMATTERS

    def _get_list_value(self, *args, **kwargs):
        # An empty choice column (no condition at return yet) is empty, not «None».
        value = super()._get_list_value(*args, **kwargs)
        return "" if value is None else value

    def _name_relationship_filters(self, model) -> None:
        """A filter on a relationship filters by the related row's name, labelled in Russian.

        Flask-Admin would otherwise offer one filter per column of the related
        table, named after the English column names.
        """
        filters = []
        for name in self.column_filters or ():
            rel = _relationship_at(model, name) if isinstance(name, str) else None
            if rel is not None:  # «district», or a path to one: «family.district», «unit.type»
                target = inspect(rel.mapper.class_).columns
                key = next(k for k in NAME_COLUMNS if k in target)
                label = self.column_labels.get(name) or rel.info.get("label", rel.key)
                name = f"{name}.{key}"
                self.column_labels.setdefault(name, label)
            filters.append(name)
        self.column_filters = filters

    def get_filter_arg(self, index, flt) -> str:
        """The filter's URL name from its column and operation, e.g. `district_name_equals`.

        Flask-Admin builds it from the label with Latin letters kept only: every
        Russian label became `_equals`, so different filters shared one URL name.
        """
        column = getattr(flt, "column", None)
        key = getattr(column, "key", None)
        if key is None:
            return str(index)
        table = getattr(getattr(column, "table", None), "name", None)
        operation = flt.operation()
        operation = getattr(operation, "_args", (operation,))[0]
        prefix = f"{table}_" if table and table != self.model.__tablename__ else ""
        return re.sub(r"[^a-z0-9]+", "_", f"{prefix}{key} {operation}".lower())
