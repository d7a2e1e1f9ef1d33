"""СНИЛС, a person's insurance number: normalised, formatted and checked (Pension Fund rules).

The data bank stores it formatted, «123-456-789 01». The panel's forms, the
workflows that register people and the seed generators all use these functions.
"""

from __future__ import annotations

import re

from .errors import WorkflowError

SNILS_DIGITS = re.compile(r"^\d{11}$")
# Numbers up to 001-001-998 were issued before the control number existed.
LAST_UNCHECKED_NUMBER = 1_001_998

WRONG_LENGTH = "СНИЛС — 11 цифр, например 112-233-445 95."
WRONG_CHECKSUM = "Неверный СНИЛС: не сходится контрольное число."


def snils_checksum(digits: str) -> int:
    """The control number of a SNILS from its first nine digits."""
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    if total < 100:
        return total
    total %= 101
    return 0 if total in (100, 101) else total


def normalise_snils(value: str | None) -> str:
    """The SNILS without spaces and hyphens."""
    return re.sub(r"[\s\-]", "", value or "")


def format_snils(digits: str) -> str:
    """Eleven digits as the data bank stores them: «123-456-789 01»."""
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def snils_problem(value: str) -> str | None:
    """What is wrong with a written SNILS, in Russian; None when it is a valid one."""
    digits = normalise_snils(value)
    if not SNILS_DIGITS.match(digits):
        return WRONG_LENGTH
    if int(digits[:9]) > LAST_UNCHECKED_NUMBER and snils_checksum(digits) != int(digits[9:]):
        return WRONG_CHECKSUM
    return None


def is_valid_snils(value: str) -> bool:
    return snils_problem(value) is None


def checked_snils(value: str | None, field: str = "snils") -> str | None:
    """A written SNILS as stored (formatted), None when empty; a wrong one is refused."""
    if value is None or not value.strip():
        return None
    problem = snils_problem(value)
    if problem:
        raise WorkflowError(problem, field)
    return format_snils(normalise_snils(value))
