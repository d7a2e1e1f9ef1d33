"""Справочники: the centre's structure, services, programmes and partners."""

from __future__ import annotations

from flask import flash, g, url_for
from flask_login import current_user
from markupsafe import Markup

from models import db
from workflows.accounts import retire_staff
from workflows.dates import centre_today

from .base import OporaModelView

ACCOUNT_DISABLED = "Учётная запись «{username}» отключена: её сеансы завершены."
NOT_WORKING = (
    "{staff}: отметка «Работает» снята — новая работа поручается только после того, "
    "как её поставят в карточке сотрудника."
)
STILL_DISABLED = (
    "{staff}: учётная запись «{username}» остаётся отключённой, отметка «Работает» снята. "
    "Если сотрудник снова работает, поставьте отметку в карточке и включите учётную запись "
    "отдельно: «Администрирование → Учётные записи», действие «Включить»."
)


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
        "notice_digest",
        "active",
    )
    column_details_list = (*form_columns, "user")
    confirm_archive = (
        "Перенести сотрудника в архив? Он больше не получит новой работы, его учётная запись "
        "будет отключена, а сеансы завершатся. Карточку можно будет восстановить."
    )
    confirm_restore = (
        "Вернуть сотрудника из архива? Учётная запись останется отключённой, отметка "
        "«Работает» — снятой: каждое включают отдельно."
    )

    def on_model_delete(self, model):
        # Archived staff no longer work here: no new tasks, cases or receptions go to them,
        # and their login account is disabled (its sessions end).
        # (The view serves every request: what this one disabled is kept in `g`.)
        g.disabled_account = retire_staff(db.session, current_user, model)
        return super().on_model_delete(model)

    def delete_model(self, model) -> bool:
        g.disabled_account = None
        archived = super().delete_model(model)
        disabled = g.pop("disabled_account", None)
        if archived and disabled is not None:
            flash(ACCOUNT_DISABLED.format(username=disabled.username), "info")
        return archived

    def after_restore(self, row) -> None:
        """A restored member of staff is back in the lists, but starts no work and signs in
        to nothing until the administrator says so, each by its own act."""
        account = row.user
        if account is not None and not account.active:
            flash(STILL_DISABLED.format(staff=row, username=account.username), "info")
        elif not row.active:
            flash(NOT_WORKING.format(staff=row), "info")


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
    details_related = (
        ("contacts", ("last_name", "first_name", "middle_name", "position", "phone", "email")),
        ("agreements", ("number", "signed_on", "valid_to", "status")),
    )


class PartnerContactView(OporaModelView):
    """A partner's contact persons: reference data the admin and the coordinator keep;
    «Удалить» archives (the referrals addressed to them still name them)."""

    column_list = ("partner", "last_name", "first_name", "middle_name", "position", "phone")
    column_searchable_list = ("last_name", "position", "partner.name")
    column_labels = {"partner.name": "Партнёр", "partner.kind": "Тип партнёра"}
    column_filters = ("partner", "partner.kind")
    column_default_sort = "last_name"
    form_columns = (
        "partner",
        "last_name",
        "first_name",
        "middle_name",
        "position",
        "phone",
        "email",
    )


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

    def details_actions(self, model):
        from .permissions import allowed

        if not allowed(self.role, "agreement_ledger", "details"):
            return []
        return [
            (
                "Пакет к продлению",
                url_for("agreement_ledger.ledger", agreement_id=model.id),
                "open-ledger",
            )
        ]


class CouncilMeetingView(OporaModelView):
    """The meetings' table (the administrator's): the council's work itself — agenda
    cases, decisions, the protocol — is on the council's page (admin_views/council.py)."""

    column_list = ("held_on", "district", "agenda", "recorded_by")
    column_searchable_list = ("agenda", "decisions")
    column_filters = ("held_on", "district")
    column_default_sort = ("held_on", True)
    column_details_list = (
        "held_on",
        "district",
        "recorded_by",
        "staff",
        "contacts",
        "partners",
        "agenda",
        "decisions",
    )
    form_columns = ("held_on", "district", "staff", "contacts", "partners", "agenda", "decisions")

    def details_actions(self, model):
        from .permissions import allowed

        if not allowed(self.role, "council", "details"):
            return []
        return [
            ("Страница заседания", url_for("council.meeting", meeting_id=model.id), "open-meeting"),
            ("Протокол", url_for("council.protocol", meeting_id=model.id), "print-protocol"),
        ]
