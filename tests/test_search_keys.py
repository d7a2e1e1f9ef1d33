"""The search keys the database keeps (models/keys.py): the same as Python's, kept in step
by every write, and used by an index (no function per row in the predicate)."""

from __future__ import annotations

import factories as f
import pytest
from sqlalchemy import select, text, update

from models import EquipmentUnit, Family, Partner, Person, db
from models.keys import (
    fold,
    person_key,
    query_person_key,
    query_surname_key,
    surname_key,
    text_key,
)

SURNAMES = [
    "Иванов",
    "Иванова",
    "Ивановы",
    "ИВАНОВА",
    "Емельянова",
    "Емельяновы",
    "Королёва",
    "Ёлкин",
    "Ковальская",
    "Ковальский",
    "Ковальские",
    "Трубецкой",
    "Пушкина",
    "Сорокины",
    "Бородина",
    "Черных",
    "Шевченко",
    "Ким",
    "Ина",
    "Ова",
    "Петрова-Водкина",
    "O'Brien",
    "Smith",
    "ПЕТРОВСКАЯ",
    "иванОВА",
]


def test_python_and_the_database_fold_and_stem_alike(app):
    """Do the database's generated keys equal models.keys' Python for every name form?"""
    with app.app_context():
        district = f.district()
        people = []
        for number, surname in enumerate(SURNAMES):
            address = f"ул. Ёлочная, д. {number}, кв. Б" if number % 2 else "Пр-т МИРА 5"
            phone = None if number % 3 else "+7 (900) 123-45-6" + str(number % 10)
            family = f.family(district, surname=surname, address=address, phone=phone)
            middle = None if number % 2 else "Сергеевич"
            people.append(
                (
                    family,
                    f.person(
                        family, "father", last_name=surname, first_name="Фёдор", middle_name=middle
                    ),
                )
            )
        db.session.commit()
        for family, person in people:
            stored = db.session.execute(
                select(Family.search_key, Family.text_key).where(Family.id == family.id)
            ).one()
            assert stored == (surname_key(family.surname), text_key(family.address, family.phone))
            key = db.session.scalar(select(Person.search_key).where(Person.id == person.id))
            assert key == person_key(person.last_name, person.first_name, person.middle_name)


def test_keys_follow_every_change(app):
    """After an UPDATE (ORM or bare SQL) the key is the new name's key."""
    with app.app_context():
        family = f.family(surname="Петровы")
        person = f.person(
            family, "mother", last_name="Петрова", first_name="Анна", middle_name=None
        )
        db.session.commit()
        db.session.execute(
            update(Person).where(Person.id == person.id).values(last_name="Сидорова")
        )
        family.address = "ул. Новая, 7"
        db.session.commit()
        assert db.session.scalar(select(Person.search_key).where(Person.id == person.id)) == (
            "сидоров анна "
        )
        assert db.session.scalar(select(Family.text_key).where(Family.id == family.id)) == (
            "улновая7|"
            + fold((family.phone or "").replace(" ", "").replace(".", "").replace(",", ""))
        )


def test_number_and_name_keys(app):
    with app.app_context():
        f.equipment_unit(inventory_number="ИНВ-TSR-0042")
        partner = Partner(name="МБОУ «Школа № 5»", kind="school")
        db.session.add(partner)
        db.session.commit()
        assert db.session.scalar(select(EquipmentUnit.inventory_key)) == "инв-tsr-0042"
        assert db.session.scalar(select(Partner.name_key)) == "мбоу «школа № 5»"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Емельянова", "емельянов"),
        ("емельянов", "емельянов"),
        ("Ковальска", "ковальск"),
        ("иванова мар", "иванов мар"),
        ("КОРОЛЁВА", "королев"),
    ],
)
def test_what_a_user_types_becomes_a_key_prefix(typed, key):
    assert query_person_key(typed) == key


def test_feminine_masculine_and_plural_share_one_stem():
    assert len({surname_key(s) for s in ("Иванов", "Иванова", "Ивановы")}) == 1
    assert len({surname_key(s) for s in ("Ковальский", "Ковальская", "Ковальские")}) == 1
    assert len({surname_key(s) for s in ("Пушкин", "Пушкина", "Пушкины")}) == 1
    assert query_surname_key("Иванов") == "иванов"
    # The patronymic is the third part of a person's key, never its beginning.
    assert not person_key("Петров", "Иван", "Иванович").startswith(query_person_key("Иванов"))


def test_the_search_predicate_is_served_by_an_index(app):
    """The plan of a surname-prefix search uses the key's index, not a scan."""
    with app.app_context():
        f.family(surname="Иванова")
        db.session.commit()
        low, high = "иванов", "иваноа"
        if db.engine.dialect.name == "sqlite":
            plan = db.session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM person WHERE search_key >= :l AND search_key < :h"
                ),
                {"l": low, "h": high},
            ).all()
            assert "ix_person_search_key" in " ".join(str(row) for row in plan)
        else:
            db.session.execute(text("SET enable_seqscan = off"))
            plan = db.session.execute(
                text("EXPLAIN SELECT id FROM person WHERE search_key >= :l AND search_key < :h"),
                {"l": low, "h": high},
            ).all()
            assert "ix_person_search_key" in " ".join(str(row) for row in plan)


def test_sqlite_fts_table_follows_inserts_changes_and_deletes(app):
    """On SQLite the FTS5 trigram table of the family's address and phone stays in step:
    a changed address is found by its new words, not its old, and the index is sound."""
    from workflows.search import families_holding

    with app.app_context():
        family = f.family(surname="Орловы", address="ул. Весенняя, д. 8")
        gone = f.family(surname="Гусевы", address="ул. Весенняя, д. 9")
        db.session.commit()
        family.address = "ул. Осенняя, д. 3"
        db.session.commit()
        db.session.execute(text("DELETE FROM family WHERE id = :id"), {"id": gone.id})
        db.session.commit()

        def found(word: str) -> set[int]:
            return set(db.session.scalars(families_holding(fold(word))))

        assert found("осенняя") == {family.id}
        assert found("весенняя") == set()
        assert found("д3") == {family.id}
        if db.engine.dialect.name == "sqlite":
            db.session.execute(
                text("INSERT INTO family_text(family_text) VALUES ('integrity-check')")
            )
