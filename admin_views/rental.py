"""Пункт проката: equipment, units, loans and the queue.

These are the plain tables. Statuses (a unit's, a loan's, a place in the queue)
change only through the rental desk's workflows (admin_views/rental_desk.py →
workflows/rental.py): the forms here leave them out.
"""

from __future__ import annotations

from flask_login import current_user

from models import db
from workflows import rental
from workflows.dates import centre_today

from .base import OporaModelView


class EquipmentTypeView(OporaModelView):
    column_list = (
        "name",
        "category",
        "size_range",
        "age_range",
        "loan_term_days",
        "outside_guaranteed",
    )
    column_searchable_list = ("name",)
    column_filters = ("category", "outside_guaranteed")
    column_default_sort = "name"
    form_columns = (
        "name",
        "category",
        "size_range",
        "age_range",
        "loan_term_days",
        "max_extensions",
        "components",
        "outside_guaranteed",
    )


class EquipmentUnitView(OporaModelView):
    column_list = ("inventory_number", "type", "size", "condition", "status")
    column_searchable_list = ("inventory_number", "size")
    column_filters = ("type", "status", "condition")
    column_default_sort = "inventory_number"
    # No status and no write-off here: the desk lends, returns, releases and writes off.
    form_columns = (
        "inventory_number",
        "type",
        "size",
        "components",
        "condition",
        "acquired_on",
        "notes",
    )
    column_details_list = (
        "inventory_number",
        "type",
        "size",
        "components",
        "condition",
        "status",
        "acquired_on",
        "written_off_on",
        "write_off_reason",
        "notes",
    )
    details_related = (("loans", ("family", "child", "issued_on", "due_on", "returned_on")),)

    def on_model_delete(self, model):
        rental.check_archivable(model)
        return super().on_model_delete(model)

    def after_model_change(self, form, model, is_created):
        if is_created:
            # A new unit is free: the first family waiting for its type gets the offer.
            rental.receive_unit(db.session, model, current_user, centre_today())
            db.session.commit()


class LoanView(OporaModelView):
    column_list = ("unit", "family", "child", "issued_on", "due_on", "returned_on")
    column_filters = ("issued_on", "due_on", "returned_on", "unit.type")
    column_labels = {"unit.type": "Вид ТСР"}
    column_default_sort = ("issued_on", True)
    # Lending, extending and returning are the desk's workflows; here only a note.
    form_columns = ("notes",)
    column_details_list = (
        "unit",
        "family",
        "child",
        "issued_by",
        "issued_on",
        "due_on",
        "extensions",
        "condition_on_issue",
        "returned_on",
        "condition_on_return",
        "missing_components",
        "notes",
    )


class LoanExtensionView(OporaModelView):
    column_list = ("loan", "old_due_on", "new_due_on", "reason", "extended_at")
    column_default_sort = ("extended_at", True)
    form_columns = ("loan", "old_due_on", "new_due_on", "reason")


class ReservationView(OporaModelView):
    column_list = (
        "type",
        "family",
        "child",
        "requested_on",
        "priority",
        "status",
        "offer_expires_on",
    )
    column_filters = ("type", "status", "priority", "requested_on")
    column_default_sort = [("priority", False), ("requested_on", False)]
    # Queueing and a change of order (with its reason) are the desk's workflows.
    form_columns = ("notes",)
    column_details_list = (
        "type",
        "family",
        "child",
        "requested_on",
        "priority",
        "status",
        "offered_unit",
        "offer_expires_on",
        "notes",
    )
