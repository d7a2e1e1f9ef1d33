"""Related tables: what a row's details page shows beside the row — its related rows
the role may list (only their visible fields and rows), notices and links to work pages."""

from __future__ import annotations

import datetime as dt
from functools import cache

from flask import request, url_for
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import inspect
from sqlalchemy.orm import with_parent

from models import db
from models.base import ArchivedMixin
from models.live import new_work_refusal
from workflows.scope import where_visible

from .. import paging
from ..permissions import allowed
from .fields import hidden_in, row_label
from .labels import model_choices, model_labels, show_date


@cache
def _choices_and_labels(model) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """A model's coded columns (code → label) and its labels: fixed by the model, read
    once, not per table of every details page."""
    choices = {key: dict(pairs) for key, pairs in model_choices(model).items()}
    return choices, model_labels(model)


class RelatedTablesMixin:
    """The details page: related tables with «Добавить», notices and work-page links."""

    details_template = "admin/opora_details.html"
    # (relationship, its columns shown) for each related table on the details page.
    details_related: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Related rows made by a workflow page, not by the plain form: no «Добавить» for them.
    details_related_by_workflow: frozenset[str] = frozenset()

    def details_title(self, model) -> str:
        """The row's name in the details page's heading, as the role may read it."""
        return row_label(self.role, model)

    def details_notices(self, model) -> list[tuple[str, str]]:
        """(Bootstrap level, text) notices shown above a row's details."""
        return []

    def related_filter(self, rel_name: str):
        """A further WHERE clause for the related table `rel_name` (None: none)."""
        return None

    def details_actions(self, model) -> list[tuple[str, str, str]]:
        """(words, url, element id) of the work pages to go to from a row's details."""
        return []

    def related_tables(self, model):
        """(title, headers, rows) for each relationship in details_related the role may list."""
        tables = []
        for rel_name, columns in self.details_related:
            rel = inspect(self.model).relationships[rel_name]
            target = rel.mapper.class_
            view = self._view_of(target)
            if view is None or not allowed(self.role, view.endpoint, "list"):
                continue
            hidden = hidden_in(self.role, target)
            shown = [c for c in columns if c not in hidden]
            choices, labels = _choices_and_labels(target)
            query = (
                db.session.query(target)
                .filter(with_parent(model, getattr(self.model, rel_name)))
                .filter(where_visible(target, current_user))
                .options(*paging.eager_options(target, shown))
            )
            if issubclass(target, ArchivedMixin):  # archived rows only in the list's archive
                query = query.filter(target.archived_at.is_(None))
            further = self.related_filter(rel_name)
            if further is not None:
                query = query.filter(further)
            rows = []
            for row in query.limit(200):
                cells = [escape(self._related_cell(row, col, choices)) for col in shown]
                url = None
                if allowed(self.role, view.endpoint, "details"):
                    url = url_for(f"{view.endpoint}.details_view", id=row.id)
                rows.append((url, cells))
            add_url = None
            if (
                rel.back_populates
                and rel_name not in self.details_related_by_workflow
                and (rel.uselist or not rows)
                and allowed(self.role, view.endpoint, "create")
                and new_work_refusal(model) is None  # nothing new is added to an archived row
            ):
                add_url = url_for(
                    f"{view.endpoint}.create_view",
                    **{rel.back_populates: model.id},
                    url=request.full_path,
                )
            tables.append(
                (rel.info.get("label", rel_name), [labels.get(c, c) for c in shown], rows, add_url)
            )
        return tables

    def _related_cell(self, row, col: str, choices):
        value = getattr(row, col)
        if value is None:
            return ""
        if col in choices:
            return choices[col].get(value, value)
        if isinstance(value, bool):  # words, not «True»/«False»
            return "да" if value else "нет"
        if isinstance(value, dt.date):
            return show_date(self, value, col)
        if isinstance(value, list):  # a many-to-many: the names, in a line
            return ", ".join(str(item) for item in value)
        return value

    def _view_of(self, model):
        for view in self.admin._views:
            if isinstance(view, RelatedTablesMixin) and view.model is model:
                return view
        return None
