"""The navbar's one search box (workflows.search, /search/, /search/api): by every kind
of key, any surname form but no patronymic, within the row scope and the health right,
in a constant number of queries."""

from __future__ import annotations

import factories as f
import pytest
from conftest import make_user, signed_in
from test_query_counts import counted_queries

from models import db
from workflows import search as wf


def titles(found: wf.Found, kind: str) -> list[str]:
    return [hit.title for hit in found.groups.get(kind, [])]


@pytest.fixture
def bank(app):
    """Two districts; the Емельяновы in the first, the Ивановы in the second."""
    with app.app_context():
        first, second = f.district(), f.district()
        emelyanovy = f.family(first, surname="Емельяновы", address="ул. Садовая, д. 12, кв. 4")
        mother = f.person(
            emelyanovy,
            "mother",
            last_name="Емельянова",
            first_name="Ольга",
            middle_name="Ивановна",
            snils=f.valid_snils(),
        )
        f.person(
            emelyanovy,
            "child",
            last_name="Емельянов",
            first_name="Пётр",
            middle_name="Сергеевич",
            disability_status="disabled",
            disability_group="child",
        )
        case = f.case(emelyanovy, mother, contract_number="Д-2026/731")
        ivanovy = f.family(second, surname="Ивановы", address="пр. Мира, 3")
        f.person(
            ivanovy,
            "father",
            last_name="Иванов",
            first_name="Игорь",
            middle_name="Сергеевич",
            sex="m",
        )
        # Another family whose member's patronymic is «Иванович»: not a surname match.
        petrovy = f.family(second, surname="Петровы", address="ул. Лесная, 1")
        f.person(petrovy, "father", last_name="Петров", first_name="Олег", middle_name="Иванович")
        unit = f.equipment_unit(inventory_number="ТСР-000917")
        partner = f.partner(name="Детская поликлиника № 3", kind="clinic")
        agreement = f.partner_agreement(partner, number="17-С")
        coordinator = make_user("coordinator", "coord")
        worker = make_user("district_worker", "worker1", districts=[first])
        clerk = make_user("rental_clerk", "clerk")
        db.session.commit()
        return {
            "districts": (first.id, second.id),
            "emelyanovy": emelyanovy.id,
            "ivanovy": ivanovy.id,
            "petrovy": petrovy.id,
            "snils": mother.snils,
            "case": case.id,
            "unit": unit.id,
            "agreement": agreement.id,
            "users": {"coordinator": coordinator.id, "worker": worker.id, "clerk": clerk.id},
        }


def found_by(app, bank, role: str, text: str) -> wf.Found:
    with app.app_context():
        user = db.session.get(f.User, bank["users"][role])
        return wf.search(db.session, user, text)


@pytest.mark.parametrize(
    ("text", "kind", "title"),
    [
        ("Емельянова", "family", "Емельяновы"),  # a mother's form finds the family
        ("емельянов", "family", "Емельяновы"),
        ("ЕМЕЛЬЯНОВЫ", "person", "Емельянова Ольга Ивановна"),
        ("Емельянова Ол", "person", "Емельянова Ольга Ивановна"),
        ("садовая 12", "family", "Емельяновы"),  # address, any spacing and punctuation
        ("Садовая,д.12", "family", "Емельяновы"),
        ("Д-2026/731", "case", None),  # contract number
        ("д-2026", "case", None),
        ("тср-0009", "equipment_unit", "ТСР-000917 ("),
        ("поликлиника", "partner_agreement", "Детская поликлиника № 3: соглашение № 17-С"),
    ],
)
def test_finds_by_each_kind_of_key(app, bank, text, kind, title):
    found = found_by(app, bank, "coordinator", text)
    names = titles(found, kind)
    assert names, (text, found.groups)
    if title:
        assert any(name.startswith(title) for name in names), names


def test_finds_by_snils_in_any_formatting_and_by_case_number(app, bank):
    digits = bank["snils"].replace("-", "").replace(" ", "")
    for typed in (bank["snils"], digits, f"{digits[:3]} {digits[3:6]} {digits[6:9]}-{digits[9:]}"):
        found = found_by(app, bank, "coordinator", typed)
        assert titles(found, "person") == ["Емельянова Ольга Ивановна"], typed
        assert titles(found, "family") == ["Емельяновы"], typed
    found = found_by(app, bank, "coordinator", f"№ {bank['case']}")
    assert [hit.id for hit in found.groups["case"]] == [bank["case"]]


def test_feminine_and_masculine_forms_find_each_other(app, bank):
    for typed in ("Иванова", "Иванов", "ивановы"):
        found = found_by(app, bank, "coordinator", typed)
        assert titles(found, "family") == ["Ивановы"], typed
        assert titles(found, "person") == ["Иванов Игорь Сергеевич"], typed


def test_a_surname_search_does_not_match_a_patronymic(app, bank):
    """«Иванов» finds the Ивановы, not Петров Олег Иванович nor Емельянова Ольга Ивановна."""
    found = found_by(app, bank, "coordinator", "Иванов")
    assert "Петровы" not in titles(found, "family")
    assert not any("Иванович" in name or "Ивановна" in name for name in titles(found, "person"))


def test_a_district_worker_never_sees_another_districts_family(app, bank):
    assert titles(found_by(app, bank, "worker", "Емельянова"), "family") == ["Емельяновы"]
    found = found_by(app, bank, "worker", "Иванов")
    assert found.empty
    assert titles(found_by(app, bank, "worker", "мира 3"), "family") == []


def test_the_clerk_neither_searches_by_snils_nor_reads_health_data(app, bank, client):
    """The rental clerk (no health right, SNILS hidden) finds nothing by SNILS and the
    answer carries no health value; the coordinator's answer has none either."""
    with app.app_context():
        family = db.session.get(f.Family, bank["emelyanovy"])
        child = next(m for m in family.members if m.relation == "child")
        f.loan(db.session.get(f.EquipmentUnit, bank["unit"]), family, child)
        db.session.commit()
    found = found_by(app, bank, "clerk", bank["snils"])
    assert found.empty
    assert titles(found_by(app, bank, "clerk", "Емельянов"), "family") == ["Емельяновы"]
    signed_in(app, "clerk", client=client)
    answer = client.get("/search/api", query_string={"q": "Емельянов"}).get_data(as_text=True)
    for word in ("инвалид", "Инвалид", "СНИЛС", "группа", bank["snils"]):
        assert word not in answer
    page = client.get("/family/").get_data(as_text=True)
    assert "СНИЛС" not in page  # the box's hint does not offer it either


def test_the_results_page_and_the_json_answer(app, bank, client):
    signed_in(app, "coord", client=client)
    page = client.get("/search/", query_string={"q": "Емельянова"}).get_data(as_text=True)
    assert f'href="/family/details/?id={bank["emelyanovy"]}"' in page
    assert 'id="found-person"' in page and "Люди" in page
    nothing = client.get("/search/", query_string={"q": "Щукина"}).get_data(as_text=True)
    assert "ничего не найдено" in nothing
    answer = client.get("/search/api", query_string={"q": "Емельянова"}).get_json()
    kinds = [group["kind"] for group in answer["groups"]]
    assert kinds[:2] == ["family", "person"]
    assert answer["groups"][0]["rows"][0]["url"] == f"/family/details/?id={bank['emelyanovy']}"
    assert answer["summary"].endswith(("совпадение", "совпадения", "совпадений"))


@pytest.mark.parametrize(
    "role", ["coordinator", "district_worker", "psychologist", "rental_clerk", "admin"]
)
def test_every_role_has_the_box(app, client, role):
    with app.app_context():
        make_user(role, f"box-{role}", districts=[f.district()])
    signed_in(app, f"box-{role}", client=client)
    page = client.get("/").get_data(as_text=True)
    assert 'id="navbar-search-q"' in page and 'action="/search/"' in page
    assert client.get("/search/api", query_string={"q": "ив"}).status_code == 200


def test_hostile_text_is_calm(app, bank, client):
    signed_in(app, "coord", client=client)
    for text in ("%", "_", "\\", "'; drop table family; --", "я" * 500, "\x00ив", "№"):
        assert client.get("/search/api", query_string={"q": text}).status_code == 200
        assert client.get("/search/", query_string={"q": text}).status_code == 200


def test_queries_do_not_grow_with_the_rows_found(app, bank):
    """One query per kind, with 2 matching families as with 12."""

    def count() -> int:
        with app.app_context(), counted_queries() as statements:
            user = db.session.get(f.User, bank["users"]["coordinator"])
            statements.clear()
            wf.search(db.session, user, "Сидоров")
        return len(statements)

    def grow(number: int) -> None:
        with app.app_context():
            for _ in range(number):
                family = f.family(surname="Сидоровы")
                mother = f.person(family, "mother", last_name="Сидорова")
                f.case(family, mother)
            db.session.commit()

    grow(2)
    few = count()
    grow(10)
    assert count() == few <= len(wf.KINDS) + 1
