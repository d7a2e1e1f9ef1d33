"""Администрирование: login accounts and the audit log."""

from __future__ import annotations

from flask import flash, request
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup
from wtforms import PasswordField
from wtforms.validators import Length, Optional

from models import db
from models.accounts import MIN_PASSWORD_LENGTH
from workflows.accounts import password_problem, set_temporary_password

from .base import OporaModelView

OWN_ACCOUNT = "Свою учётную запись отключить нельзя: войти в панель было бы некому."


class UserView(OporaModelView):
    """Accounts are disabled, never deleted: the audit trail and the history name them.
    «Отключить» (or unticking «Активна») ends the user's sessions; «Включить» undoes it."""

    column_list = ("username", "role", "staff", "active", "last_login_at")
    column_searchable_list = ("username",)
    column_filters = ("role", "active")
    column_default_sort = "username"
    form_columns = ("username", "role", "staff", "active", "new_password")
    form_extra_fields = {
        "new_password": PasswordField(
            "Новый пароль",
            validators=[
                Optional(),
                Length(
                    min=MIN_PASSWORD_LENGTH,
                    message=f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов.",
                ),
            ],
            description=(
                "Оставьте пустым, чтобы не менять. Это временный пароль: при входе "
                "пользователь задаст свой. Смена пароля завершает все сеансы пользователя."
            ),
        )
    }
    column_details_list = (
        "username",
        "role",
        "staff",
        "active",
        "must_change_password",
        "created_at",
        "last_login_at",
    )

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        password = getattr(form, "new_password", None)
        creating = request.endpoint == f"{self.endpoint}.create_view"
        if valid and password is not None and not password.data and creating:
            password.errors = [*password.errors, "Задайте пароль новой учётной записи."]
            valid = False
        if valid and password is not None and password.data:
            problem = password_problem(password.data, form.username.data or "")
            if problem:
                password.errors = [*password.errors, problem]
                valid = False
        active = getattr(form, "active", None)
        editing_self = request.args.get("id") == str(current_user.id) and not creating
        if valid and active is not None and not active.data and editing_self:
            active.errors = [*active.errors, OWN_ACCOUNT]
            valid = False
        return valid

    def is_action_allowed(self, name: str) -> bool:
        if name in ("disable", "enable"):
            return self.can_edit
        return super().is_action_allowed(name)

    @action(
        "disable",
        "Отключить",
        "Отключить выбранные учётные записи? Их сеансы завершатся, войти они не смогут.",
    )
    def action_disable(self, ids):
        self._set_active(ids, False)

    @action("enable", "Включить", "Включить выбранные учётные записи?")
    def action_enable(self, ids):
        self._set_active(ids, True)

    def _set_active(self, ids, active: bool) -> None:
        changed = 0
        for user in self.get_query().filter(self._pk_in(ids)).all():
            if not active and user.id == current_user.id:
                flash(OWN_ACCOUNT, "error")
                continue
            if user.active != active:
                user.active = active  # disabling ends the sessions (models/accounts.py)
                changed += 1
        db.session.commit()
        if changed:
            words = "Отключено" if not active else "Включено"
            flash(f"{words} учётных записей: {changed}.", "success")

    def on_model_change(self, form, model, is_created):
        # A password, or disabling, saved here ends the user's sessions
        # (models/accounts.py); a password the administrator chose for someone
        # else is temporary.
        if form.new_password.data:
            temporary = is_created or model.id != current_user.id
            set_temporary_password(model, form.new_password.data, temporary=temporary)

    def after_model_change(self, form, model, is_created):
        if form.new_password.data and not is_created:
            flash("Пароль изменён; прежние сеансы пользователя завершены.", "success")


def _changes(view, context, model, name):
    if not model.changes:
        return ""
    rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            field,
            "" if values.get("old") is None else values.get("old"),
            "" if values.get("new") is None else values.get("new"),
        )
        for field, values in model.changes.items()
    )
    return Markup(
        '<table class="table table-sm mb-0"><thead><tr><th>Поле</th><th>Было</th>'
        "<th>Стало</th></tr></thead><tbody>{}</tbody></table>"
    ).format(rows)


class AuditRecordView(OporaModelView):
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("at", "username", "action", "table_name", "row_id", "ip")
    column_searchable_list = ("username", "table_name", "row_id")
    column_filters = ("at", "action", "table_name", "username")
    column_default_sort = ("at", True)
    column_details_list = ("at", "username", "ip", "action", "table_name", "row_id", "changes")
    simple_list_pager = True
    column_formatters_detail = {"changes": _changes}
