"""Names, families and numbers read as Russian: through the libraries, in every form used."""

from __future__ import annotations

import pytest

from models.declension import (
    agree,
    family_surname,
    person_name,
    plural,
    sex_from_patronymic,
    sex_of,
)


@pytest.mark.parametrize(
    ("parts", "case", "sex", "expected"),
    [
        (("Емельянова", "Алёна", "Алексеевна"), "gent", "f", "Емельяновой Алёны Алексеевны"),
        (("Иванов", "Пётр", "Ильич"), "datv", "m", "Иванову Петру Ильичу"),
        (("Иванов", "Пётр", "Ильич"), "ablt", None, "Ивановым Петром Ильичом"),
        (("Римская-Корсакова", "Анна", None), "ablt", "f", "Римской-Корсаковой Анной"),
        (("Шевченко", "Ольга", "Петровна"), "gent", "f", "Шевченко Ольги Петровны"),
        (("Емельянова", "Алёна", "Алексеевна"), "nomn", "f", "Емельянова Алёна Алексеевна"),
    ],
)
def test_person_name_in_each_case(parts, case, sex, expected):
    assert person_name(*parts, case, sex) == expected


@pytest.mark.parametrize(
    ("surname", "case", "expected"),
    [
        ("Константинов", "datv", "Константиновым"),
        ("Константинов", "gent", "Константиновых"),
        ("Достоевский", "nomn", "Достоевские"),
        ("Пушкин", "ablt", "Пушкиными"),
        ("Шевченко", "datv", "Шевченко"),
        ("Белых", "gent", "Белых"),
    ],
)
def test_family_named_in_the_plural(surname, case, expected):
    assert family_surname(surname, case) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, "1 семья"),
        (2, "2 семьи"),
        (5, "5 семей"),
        (11, "11 семей"),
        (14, "14 семей"),
        (21, "21 семья"),
        (104, "104 семьи"),
        (111, "111 семей"),
        (0, "0 семей"),
    ],
)
def test_plural_follows_the_russian_rule(number, expected):
    assert plural(number, "семья", "семьи", "семей") == expected


def test_the_patronymic_tells_the_sex_or_nothing():
    assert sex_from_patronymic("Игоревич") == "m"
    assert sex_from_patronymic("Игоревна") == "f"
    assert sex_from_patronymic("") is None and sex_from_patronymic("Xyz") is None


def test_agreement_and_sex():
    assert agree("f", "поставлен", "поставлена") == "поставлена"
    assert agree("m", "поставлен", "поставлена") == "поставлен"
    assert sex_of(None, "Алёна", "Алексеевна") == "f"
    assert sex_of(None, "Пётр", "Ильич") == "m"
    assert sex_of("f", "Пётр", "Ильич") == "f"


@pytest.mark.parametrize(
    ("stored", "case", "expected"),
    [
        ("Кузнецовы", "gent", "Кузнецовых"),
        ("Константиновы", "datv", "Константиновым"),
        ("Белые", "gent", "Белых"),
        ("Шевченко", "gent", "Шевченко"),
        ("Кузнецовы", "nomn", "Кузнецовы"),
    ],
)
def test_a_family_named_in_the_plural_as_stored_declines(stored, case, expected):
    """Does the family's name as its card keeps it («Кузнецовы») decline: «семье Кузнецовых»?"""
    assert family_surname(stored, case) == expected
