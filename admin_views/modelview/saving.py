"""Saving: the forms and what a save answers — validators from the column types, dates in
order, a save from a stale copy refused, and the database's refusals told in Russian."""

from __future__ import annotations

import logging

from flask import flash, request
from flask_admin.babel import Translations
from flask_admin.form import BaseForm
from sqlalchemy import BigInteger, Date, DateTime, Integer, String, Text, inspect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import DateInput, DateTimeLocalInput

from models.base import ArchivedMixin
from models.constraints import integrity_message
from models.errors import WorkflowError

from .. import validators as v
from ..drafts import FilledFromDraft, draft_filled
from ..forms import MAX_BIG_ID, MAX_ID, RefuseControlCharacters

STALE_MESSAGE = (
    "Запись изменил другой пользователь, пока вы её редактировали. "
    "Ниже — текущие значения; внесите свои изменения ещё раз."
)
OUT_OF_RANGE = "Слишком большое число для этого поля."
DATABASE_BUSY = (
    "База данных занята, попробуйте ещё раз: изменения не сохранены, введённое осталось "
    "в форме — нажмите «Сохранить» через несколько секунд."
)
SAVE_FAILED = (
    "Не удалось сохранить: попробуйте ещё раз. Изменения не сохранены, введённое осталось "
    "в форме. Если не получится снова, сообщите администратору."
)
# A write that waited for another one and gave up (SQLite's busy timeout; PostgreSQL's
# lock timeout, a deadlock or a serialisation failure): trying again is the answer.
BUSY_SQLSTATES = {"55P03", "40P01", "40001"}
BUSY_WORDS = ("database is locked", "database table is locked")

log = logging.getLogger(__name__)


def database_refusal(error: SQLAlchemyError) -> str:
    """The one calm Russian message for a database error that reached a page (other than
    a broken constraint, which models.constraints names): «busy, try again» or «could
    not save». The error itself, SQL and all, goes to the log only (its values are
    hidden: hide_parameters)."""
    log.error("save refused by the database", exc_info=error)
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) in BUSY_SQLSTATES or any(
        words in str(original).lower() for words in BUSY_WORDS
    ):
        return DATABASE_BUSY
    return SAVE_FAILED


class FormTranslations(Translations):
    """WTForms' Russian catalogue plus the messages Flask-Admin's own fields add."""

    EXTRA = {"Not a valid choice": "Выберите значение из списка."}

    def gettext(self, string: str) -> str:
        return self.EXTRA.get(string) or super().gettext(string)


class OporaForm(BaseForm):
    class Meta(FilledFromDraft, RefuseControlCharacters):
        _translations = FormTranslations()

        def get_translations(self, form):
            return self._translations


def text_validators(col) -> list:
    """What a text column's value must look like, by the column's name first (SNILS, phone,
    e-mail, a person's name), else any free string holds no markup."""
    if col.key == "snils":
        return [v.Snils()]
    if col.key == "phone" or col.key.endswith("_phone"):
        return [Optional(), v.Phone()]
    if col.key == "email":
        return [Optional(), v.email()]
    if col.key in v.NAME_COLUMNS:
        return [v.PersonName()]
    if isinstance(col.type, String) and "choices" not in col.info:
        return [v.NoMarkup()]
    return []


def column_validators(col) -> list:
    """The validators a column's name and type call for: its text rule, a long text's
    length, a number within what the column holds, a date within sensible years."""
    extra = text_validators(col)
    if isinstance(col.type, Text):
        extra.append(v.text_length())
    if isinstance(col.type, Integer) and not col.foreign_keys and not col.primary_key:
        # A number the column cannot hold is a message by the field, not a
        # database error after the save.
        largest = MAX_BIG_ID if isinstance(col.type, BigInteger) else MAX_ID
        extra.append(NumberRange(min=-largest, max=largest, message=OUT_OF_RANGE))
    if isinstance(col.type, (Date, DateTime)):
        extra.append(v.DateInRange(past_only=col.key in v.PAST_DATE_COLUMNS))
    return extra


def column_widget(col) -> dict:
    """The browser's own date (or date and time) input for a date column: it speaks
    Russian (дд.мм.гггг). Nothing for other columns."""
    if isinstance(col.type, DateTime):
        return {"widget": DateTimeLocalInput(), "format": "%Y-%m-%dT%H:%M"}
    if isinstance(col.type, Date):
        return {"widget": DateInput()}
    return {}


class SavingMixin:
    """Form construction, validation and saving, with refusals as Russian messages."""

    form_base_class = OporaForm
    date_order: tuple[tuple[str, str], ...] = ()  # (start, end) fields: end not before start

    def _excluded_bookkeeping(self, model):
        """The form's excluded columns plus those the system keeps (archive mark, version)."""
        if not (issubclass(model, ArchivedMixin) or hasattr(model, "version")):
            return self.form_excluded_columns
        return tuple(self.form_excluded_columns or ()) + tuple(
            c for c in ("archived_at", "version", "created_at") if hasattr(model, c)
        )

    def _default_form_args(self, model) -> dict:
        """Each column's validators and widget from its name and type, then the view's own
        form_args over them (their validators added after the column's)."""
        args: dict[str, dict] = {}
        for col in inspect(model).columns:
            field = column_widget(col)
            extra = column_validators(col)
            if extra:
                field["validators"] = extra
            if field:
                args[col.key] = field
        for key, value in (self.form_args or {}).items():
            merged = args.setdefault(key, {})
            merged.update({k: val for k, val in value.items() if k != "validators"})
            merged["validators"] = merged.get("validators", []) + value.get("validators", [])
        return args

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        # A restored draft keeps the version its user started from: a record changed
        # meanwhile by someone else is then refused as stale, not overwritten.
        if (
            hasattr(form, "seen_version")
            and obj is not None
            and request.method == "GET"
            and not draft_filled()
        ):
            form.seen_version.data = obj.version
        return form

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
                last.errors = [
                    *last.errors,
                    f"Не может быть раньше поля «{self.column_labels.get(start, start)}».",
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
        if isinstance(exc, WorkflowError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, SQLAlchemyError):
            flash(database_refusal(exc), "error")
            return True
        if super().handle_view_exception(exc):
            return True
        # Flask-Admin would flash «Failed to update record.» with str(exc): whatever went
        # wrong is told calmly, and only the log keeps what it was.
        log.error("save failed", exc_info=exc)
        flash(SAVE_FAILED, "error")
        return True
