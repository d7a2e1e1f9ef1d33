"""The one secured ModelView every view of the panel inherits.

It decides access from the permission matrix, limits rows with the row scope
(in lists, counts, get_one, pickers and bulk actions alike), hides health data
from roles without the right, labels everything in Russian, turns database
refusals into Russian messages and archives instead of deleting.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    flash,
    request,
    url_for,
)
from flask_admin.actions import action
from flask_admin.babel import Translations
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import BaseForm
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import Date, DateTime, String, Text, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import with_parent
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField
from wtforms.validators import Optional
from wtforms.widgets import DateInput, DateTimeLocalInput

from models import db
from models.base import ArchivedMixin, utcnow
from workflows.scope import where_visible

from . import paging
from . import validators as v
from .export import ExportMixin
from .modelview.access import AccessMixin
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
from .permissions import allowed

# Constraint name fragments → what a clerk is told next to the save button.
CONSTRAINT_MESSAGES = {
    # PostgreSQL names the constraint; SQLite names the columns.
    "uq_loan_open_unit": "Эта единица уже выдана: у неё есть незакрытая выдача.",
    "loan.unit_id": "Эта единица уже выдана: у неё есть незакрытая выдача.",
    "uq_reservation_offered_unit": "Эта единица уже предложена другой семье.",
    "reservation.offered_unit_id": "Эта единица уже предложена другой семье.",
    "inventory_number": "Такой инвентарный номер уже есть.",
    "contract_number": "Договор с таким номером уже есть.",
    "snils": "Человек с таким СНИЛС уже есть в банке данных.",
    "six_months": "Плановое окончание — не позднее шести месяцев от начала сопровождения.",
    "specialist_id_starts_at": "У специалиста уже есть запись на это время.",
    "appointment.specialist_id": "У специалиста уже есть запись на это время.",
    "uq_user_account_username": "Такой логин уже занят.",
    "user_account.username": "Такой логин уже занят.",
    "uq_user_account_staff_id": "У этого сотрудника уже есть учётная запись.",
    "user_account.staff_id": "У этого сотрудника уже есть учётная запись.",
    "uq_review_open_case": "У случая уже запланирован мониторинг: сначала проведите его.",
    "review.case_id": "У случая уже запланирован мониторинг: сначала проведите его.",
    "_order": "Дата окончания не может быть раньше даты начала.",
    "uq_": "Такая запись уже есть.",
    "ck_": "Значения полей противоречат друг другу.",
}
STALE_MESSAGE = (
    "Запись изменил другой пользователь, пока вы её редактировали. "
    "Ниже — текущие значения; внесите свои изменения ещё раз."
)


FOREIGN_KEY_MESSAGE = (
    "Запись связана с другими данными, поэтому её нельзя удалить или изменить так."
)


def integrity_message(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    if "foreign key" in text:
        return FOREIGN_KEY_MESSAGE
    for fragment, message in CONSTRAINT_MESSAGES.items():
        if fragment in text:
            return message
    if "not null" in text:
        return "Не заполнено обязательное поле."
    return "База данных отклонила изменение: значения противоречат правилам."


class FormTranslations(Translations):
    """WTForms' Russian catalogue plus the messages Flask-Admin's own fields add."""

    EXTRA = {"Not a valid choice": "Выберите значение из списка."}

    def gettext(self, string: str) -> str:
        return self.EXTRA.get(string) or super().gettext(string)


class OporaForm(BaseForm):
    class Meta:
        _translations = FormTranslations()

        def get_translations(self, form):
            return self._translations


class OporaModelView(
    AccessMixin, RowScopeMixin, ListingMixin, FieldsMixin, LabelsMixin, ExportMixin, ModelView
):
    """Base of every table view: access, scope, labels, validation, archive."""

    # Declarative knobs for subclasses.
    date_order: tuple[tuple[str, str], ...] = ()
    details_related: tuple[tuple[str, tuple[str, ...]], ...] = ()

    form_base_class = OporaForm
    details_modal = False
    edit_modal = False
    create_modal = False
    column_display_actions = True
    details_template = "admin/opora_details.html"
    action_disallowed_list = ("delete",)

    def __init__(self, model, name: str, category: str | None = None, endpoint=None):
        self.column_labels = {**model_labels(model), **(self.column_labels or {})}
        self.column_choices = {**model_choices(model), **(self.column_choices or {})}
        self.form_choices = {**form_choices(model), **(self.form_choices or {})}
        self.form_args = self._default_form_args(model)
        self.form_ajax_refs = {**self._default_ajax_refs(model), **(self.form_ajax_refs or {})}
        self._name_relationship_filters(model)
        if issubclass(model, ArchivedMixin) or hasattr(model, "version"):
            self.form_excluded_columns = tuple(self.form_excluded_columns or ()) + tuple(
                c for c in ("archived_at", "version", "created_at") if hasattr(model, c)
            )
        super().__init__(model, db, name=name, category=category, endpoint=endpoint)

    # --- declarations derived from the model -------------------------------------

    def _default_form_args(self, model) -> dict:
        args: dict[str, dict] = {}
        for col in inspect(model).columns:
            extra = []
            if col.key == "snils":
                extra.append(v.Snils())
            elif col.key == "phone" or col.key.endswith("_phone"):
                extra += [Optional(), v.Phone()]
            elif col.key == "email":
                extra += [Optional(), v.email()]
            elif col.key in v.NAME_COLUMNS:
                extra.append(v.PersonName())
            elif isinstance(col.type, String) and "choices" not in col.info:
                extra.append(v.NoMarkup())
            if isinstance(col.type, Text):
                extra.append(v.text_length())
            field: dict = {}
            if isinstance(col.type, (Date, DateTime)):
                extra.append(v.DateInRange(past_only=col.key in v.PAST_DATE_COLUMNS))
                # The browser's own date input speaks Russian (дд.мм.гггг).
                if isinstance(col.type, DateTime):
                    field.update(widget=DateTimeLocalInput(), format="%Y-%m-%dT%H:%M")
                else:
                    field["widget"] = DateInput()
            if extra:
                field["validators"] = extra
            if field:
                args[col.key] = field
        for key, value in (self.form_args or {}).items():
            merged = args.setdefault(key, {})
            merged.update({k: val for k, val in value.items() if k != "validators"})
            merged["validators"] = merged.get("validators", []) + value.get("validators", [])
        return args

    def _showing_archive(self) -> bool:
        return request.args.get("archive") == "1"

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if hasattr(form, "seen_version") and obj is not None and request.method == "GET":
            form.seen_version.data = obj.version
        return form

    # --- validation and saving --------------------------------------------------------

    def scaffold_form(self):
        form_class = super().scaffold_form()
        if hasattr(self.model, "version"):
            # The version the user started editing from travels with the form.
            form_class.seen_version = HiddenField()
        return form_class

    def update_model(self, form, model) -> bool:
        """Refuse a save made from a stale copy and show the current values instead."""
        seen = getattr(form, "seen_version", None)
        if seen is not None:
            if str(seen.data) != str(model.version):
                flash(STALE_MESSAGE, "error")
                form.process(formdata=None, obj=model)
                for field in form:
                    # Date inputs render raw_data first: drop the refused POST's text.
                    field.raw_data = None
                form.seen_version.data = model.version
                return False
            delattr(form, "seen_version")
        return super().update_model(form, model)

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if not valid or request.method != "POST":
            return valid
        for start, end in self.date_order:
            first, last = getattr(form, start, None), getattr(form, end, None)
            if first is None or last is None or not first.data or not last.data:
                continue
            if last.data < first.data:
                last.errors = list(last.errors) + [
                    f"Не может быть раньше поля «{self.column_labels.get(start, start)}»."
                ]
                valid = False
        return valid

    def handle_view_exception(self, exc):
        if isinstance(exc, IntegrityError):
            flash(integrity_message(exc), "error")
            return True
        if isinstance(exc, StaleDataError):
            flash(STALE_MESSAGE, "error")
            return True
        if isinstance(exc, ValueError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)

    def delete_model(self, model) -> bool:
        """Archive what must never be lost; delete the rest."""
        if not isinstance(model, ArchivedMixin):
            return super().delete_model(model)
        try:
            model.archived_at = utcnow()
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            if not self.handle_view_exception(exc):
                raise
            return False
        return True

    @action(
        "archive",
        "В архив",
        "Перенести выбранные записи в архив?",
    )
    def action_archive(self, ids):
        rows = self.get_query().filter(self._pk_in(ids)).all()
        for row in rows:
            self.delete_model(row)
        flash(f"Перенесено в архив: {len(rows)}.", "success")

    def _pk_in(self, ids):
        """`pk IN ids` with the ids from the form converted to the key's type."""
        pk = inspect(self.model).primary_key[0]
        keys = []
        for raw in ids:
            try:
                keys.append(pk.type.python_type(raw))
            except (TypeError, ValueError):
                continue
        return pk.in_(keys)

    def is_action_allowed(self, name: str) -> bool:
        if name == "archive":
            return self.can_delete and issubclass(self.model, ArchivedMixin)
        if name == "restore":
            return self.role == "admin" and issubclass(self.model, ArchivedMixin)
        return super().is_action_allowed(name)

    @action("restore", "Восстановить из архива", "Вернуть выбранные записи из архива?")
    def action_restore(self, ids):
        rows = self._visible_query().filter(self._pk_in(ids)).all()
        for row in rows:
            row.archived_at = None
        db.session.commit()
        flash(f"Восстановлено из архива: {len(rows)}.", "success")

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
