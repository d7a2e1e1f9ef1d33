"""The one secured ModelView every view of the panel inherits.

It decides access from the permission matrix, limits rows with the row scope
(in lists, counts, get_one, pickers and bulk actions alike), hides health data
from roles without the right, labels everything in Russian, turns database
refusals into Russian messages and archives instead of deleting.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    request,
    url_for,
)
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import inspect
from sqlalchemy.orm import with_parent

from models import db
from workflows.scope import where_visible

from . import paging
from .export import ExportMixin
from .modelview.access import AccessMixin
from .modelview.archive import ArchiveMixin
from .modelview.fields import FieldsMixin, hidden_in
from .modelview.labels import (
    LabelsMixin,
    form_choices,
    model_choices,
    model_labels,
    show_date,
)
from .modelview.listing import ListingMixin
from .modelview.rowscope import RowScopeMixin
from .modelview.saving import (
    CONSTRAINT_MESSAGES,
    FOREIGN_KEY_MESSAGE,
    STALE_MESSAGE,
    FormTranslations,
    OporaForm,
    SavingMixin,
    integrity_message,
)
from .permissions import allowed

# Names the rest of the panel and the tests import from here.
__all__ = [
    "CONSTRAINT_MESSAGES",
    "FOREIGN_KEY_MESSAGE",
    "STALE_MESSAGE",
    "FormTranslations",
    "OporaForm",
    "OporaModelView",
    "integrity_message",
]


class OporaModelView(
    AccessMixin,
    SavingMixin,
    ArchiveMixin,
    RowScopeMixin,
    ListingMixin,
    FieldsMixin,
    LabelsMixin,
    ExportMixin,
    ModelView,
):
    """Base of every table view: access, scope, labels, validation, archive."""

    # Declarative knobs for subclasses.
    details_related: tuple[tuple[str, tuple[str, ...]], ...] = ()

    details_modal = False
    edit_modal = False
    create_modal = False
    column_display_actions = True
    details_template = "admin/opora_details.html"

    def __init__(self, model, name: str, category: str | None = None, endpoint=None):
        self.column_labels = {**model_labels(model), **(self.column_labels or {})}
        self.column_choices = {**model_choices(model), **(self.column_choices or {})}
        self.form_choices = {**form_choices(model), **(self.form_choices or {})}
        self.form_args = self._default_form_args(model)
        self.form_ajax_refs = {**self._default_ajax_refs(model), **(self.form_ajax_refs or {})}
        self._name_relationship_filters(model)
        self.form_excluded_columns = self._excluded_bookkeeping(model)
        super().__init__(model, db, name=name, category=category, endpoint=endpoint)

    # --- the details page's related tables -----------------------------------------

    def details_notices(self, model) -> list[tuple[str, str]]:
        """(Bootstrap level, text) notices shown above a row's details."""
        return []

    # Related rows made by a workflow page, not by the plain form: no «Добавить» for them.
    details_related_by_workflow: frozenset[str] = frozenset()

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
            choices = model_choices(target)
            query = (
                db.session.query(target)
                .filter(with_parent(model, getattr(self.model, rel_name)))
                .filter(where_visible(target, current_user))
                .options(*paging.eager_options(target, shown))
            )
            rows = []
            for row in query.limit(200):
                cells = []
                for col in shown:
                    value = getattr(row, col)
                    if value is None:
                        value = ""
                    elif col in choices:
                        value = dict(choices[col]).get(value, value)
                    elif isinstance(value, dt.date):
                        value = show_date(self, value, col)
                    cells.append(escape(value))
                url = None
                if allowed(self.role, view.endpoint, "details"):
                    url = url_for(f"{view.endpoint}.details_view", id=row.id)
                rows.append((url, cells))
            labels = model_labels(target)
            add_url = None
            if (
                rel.back_populates
                and rel_name not in self.details_related_by_workflow
                and (rel.uselist or not rows)
                and allowed(self.role, view.endpoint, "create")
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

    def _view_of(self, model):
        for view in self.admin._views:
            if isinstance(view, OporaModelView) and view.model is model:
                return view
        return None
