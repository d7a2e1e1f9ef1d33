"""Справочники: the centre's structure, services, programmes and partners."""

from __future__ import annotations

from markupsafe import Markup

from workflows.dates import centre_today

from .base import OporaModelView


class DepartmentView(OporaModelView):
    column_list = ("code", "name", "head")
    column_searchable_list = ("code", "name")
    column_default_sort = "code"
    form_columns = ("code", "name", "head")


class DistrictView(OporaModelView):
    column_list = ("name", "responsible_worker", "territory")
    column_searchable_list = ("name", "territory")
    column_default_sort = "name"
    form_columns = ("name", "territory", "responsible_worker")


class StaffView(OporaModelView):
    column_list = (
        "last_name",
        "first_name",
        "middle_name",
        "position",
        "role",
        "department",
        "phone",
        "active",
    )
    column_searchable_list = ("last_name", "first_name", "position")
    column_filters = ("role", "department", "active", "districts")
    column_default_sort = "last_name"
    form_columns = (
        "last_name",
        "first_name",
        "middle_name",
        "position",
        "role",
        "department",
        "districts",
        "phone",
        "email",
        "active",
    )
    column_details_list = form_columns + ("user",)

    def on_model_delete(self, model):
        # Archived staff no longer work here: no new tasks, cases or receptions go to them.
        model.active = False
        return super().on_model_delete(model)


class ServiceView(OporaModelView):
    column_list = ("name", "kind", "guaranteed")
    column_searchable_list = ("name",)
    column_filters = ("kind", "guaranteed")
    column_default_sort = "name"
    form_columns = ("kind", "name", "guaranteed")


class ProgrammeView(OporaModelView):
    column_list = ("name", "active")
    column_searchable_list = ("name",)
    column_filters = ("active",)
    column_default_sort = "name"
    form_columns = ("name", "description", "active")
    details_related = (("enrolments", ("family", "enrolled_on", "left_on")),)


class PartnerView(OporaModelView):
    column_list = ("name", "kind", "phone", "address")
    column_searchable_list = ("name", "address")
    column_filters = ("kind",)
    column_default_sort = "name"
    form_columns = ("name", "kind", "address", "phone", "email")
    column_details_list = form_columns
    details_related = (("agreements", ("number", "signed_on", "valid_to", "status")),)


def _expiry(view, context, model, name):
    if model.valid_to is None:
        return ""
    text = model.valid_to.strftime("%d.%m.%Y")
    if model.expires_soon(centre_today()):
        return Markup('<span class="badge badge-warning">{} — истекает</span>').format(text)
    if model.status == "active" and model.valid_to < centre_today():
        return Markup('<span class="badge badge-danger">{} — истекло</span>').format(text)
    return text


class PartnerAgreementView(OporaModelView):
    column_list = (
        "partner",
        "number",
        "signed_on",
        "valid_from",
        "valid_to",
        "status",
        "contact_person",
    )
    column_searchable_list = ("number", "subject", "contact_person")
    column_filters = ("status", "partner", "valid_to", "partner.kind")
    column_labels = {"partner.kind": "Тип партнёра"}
    column_default_sort = ("valid_to", False)
    column_formatters = {"valid_to": _expiry}
    form_columns = (
        "partner",
        "number",
        "signed_on",
        "valid_from",
        "valid_to",
        "subject",
        "contact_person",
        "status",
    )
    date_order = (("valid_from", "valid_to"), ("signed_on", "valid_to"))


class CouncilMeetingView(OporaModelView):
    column_list = ("held_on", "district", "agenda")
    column_searchable_list = ("agenda", "decisions")
    column_filters = ("held_on", "district")
    column_default_sort = ("held_on", True)
    form_columns = ("held_on", "district", "staff", "partners", "agenda", "decisions")


class EventView(OporaModelView):
    column_list = ("held_on", "kind", "title", "organiser")
    column_searchable_list = ("title",)
    column_filters = ("kind", "held_on", "organiser")
    column_default_sort = ("held_on", True)
    form_columns = ("kind", "title", "held_on", "organiser", "description", "families")
