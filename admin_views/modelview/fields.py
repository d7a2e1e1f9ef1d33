"""Field visibility: which fields of a table a role may see, in lists, details, forms,
filters and the search hint — and how a row is named to a role. Health data never
reaches a role without the right."""

from __future__ import annotations

from functools import cache

from flask import has_request_context
from sqlalchemy import inspect

from models import db
from models.roles import hidden_fields, reads_health


@cache
def model_fields(model) -> tuple[str, ...]:
    return tuple(attr.key for attr in inspect(model).attrs)


@cache
def health_columns(model) -> frozenset[str]:
    return frozenset(c.key for c in inspect(model).columns if c.info.get("health"))


def hidden_in(role: str | None, model) -> set[str]:
    """The fields of `model` that `role` must not see (the one question every view asks)."""
    return hidden_fields(role, model.__tablename__, model_fields(model), health_columns(model))


def row_label(role: str | None, row) -> str:
    """How `row` is named to `role` in a heading.

    A row's `__str__` (used by Flask-Admin in pickers, relation columns, related tables
    and exports, for every role that may see the row) never carries health data. A row
    whose name is clearer with them declares `health_label()`, shown only to a role that
    reads health data.
    """
    health_label = getattr(row, "health_label", None)
    if health_label is not None and reads_health(role):
        return health_label()
    return str(row)


class FieldsMixin:
    """Flask-Admin computes its column lists once at start-up; these properties
    filter them per request, so a hidden field never reaches a role without the right."""

    def _hidden(self) -> set[str]:
        if not has_request_context():
            return set()
        return hidden_in(self.role, self.model)

    def search_placeholder(self):
        """Name only the fields the role may search: never hint at hidden ones."""
        hidden = self._hidden()
        labels = [
            self.column_labels.get(name, name)
            for name in self.column_searchable_list or ()
            if isinstance(name, str) and name not in hidden
        ]
        return ", ".join(labels) or None

    def _visible(self, columns):
        hidden = self._hidden()
        return [c for c in columns if c[0] not in hidden]

    @property
    def _list_columns(self):
        return self._visible(self.__dict__["_all_list_columns"])

    @_list_columns.setter
    def _list_columns(self, value):
        self.__dict__["_all_list_columns"] = value

    @property
    def _details_columns(self):
        # Flask-Admin skips this at start-up when details look forbidden (no user yet).
        if "_all_details_columns" not in self.__dict__:
            self.__dict__["_all_details_columns"] = self.get_details_columns()
        return self._visible(self.__dict__["_all_details_columns"])

    @_details_columns.setter
    def _details_columns(self, value):
        self.__dict__["_all_details_columns"] = value

    def _filter_hidden(self, flt) -> bool:
        """A filter on a field the role may not see, here or on a related table
        (a clerk must not narrow persons by their family's category)."""
        column = getattr(flt, "column", None)
        key = getattr(column, "key", None)
        table = getattr(getattr(column, "table", None), "name", None)
        if table is None or table == self.model.__tablename__:
            return key in self._hidden()
        model = next(
            (m.class_ for m in db.Model.registry.mappers if m.local_table.name == table), None
        )
        if model is None or not has_request_context():
            return False
        return key in hidden_in(self.role, model)

    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        if not groups or not self._hidden():
            return groups
        return {
            name: options
            for name, options in groups.items()
            if not any(self._filter_hidden(self._filters[o["index"]]) for o in options)
        }

    def _drop_hidden(self, form):
        for name in self._hidden():
            if name in form:
                delattr(form, name)
        return form

    def create_form(self, obj=None):
        return self._drop_hidden(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._drop_hidden(super().edit_form(obj))
