"""How the workflow pages read input: Flask-WTF forms built from these field helpers.

Every page's form is a PageForm (a FlaskForm), so its CSRF token is checked with the form as well
as by the app-wide CSRFProtect, and its messages come from WTForms' Russian catalogue
(the app's locale). A form checks the shape of what was typed (a date is a date, an
id is a number a table can hold); the rules of the work are the workflows' to refuse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, Self

from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.routing import IntegerConverter
from wtforms import DateField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from models import PartnerContact, Staff, db
from models.base import full_name
from models.live import active_for_new_work, new_work_refusal
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from . import validators as v
from .drafts import FilledFromDraft

REQUIRED = "Обязательное поле."
# The largest value of an integer column (PostgreSQL's integer, as every id here): a
# larger number in a URL or a form names no row and must not reach the database.
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1  # a bigint column's (the audit trail's ids)
# Characters nobody types: C0 controls but tab and line breaks, DEL and the C1 range. They
# arrive pasted from other programs or forged; PostgreSQL refuses NUL in any text outright,
# and the others would be stored invisible and printed as garbage.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = (
    "В тексте есть невидимый служебный символ (бывает при копировании из другой "
    "программы). Наберите текст заново или удалите лишнее и сохраните ещё раз."
)


def required() -> DataRequired:
    """Something must be typed or chosen (an empty choice is refused too)."""
    return DataRequired(REQUIRED)


def answered(message: str = REQUIRED) -> InputRequired:
    """Something must be sent: for a picker whose «— выберите —» is a value, so that the
    workflow says what is missing."""
    return InputRequired(message)


def date_field(
    label: str, *validators, required: bool = False, past_only: bool = False, **kw
) -> DateField:
    """A date as a browser's date input sends it. Required means something was typed:
    a mistyped date is «Неверное значение даты.», not «Обязательное поле.»."""
    presence = InputRequired(REQUIRED) if required else Optional()
    return DateField(
        label,
        validators=[presence, *validators, v.DateInRange(past_only=past_only)],
        format="%Y-%m-%d",
        **kw,
    )


def text_field(label: str, *validators, **kw) -> StringField:
    """One line of text that is shown on other pages and printed: no markup."""
    return StringField(label, validators=[*validators, Length(max=255), v.NoMarkup()], **kw)


def text_area(label: str, *validators, no_markup: bool = False, **kw) -> TextAreaField:
    """A longer text, within what a column holds; `no_markup` refuses «<» and «>» in a
    text that is printed."""
    checks = [*validators, v.text_length(), *([v.NoMarkup()] if no_markup else [])]
    return TextAreaField(label, validators=checks, **kw)


def has_control_characters(value) -> bool:
    """Does `value` (a text, or anything else: then no) hold a character nobody types?"""
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


def without_control_characters(value: str | None) -> str:
    """A search term or filter as typed, with such characters read as spaces: a search
    is answered calmly, never refused."""
    return CONTROL_CHARACTERS.sub(" ", value or "")


class NoControlCharacters:
    """Refuse a text holding a control character (see CONTROL_CHARACTERS), before the
    field's other checks judge what cannot be shown."""

    def __call__(self, form, field):
        if has_control_characters(field.data):
            raise StopValidation(CONTROL_MESSAGE)


def parse_id(raw: str | None, largest: int = MAX_ID) -> int | None:
    """A row id (or version) from a URL or a form: a whole number an integer column can
    hold (`largest`: a bigint's for the audit trail), else None — a forged or mistyped
    id names no row."""
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(largest)):
        return None
    number = int(raw)
    return number if number <= largest else None


class IdConverter(IntegerConverter):
    """`<int:…>` in the panel's routes: a number an integer column can hold. A larger one
    names no row, so the route does not match and the answer is 404 before any page
    (or the database) reads it."""

    # `min` and `max` shadow the builtins: they are Werkzeug's argument names.
    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits, min, max, signed)


def parse_date(raw: str | None) -> dt.date | None:
    """A date from a URL (ISO, as date inputs send it) within the years a clerk can mean;
    None when it is missing or is not such a date."""
    try:
        day = dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return day if v.EARLIEST_DATE <= day <= v.LATEST_DATE else None


class IdField(Field):
    """A row id sent by a picker or a hidden input, read with `parse_id`: a value that
    names no row is None, which the workflow refuses in Russian."""

    widget = HiddenInput()

    def process_formdata(self, valuelist):
        self.data = parse_id(valuelist[0]) if valuelist else None

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


NOT_OFFERED = "Выберите значение из списка."


def closed_to_new_work(model, row_id) -> str | None:
    """Why the row `row_id` of `model` may not be chosen for new work (archived, or a
    member of staff who left), when the user may see it; None otherwise."""
    if not isinstance(row_id, int) or not 0 < row_id <= MAX_ID:
        return None
    row = db.session.scalar(
        select(model).where(model.id == row_id, where_visible(model, current_user))
    )
    return None if row is None else new_work_refusal(row)


class RowField(SelectField):
    """A picker of rows of `model` by id, offering what the page put in its choices. An id
    it did not offer is refused by the field: with the reason when it names a row closed
    to new work (models/live.py: a forged form, or a page left open while the row was
    archived), else «Выберите значение из списка.»."""

    def __init__(self, label=None, validators=None, *, model, **kwargs):
        kwargs.setdefault("coerce", int)
        super().__init__(label, validators, **kwargs)
        self.model = model

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(
                closed_to_new_work(self.model, self.data) or NOT_OFFERED
            ) from None


class RefuseControlCharacters:
    """A form's Meta that puts NoControlCharacters first on each of its text fields (a
    StringField, so a text area and a password too), however the form declared them:
    the one check of every form, the panel's tables (OporaForm) and the pages' alike."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):
            # A new list: the declared one is shared by every instance of the form.
            field.validators = [NoControlCharacters(), *field.validators]
        return field


class PageForm(FlaskForm):
    """The form of every page that is not a table."""

    class Meta(FilledFromDraft, RefuseControlCharacters):
        pass


class WorkflowForm(PageForm):
    """The form of a page that draws its inputs by hand and shows one refusal at a time
    (admin/workflow/_macros.html): what it cannot read is that refusal."""

    def checked(self) -> Self:
        """The form, when every field reads; otherwise the first field's error is
        raised as a refusal of that field, inside the change it belongs to."""
        if not self.validate():
            name, errors = next(iter(self.errors.items()))
            raise WorkflowError(errors[0], field=name)
        return self


def live_partner_contacts() -> list[PartnerContact]:
    """The partners' contact persons new work may name (referrals, councils, raids), each
    with its partner loaded, by partner and surname: one query for a picker."""
    return list(
        db.session.scalars(
            select(PartnerContact)
            .options(joinedload(PartnerContact.partner))
            .where(active_for_new_work(PartnerContact))
            .order_by(PartnerContact.partner_id, PartnerContact.last_name)
        )
    )


def partner_contact_choices() -> list[tuple[int, str]]:
    """`live_partner_contacts` as a picker's (id, «Партнёр: Фамилия И. О.») pairs."""
    return [(c.id, f"{c.partner.name}: {c}") for c in live_partner_contacts()]


def live_choices(model: Any, *order: Any) -> list[tuple[int, str]]:
    """The rows of `model` (with a `name`) new work may name, as a picker's (id, name)
    pairs in `order`: the two columns, not a row object each."""
    query = select(model.id, model.name).where(active_for_new_work(model)).order_by(*order)
    return [(row_id, name) for row_id, name in db.session.execute(query)]


def live_staff_choices() -> list[tuple[int, str]]:
    """The staff new work may name, as a picker's (id, full name) pairs by name: the
    columns alone, not a row object per member (a national centre has thousands)."""
    rows = db.session.execute(
        select(Staff.id, Staff.last_name, Staff.first_name, Staff.middle_name)
        .where(active_for_new_work(Staff))
        .order_by(Staff.last_name, Staff.first_name, Staff.id)
    )
    return [(staff_id, full_name(last, first, middle)) for staff_id, last, first, middle in rows]


def picker_options(rows: Iterable[tuple[object, object]], chosen: Iterable[object] = ()) -> Markup:
    """A picker's <option>s, for a template: (value, label) pairs, those whose value is
    among `chosen` (compared as text, as a form sends them) chosen. Built here, not by a
    template loop: a national centre's staff picker has thousands of options."""
    picked = {str(value) for value in chosen}
    return Markup(
        "".join(
            f'<option value="{escape(value)}"{" selected" if str(value) in picked else ""}>'
            f"{escape(label)}</option>"
            for value, label in rows
        )
    )
