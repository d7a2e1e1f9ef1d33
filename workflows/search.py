"""Finding a family, a person, a case, a unit or an agreement by what a clerk types.

Every predicate compares the generated search keys of models/keys.py with the typed
text normalised the same way in Python: a surname (any form: «Емельянова» finds the
family «Емельяновы» and «Емельянов») by a prefix of the key — an index range — and a
family's address or phone anywhere in its squashed key. A surname search matches
surnames, not patronymics: «Иванов» finds Ивановы, Иванова, Ивановский, not every
«Иванович». No function runs per row in a predicate.

`search` is the read model of the navbar's box: one query per kind of row, within
the user's row scope (workflows.scope.where_visible), plain data back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    false,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session

from models import Case, EquipmentType, EquipmentUnit, Family, Partner, PartnerAgreement, Person, db
from models.accounts import User
from models.base import full_name
from models.cases import CASE_STATUS
from models.keys import (
    FAMILY_TEXT,
    fold,
    prefix_bounds,
    query_person_key,
    query_surname_key,
    squash,
)
from models.rental import UNIT_STATUS
from models.roles import hidden_fields
from models.snils import format_snils, normalise_snils

from .scope import where_visible

LIMIT = 8  # rows of each kind in the navbar's answer
MAX_TEXT = 100
SNILS_LIKE = re.compile(r"^[\d\s\-]+$")
KINDS = ("family", "person", "case", "equipment_unit", "partner_agreement")


def _escape(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def key_prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`: a range of the key's btree index."""
    if not prefix:
        return false()
    low, high = prefix_bounds(prefix)
    return and_(column >= low, column < high)


def key_contains(column: Any, text: str) -> ColumnElement[bool]:
    """`column` holds `text` anywhere (a trigram index on PostgreSQL)."""
    holds: ColumnElement[bool] = column.like(f"%{_escape(text)}%", escape="\\")
    return holds


# SQLite's FTS5 trigram table of the family's text key (made and kept by models/keys.py's
# DDL and triggers; not a model, so never created or compared as one).
FAMILY_TEXT_TABLE = Table(
    FAMILY_TEXT, MetaData(), Column("rowid", Integer), Column("text_key", Text)
)


def _served_by_fts(text: str) -> bool:
    """FTS5's trigram LIKE needs three letters and no ESCAPE (which turns its index off)."""
    return len(text) >= 3 and not re.search(r"[\\%_]", text)


def families_holding(text: str) -> Any:
    """Ids of the families whose address or phone (squashed, folded) hold `text`: on SQLite
    the FTS5 trigram table, on PostgreSQL the GIN trigram index of `family.text_key`."""
    if db.engine.dialect.name == "sqlite" and _served_by_fts(text):
        table = FAMILY_TEXT_TABLE
        return select(table.c.rowid).where(table.c.text_key.like(f"%{text}%"))
    return select(Family.id).where(key_contains(Family.text_key, text))


def rows_with_prefix(model: Any, column: Any, prefix: str) -> ColumnElement[bool]:
    """`model.id IN (SELECT id … WHERE column starts with prefix)`: the inner query has
    only the key's range, so the planner cannot prefer another index of the row (SQLite,
    without fresh statistics, would walk `archived_at IS NULL` over the whole table)."""
    ids: ColumnElement[bool] = model.id.in_(select(model.id).where(key_prefix(column, prefix)))
    return ids


def snils_of(text: str) -> str | None:
    """The SNILS as stored if `text` is one in any formatting (11 digits), else None."""
    if not SNILS_LIKE.match(text.strip()):
        return None
    digits = normalise_snils(text)
    return format_snils(digits) if len(digits) == 11 else None


def surname_matches(column: Any, word: str) -> ColumnElement[bool]:
    return key_prefix(column, query_surname_key(word))


def _surname_parts(word: str) -> list[Any]:
    return [
        select(Family.id).where(surname_matches(Family.search_key, word)),
        select(Person.family_id).where(surname_matches(Person.search_key, word)),
    ]


def families_by_surname(word: str) -> Any:
    """Ids of the families whose surname, or a member's, is `word` in any form."""
    return union(*_surname_parts(word))


def family_matches(text: str, *, snils: bool = True) -> ColumnElement[bool]:
    """Families whose surname (or a member's surname), address or phone match every word,
    or with a member holding this SNILS (when the role may see SNILS)."""
    number = snils_of(text) if snils else None
    if number is not None:
        return Family.id.in_(select(Person.family_id).where(Person.snils == number))
    words = text.split()
    if not words:
        return false()
    clauses = []
    for word in words:
        inside = families_holding(fold(squash(word)))
        # One id list per word (a union), so each part is served by its own index.
        clauses.append(Family.id.in_(union(*_surname_parts(word), inside)))
    return and_(*clauses)


def person_matches(text: str, *, snils: bool = True) -> ColumnElement[bool]:
    """Persons whose surname (any form), then first name and patronymic, begin as typed;
    or who hold this SNILS (when the role may see SNILS)."""
    number = snils_of(text) if snils else None
    if number is not None:
        return Person.snils == number
    # The key's range on the row itself, not `id IN (…)`: the key's index then answers
    # the list's count, scope and sort without the table (models/search.py).
    return key_prefix(Person.search_key, query_person_key(text))


def case_matches(text: str, *, snils: bool = True) -> ColumnElement[bool]:
    """Cases whose contract number begins with a word, or whose family's surname (or a
    member's) is that word in any form; every word must match. No SNILS (`snils` is
    there so that the list's search calls every predicate alike)."""
    words = text.split()
    if not words:
        return false()
    clauses = []
    for word in words:
        by_contract = select(Case.id).where(key_prefix(Case.contract_key, fold(word)))
        by_family = select(Case.id).where(Case.family_id.in_(families_by_surname(word)))
        clauses.append(Case.id.in_(union(by_contract, by_family)))
    return and_(*clauses)


def address_matches(text: str) -> ColumnElement[bool]:
    squashed = fold(squash(text))
    if not squashed:
        return false()
    return Family.id.in_(families_holding(squashed))


# --- the navbar's box -----------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One row found: its kind, id, the words that name it and a detail line."""

    kind: str
    id: int
    title: str
    detail: str = ""


@dataclass
class Found:
    text: str
    groups: dict[str, list[Hit]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.groups.values())


def search(
    session: Session, user: User, text: str, kinds: tuple[str, ...] = KINDS, limit: int = LIMIT
) -> Found:
    """What the user may see that matches `text`, grouped by kind (those in `kinds`, the
    kinds the user's screens list); one query per kind, whatever the number of rows."""
    text = " ".join(text.split())[:MAX_TEXT]
    found = Found(text)
    if len(text.replace(" ", "")) < 2:
        return found
    snils = sees_snils(user)
    for kind in kinds:
        found.groups[kind] = SEARCHES[kind](session, user, text, snils, limit)
    return found


def sees_snils(user: User) -> bool:
    """May the user search by SNILS? Not a role that may not see it (the rental clerk)."""
    hidden = hidden_fields(user.role, "person", ("snils",), set())
    return "snils" not in hidden


def _families(session: Session, user: User, text: str, snils: bool, limit: int) -> list[Hit]:
    query = (
        select(Family.id, Family.surname, Family.address)
        .where(
            family_matches(text, snils=snils),
            where_visible(Family, user),
            Family.archived_at.is_(None),
        )
        .order_by(Family.surname, Family.id)
        .limit(limit)
    )
    return [Hit("family", row.id, row.surname, row.address) for row in session.execute(query)]


def _persons(session: Session, user: User, text: str, snils: bool, limit: int) -> list[Hit]:
    query = (
        select(
            Person.id,
            Person.last_name,
            Person.first_name,
            Person.middle_name,
            Person.birth_date,
            Family.surname,
        )
        .join(Family, Family.id == Person.family_id)
        .where(
            _person_key_or_snils(text, snils),
            where_visible(Person, user),
            Person.archived_at.is_(None),
        )
        # The key's order: the index gives the first rows without sorting every match.
        .order_by(Person.search_key, Person.id)
        .limit(limit)
    )
    return [
        Hit(
            "person",
            row.id,
            full_name(row.last_name, row.first_name, row.middle_name),
            f"{row.birth_date:%d.%m.%Y} г. р., семья {row.surname}",
        )
        for row in session.execute(query)
    ]


def _person_key_or_snils(text: str, snils: bool) -> ColumnElement[bool]:
    number = snils_of(text) if snils else None
    if number is not None:
        return Person.snils == number
    return key_prefix(Person.search_key, query_person_key(text))


def _cases(session: Session, user: User, text: str, snils: bool, limit: int) -> list[Hit]:
    typed = text.lstrip("№ ").strip()
    wanted = [rows_with_prefix(Case, Case.contract_key, fold(typed))]
    if typed.isdigit() and len(typed) <= 9:
        wanted.append(Case.id == int(typed))
    query = (
        select(Case.id, Case.contract_number, Case.status, Case.application_date, Family.surname)
        .join(Family, Family.id == Case.family_id)
        .where(or_(*wanted), where_visible(Case, user), Case.archived_at.is_(None))
        .order_by(Case.id.desc())
        .limit(limit)
    )
    hits = []
    for row in session.execute(query):
        contract = f", договор № {row.contract_number}" if row.contract_number else ""
        hits.append(
            Hit(
                "case",
                row.id,
                f"Случай № {row.id} от {row.application_date:%d.%m.%Y}{contract}",
                f"семья {row.surname}, {CASE_STATUS.label(row.status)}",
            )
        )
    return hits


def _units(session: Session, user: User, text: str, snils: bool, limit: int) -> list[Hit]:
    query = (
        select(EquipmentUnit.id, EquipmentUnit.inventory_number, EquipmentUnit.status)
        .add_columns(EquipmentType.name)
        .join(EquipmentType, EquipmentType.id == EquipmentUnit.type_id)
        .where(
            rows_with_prefix(EquipmentUnit, EquipmentUnit.inventory_key, fold(text)),
            where_visible(EquipmentUnit, user),
            EquipmentUnit.archived_at.is_(None),
        )
        .order_by(EquipmentUnit.inventory_number)
        .limit(limit)
    )
    return [
        Hit(
            "equipment_unit",
            row.id,
            f"{row.inventory_number} ({row.name})",
            UNIT_STATUS.label(row.status),
        )
        for row in session.execute(query)
    ]


def _agreements(session: Session, user: User, text: str, snils: bool, limit: int) -> list[Hit]:
    partners = select(Partner.id).where(key_contains(Partner.name_key, fold(text)))
    query = (
        select(
            PartnerAgreement.id,
            PartnerAgreement.number,
            PartnerAgreement.signed_on,
            PartnerAgreement.valid_to,
            Partner.name,
        )
        .join(Partner, Partner.id == PartnerAgreement.partner_id)
        .where(
            or_(PartnerAgreement.partner_id.in_(partners), PartnerAgreement.number == text),
            where_visible(PartnerAgreement, user),
            PartnerAgreement.archived_at.is_(None),
        )
        .order_by(Partner.name, PartnerAgreement.signed_on.desc())
        .limit(limit)
    )
    return [
        Hit(
            "partner_agreement",
            row.id,
            f"{row.name}: соглашение № {row.number} от {row.signed_on:%d.%m.%Y}",
            f"действует по {row.valid_to:%d.%m.%Y}" if row.valid_to else "бессрочное",
        )
        for row in session.execute(query)
    ]


SEARCHES = {
    "family": _families,
    "person": _persons,
    "case": _cases,
    "equipment_unit": _units,
    "partner_agreement": _agreements,
}
