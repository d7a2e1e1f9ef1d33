"""Form validators with Russian messages. Each checks one rule of the data bank."""

from __future__ import annotations

import datetime as dt
import re

from wtforms.validators import Email, Length, StopValidation, ValidationError

from workflows.dates import centre_today

SNILS_DIGITS = re.compile(r"^\d{11}$")
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


def snils_checksum(digits: str) -> int:
    """The control number of a SNILS (Pension Fund rules)."""
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    if total < 100:
        return total
    total %= 101
    return 0 if total in (100, 101) else total


def normalise_snils(value: str) -> str:
    return re.sub(r"[\s\-]", "", value or "")


def format_snils(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def is_valid_snils(value: str) -> bool:
    digits = normalise_snils(value)
    if not SNILS_DIGITS.match(digits):
        return False
    # Numbers up to 001-001-998 were issued before checksums existed.
    if int(digits[:9]) <= 1001998:
        return True
    return snils_checksum(digits) == int(digits[9:])


class Snils:
    def __call__(self, form, field):
        if not field.data:
            field.data = None
            return
        digits = normalise_snils(field.data)
        if not SNILS_DIGITS.match(digits):
            raise ValidationError("СНИЛС — 11 цифр, например 112-233-445 95.")
        if not is_valid_snils(digits):
            raise ValidationError("Неверный СНИЛС: не сходится контрольное число.")
        field.data = format_snils(digits)


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
