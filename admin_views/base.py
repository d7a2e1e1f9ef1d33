"""The one secured ModelView every view of the panel inherits, composed of one mixin per
concern (admin_views/modelview/): access from the permission matrix, row scope, the fields
a role may see, Russian labels, fast lists, saving with Russian refusals, archive instead
of delete, the details page's related tables and the Excel export.

Every mixin stands before Flask-Admin's ModelView in the class's MRO, so each override's
`super()` reaches the next mixin and, at last, Flask-Admin. Two pieces adjust the same
form: `fields` drops the hidden fields, then `rowscope` narrows the pickers and `saving`
fills the version the edit started from; the three touch different fields.
"""

from __future__ import annotations

from flask_admin.contrib.sqla import ModelView

from models import db

from .modelview.access import AccessMixin
from .modelview.archive import ArchiveMixin
from .modelview.export import ExportMixin
from .modelview.fields import FieldsMixin
from .modelview.labels import LabelsMixin, form_choices, model_choices, model_labels
from .modelview.listing import ListingMixin
from .modelview.related import RelatedTablesMixin
from .modelview.rowscope import RowScopeMixin
from .modelview.saving import (
    STALE_MESSAGE,
    FormTranslations,
    OporaForm,
    SavingMixin,
)

# Names the rest of the panel and the tests import from here.
__all__ = [
    "STALE_MESSAGE",
    "FormTranslations",
    "OporaForm",
    "OporaModelView",
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

    details_modal = False
    edit_modal = False
    create_modal = False
    column_display_actions = True

    def __init__(self, model, name: str, category: str | None = None, endpoint=None):
        # What the model declares, merged under the subclass's own declarations,
        # before Flask-Admin reads them once at start-up.
        self.column_labels = {**model_labels(model), **(self.column_labels or {})}
        self.column_choices = {**model_choices(model), **(self.column_choices or {})}
        self.form_choices = {**form_choices(model), **(self.form_choices or {})}
        self.form_args = self._default_form_args(model)
        self.form_ajax_refs = {**self._default_ajax_refs(model), **(self.form_ajax_refs or {})}
        self._name_relationship_filters(model)
        self.form_excluded_columns = self._excluded_bookkeeping(model)
        super().__init__(model, db, name=name, category=category, endpoint=endpoint)
