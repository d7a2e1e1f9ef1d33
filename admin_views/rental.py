"""Пункт проката: equipment, units, loans and the queue."""

from __future__ import annotations

from .base import OporaModelView


class EquipmentTypeView(OporaModelView):
    column_list = ("name", "category", "size_range", "age_range", "loan_term_days")
    column_searchable_list = ("name",)
    column_filters = ("category",)
    column_default_sort = "name"
    form_columns = (
        "name",
        "category",
        "size_range",
        "age_range",
        "loan_term_days",
        "max_extensions",
        "components",
    )


class EquipmentUnitView(OporaModelView):
    column_list = ("inventory_number", "type", "size", "condition", "status")
    column_searchable_list = ("inventory_number", "size")
    column_filters = ("type", "status", "condition")
    column_default_sort = "inventory_number"
    form_columns = (
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
    date_order = (("acquired_on", "written_off_on"),)
    details_related = (("loans", ("family", "child", "issued_on", "due_on", "returned_on")),)


class LoanView(OporaModelView):
    column_list = ("unit", "family", "child", "issued_on", "due_on", "returned_on")
    column_filters = ("issued_on", "due_on", "returned_on", "unit.type")
    column_labels = {"unit.type": "Вид ТСР"}
    column_default_sort = ("issued_on", True)
    form_columns = (
        "unit",
        "family",
        "child",
        "issued_by",
        "issued_on",
        "due_on",
        "condition_on_issue",
        "returned_on",
        "condition_on_return",
        "missing_components",
        "notes",
    )
    date_order = (("issued_on", "due_on"), ("issued_on", "returned_on"))


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
    form_columns = ("family", "child", "type", "requested_on", "priority", "status", "notes")
