"""Russian names, plurals and agreement, through maintained libraries, never hand rules.

- A person's name in a grammatical case («в лице Емельяновой Алёны Алексеевны»): pytrovich,
  the Python port of petrovich, made for Russian first names, patronymics and surnames.
- A family by its surname in the plural («семье Константиновых»): pymorphy3, whose
  dictionary knows surnames (tag Surn) and their plural forms; an indeclinable surname
  («Шевченко», «Белых») or one it does not know stays as written.
- A number with its noun («3 семьи», «80 семей»): the CLDR plural rule of Babel (already
  installed with Flask-Babel).
- Words that agree with a person's recorded sex («поставлена» / «поставлен»): the person's
  sex as recorded; where it is not recorded (staff), petrovich's detector reads it from the
  patronymic and first name.

Cases are named as pymorphy3 names them: nomn, gent, datv, accs, ablt, loct.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Literal

import pymorphy3
from babel import Locale
from pytrovich.detector import PetrovichGenderDetector
from pytrovich.enums import Case, Gender, NamePart
from pytrovich.maker import PetrovichDeclinationMaker

GrammaticalCase = Literal["nomn", "gent", "datv", "accs", "ablt", "loct"]

_PETROVICH_CASE = {
    "gent": Case.GENITIVE,
    "datv": Case.DATIVE,
    "accs": Case.ACCUSATIVE,
    "ablt": Case.INSTRUMENTAL,
    "loct": Case.PREPOSITIONAL,
}
_RUSSIAN = Locale("ru")


@cache
def _maker() -> PetrovichDeclinationMaker:
    return PetrovichDeclinationMaker()


@cache
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def sex_of(sex: str | None, first: str | None = None, middle: str | None = None) -> str:
    """«m» or «f»: the recorded sex, or the one the patronymic and first name tell."""
    if sex in ("m", "f"):
        return sex
    try:
        gender = PetrovichGenderDetector().detect(firstname=first, middlename=middle)
    except (ValueError, KeyError):  # neither part known: masculine, as Russian defaults
        return "m"
    return "f" if gender is Gender.FEMALE else "m"


def sex_from_patronymic(middle: str | None) -> str | None:
    """«m» for «Игоревич», «f» for «Игоревна»; None where the patronymic does not tell."""
    if not middle:
        return None
    gender = PetrovichGenderDetector().detect(middlename=middle)
    return {Gender.MALE: "m", Gender.FEMALE: "f"}.get(gender)


def person_name(
    last: str | None,
    first: str | None,
    middle: str | None,
    case: GrammaticalCase,
    sex: str | None = None,
) -> str:
    """«Емельяновой Алёны Алексеевны»: the parts present, each declined for the person's sex."""
    gender = Gender.FEMALE if sex_of(sex, first, middle) == "f" else Gender.MALE
    parts = ((NamePart.LASTNAME, last), (NamePart.FIRSTNAME, first), (NamePart.MIDDLENAME, middle))
    if case == "nomn":
        return " ".join(value for _, value in parts if value)
    maker, grammatical = _maker(), _PETROVICH_CASE[case]
    return " ".join(
        _declined(maker, part, gender, grammatical, value) for part, value in parts if value
    )


def _declined(
    maker: PetrovichDeclinationMaker, part: NamePart, gender: Gender, case: Case, value: str
) -> str:
    # A double surname («Римская-Корсакова») declines part by part.
    return "-".join(maker.make(part, gender, case, piece) for piece in value.split("-"))


@lru_cache(maxsize=8192)
def family_surname(surname: str, case: GrammaticalCase = "nomn") -> str:
    """«Константиновы», «Константиновых», «Константиновым»: a family named in the plural.

    Kept per (surname, case): a list of children or families names the same surnames
    again and again, and pymorphy3's parse costs a fraction of a millisecond each."""
    morph = _morph()
    parses = morph.parse(surname)
    for parse in parses:
        if "Surn" in parse.tag and parse.tag.number == "sing" and "Fixd" not in parse.tag:
            form = parse.inflect({"plur", case})
            if form is not None:
                return _as_written(surname, form.word)
    # A family's name as the card keeps it, already plural: «Кузнецовы», «Белые».
    for parse in parses:
        plural_name = "Surn" in parse.tag or (
            "ADJF" in parse.tag and surname.endswith(("ые", "ие"))
        )
        if plural_name and parse.tag.number == "plur" and parse.tag.case == "nomn":
            form = parse.inflect({"plur", case})
            if form is not None:
                return _as_written(surname, form.word)
    return surname


def _as_written(original: str, word: str) -> str:
    """The inflected word with the original's capitals (pymorphy3 answers in lower case)."""
    if not original[:1].isupper():
        return word
    return "-".join(piece[:1].upper() + piece[1:] for piece in word.split("-"))


def plural(number: int, one: str, few: str, many: str) -> str:
    """«1 семья», «3 семьи», «80 семей»: a number with the form CLDR's Russian rule gives."""
    form = _RUSSIAN.plural_form(number)
    word = {"one": one, "few": few}.get(form, many)
    return f"{number} {word}"


def agree(sex: str | None, masculine: str, feminine: str) -> str:
    """«поставлен» or «поставлена», by the person's recorded sex (masculine if not recorded)."""
    return feminine if sex == "f" else masculine


def position_in_case(position: str, case: GrammaticalCase) -> str:
    """«в лице директора», «главному врачу», «заместителя директора»: a post's head put in
    `case` by pymorphy3 — the adjectives before it and the first noun (or a participle,
    which governs what follows: «исполняющего обязанности директора»); the words the
    head governs stay as they are."""
    words = position.split()
    if case == "nomn":
        return " ".join(words)
    result = []
    for index, word in enumerate(words):
        parse = _morph().parse(word)[0]
        form = parse.inflect({case})
        result.append(_as_written(word, form.word) if form is not None else word)
        if parse.tag.POS != "ADJF":  # the noun (or the participle) ends the head
            return " ".join([*result, *words[index + 1 :]])
    return " ".join(result)


def agree_with(person: object | None, masculine: str, feminine: str) -> str:
    """The verb agreeing with a person or member of staff: their recorded sex, else the one
    their patronymic and first name tell («Выгрузила» for Анна Сергеевна)."""
    if person is None:
        return masculine
    sex = sex_of(
        getattr(person, "sex", None),
        getattr(person, "first_name", None),
        getattr(person, "middle_name", None),
    )
    return agree(sex, masculine, feminine)
