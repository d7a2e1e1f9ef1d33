"""Saving: the forms and what a save answers — validators from the column types, dates in
order, a save from a stale copy refused, and the database's refusals told in Russian."""

from __future__ import annotations

from flask import flash, request
from flask_admin.babel import Translations
from flask_admin.form import BaseForm
from sqlalchemy import Date, DateTime, String, Text, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField
from wtforms.validators import Optional
from wtforms.widgets import DateInput, DateTimeLocalInput

from models.base import ArchivedMixin
from models.constraints import integrity_message
from models.errors import WorkflowError

from .. import validators as v
from ..forms import RefuseControlCharacters

STALE_MESSAGE = (
    "Запись изменил другой пользователь, пока вы её редактировали. "
    "Ниже — текущие значения; внесите свои изменения ещё раз."
)


class FormTranslations(Translations):
    """WTForms' Russian catalogue plus the messages Flask-Admin's own fields add."""

    EXTRA = {"Not a valid choice": "Выберите значение из списка."}

    def gettext(self, string: str) -> str:
        return self.EXTRA.get(string) or super().gettext(string)


class OporaForm(BaseForm):
    class Meta(RefuseControlCharacters):
        _translations = FormTranslations()

        def get_translations(self, form):
            return self._translations


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

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if hasattr(form, "seen_version") and obj is not None and request.method == "GET":
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
        if isinstance(exc, WorkflowError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)
