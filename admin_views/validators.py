"""Form validators with Russian messages. Each checks one rule of the data bank."""

from __future__ import annotations

import datetime as dt
import re

from wtforms.validators import Email, Length, StopValidation, ValidationError

from models.snils import format_snils, normalise_snils, snils_problem
from workflows.dates import centre_today

PHONE = re.compile(r"^\+?[\d\s()\-]{5,20}$")
PERSON_NAME = re.compile(r"^[А-Яа-яЁёA-Za-z][А-Яа-яЁёA-Za-z\-' .]*$")
MARKUP = re.compile(r"[<>]")

# Columns whose value is a date that cannot lie in the future.
PAST_DATE_COLUMNS = {
    "birth_date",
    "given_on",
    "application_date",
    "assessed_on",
    "visited_on",
    "signed_on",
    "issued_on",
    "returned_on",
    "decision_date",
    "contract_date",
}
NAME_COLUMNS = {"last_name", "first_name", "middle_name", "surname"}
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
MAX_TEXT_LENGTH = 5000


class Snils:
    """A SNILS with a correct control number (models/snils.py), stored formatted."""

    def __call__(self, form, field):
        if not field.data:
            field.data = None
            return
        problem = snils_problem(field.data)
        if problem:
            raise ValidationError(problem)
        field.data = format_snils(normalise_snils(field.data))


class Phone:
    def __call__(self, form, field):
        if field.data and not PHONE.match(field.data.strip()):
            raise ValidationError(
                "Телефон: цифры, пробелы, скобки и дефисы, например +7 (816) 212-34-56."
            )


class PersonName:
    def __call__(self, form, field):
        value = (field.data or "").strip()
        field.data = value or None
        if value and not PERSON_NAME.match(value):
            raise ValidationError("Только буквы, пробел, дефис и апостроф.")


class NoMarkup:
    def __call__(self, form, field):
        if field.data and MARKUP.search(field.data):
            raise ValidationError("Символы «<» и «>» здесь недопустимы.")


class DateInRange:
    """Dates a clerk can mean: from 1900 to 2100, and not in the future where it must not be."""

    def __init__(self, past_only: bool = False):
        self.past_only = past_only

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if isinstance(value, dt.datetime):
            value = value.date()
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            raise StopValidation("Дата должна быть между 01.01.1900 и 31.12.2100.")
        if self.past_only and value > centre_today():
            raise StopValidation("Дата не может быть в будущем.")


def email() -> Email:
    return Email(message="Неверный адрес электронной почты.")


def text_length() -> Length:
    return Length(max=MAX_TEXT_LENGTH, message=f"Не длиннее {MAX_TEXT_LENGTH} символов.")
