"""The one secured ModelView every view of the panel inherits.

It decides access from the permission matrix, limits rows with the row scope
(in lists, counts, get_one, pickers and bulk actions alike), hides health data
from roles without the right, labels everything in Russian, turns database
refusals into Russian messages and archives instead of deleting.
"""

from __future__ import annotations

from flask_admin.contrib.sqla import ModelView

from models import db

from .export import ExportMixin
from .modelview.access import AccessMixin
from .modelview.archive import ArchiveMixin
from .modelview.fields import FieldsMixin
from .modelview.labels import (
    LabelsMixin,
    form_choices,
    model_choices,
    model_labels,
)
from .modelview.listing import ListingMixin
from .modelview.related import RelatedTablesMixin
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
    RelatedTablesMixin,
    ExportMixin,
    ModelView,
):
    """Base of every table view: access, scope, labels, validation, archive."""

    # Declarative knobs for subclasses.

    details_modal = False
    edit_modal = False
    create_modal = False
    column_display_actions = True

    def __init__(self, model, name: str, category: str | None = None, endpoint=None):
        self.column_labels = {**model_labels(model), **(self.column_labels or {})}
        self.column_choices = {**model_choices(model), **(self.column_choices or {})}
        self.form_choices = {**form_choices(model), **(self.form_choices or {})}
        self.form_args = self._default_form_args(model)
        self.form_ajax_refs = {**self._default_ajax_refs(model), **(self.form_ajax_refs or {})}
        self._name_relationship_filters(model)
        self.form_excluded_columns = self._excluded_bookkeeping(model)
        super().__init__(model, db, name=name, category=category, endpoint=endpoint)
