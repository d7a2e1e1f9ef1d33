"""A legal entity's requisites checked as the tax service issues them: ИНН, ОГРН, КПП, the
bank's БИК and accounts. Each `*_problem` returns a Russian message, or None when valid."""

from __future__ import annotations

import re

DIGITS = re.compile(r"^\d+$")
KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
# The weights of an organisation's ten-digit ИНН control digit.
INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def _digits(value: str, length: int, what: str, example: str) -> str | None:
    if not DIGITS.match(value) or len(value) != length:
        return f"{what} организации — {length} цифр, например {example}."
    return None


def inn_problem(value: str) -> str | None:
    """An organisation's ИНН: ten digits whose last is the control digit."""
    problem = _digits(value, 10, "ИНН", "5321047553")
    if problem:
        return problem
    control = sum(int(d) * w for d, w in zip(value, INN_WEIGHTS, strict=False)) % 11 % 10
    if control != int(value[9]):
        return "Неверный ИНН: не сходится контрольная цифра."
    return None


def ogrn_problem(value: str) -> str | None:
    """ОГРН: thirteen digits, the last the remainder of the first twelve by 11 (mod 10)."""
    problem = _digits(value, 13, "ОГРН", "1025300786610")
    if problem:
        return problem
    if int(value[:12]) % 11 % 10 != int(value[12]):
        return "Неверный ОГРН: не сходится контрольная цифра."
    return None


def kpp_problem(value: str) -> str | None:
    """КПП: nine characters — four digits, two digits or capital Latin letters, three digits."""
    if not KPP.match(value):
        return "КПП — 9 знаков, например 532101001."
    return None


def bik_problem(value: str) -> str | None:
    if not DIGITS.match(value) or len(value) != 9:
        return "БИК банка — 9 цифр, например 044959698."
    return None


def account_problem(value: str) -> str | None:
    if not DIGITS.match(value) or len(value) != 20:
        return "Счёт — 20 цифр."
    return None
