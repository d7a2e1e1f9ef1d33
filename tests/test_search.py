"""Does a search in any letter case find Cyrillic names, on SQLite as on PostgreSQL?

SQLite's own lower() folds ASCII only, so «петрова» would not find «Петрова»
there unless the app folds Cyrillic itself; these tests hold it to that.
"""

from __future__ import annotations

import re

import factories as f
import pytest

from models import db


def listed_ids(page: str) -> set[int]:
    """The ids of the rows on a list page (their action checkboxes)."""
    return {int(i) for i in re.findall(r'name="rowid" class="action-checkbox" value="(\d+)"', page)}


@pytest.fixture
def people(app, login_as):
    """The Smirnov and Ivanov families; Петрова is a member of the first."""
    login_as("admin")
    with app.app_context():
        smirnovs = f.family(surname="Смирновы", address="ул. Ломоносова, д. 5")
        petrova = f.person(smirnovs, "mother", last_name="Петрова", first_name="Ольга")
        ivanovs = f.family(surname="Ивановы", address="ул. Мира, д. 1")
        f.person(ivanovs, "father", last_name="Иванов", first_name="Сергей", sex="m")
        db.session.commit()
        return {"smirnovs": smirnovs.id, "ivanovs": ivanovs.id, "petrova": petrova.id}


@pytest.mark.parametrize(
    "term",
    ["петрова", "ПЕТРОВА", "Петрова", "пЕТРов", "Петров", "петр"],
    ids=["lower", "upper", "as-stored", "mixed-prefix", "masculine", "prefix"],
)
def test_person_search_ignores_case(people, client, term):
    """Does /person/?search= find «Петрова» whatever the case of the typed letters?"""
    page = client.get("/person/", query_string={"search": term}).get_data(as_text=True)
    assert listed_ids(page) == {people["petrova"]}
    assert "Петрова" in page


@pytest.mark.parametrize(
    "term", ["смирн", "СМИРН", "Смирновы"], ids=["lower", "upper", "as-stored"]
)
def test_family_search_ignores_case(people, client, term):
    """Does /family/?search= find «Смирновы» by a lower- or upper-case beginning?"""
    page = client.get("/family/", query_string={"search": term}).get_data(as_text=True)
    assert listed_ids(page) == {people["smirnovs"]}
    assert "Смирновы" in page


def test_a_surname_is_searched_from_its_beginning(people, client):
    """A fragment from a surname's middle («етро») no longer finds «Петрова»: the list
    searches the surname key from its beginning (decided in issue 18: so that every form
    of a surname matches and a patronymic does not — README, «Поиск»). It used to find it
    by an unindexed substring over four columns."""
    page = client.get("/person/", query_string={"search": "етро"}).get_data(as_text=True)
    assert listed_ids(page) == set()


def test_search_finds_nothing_when_nothing_matches(people, client):
    """Does a search for a name nobody has show an empty list (not every row)?"""
    page = client.get("/person/", query_string={"search": "сидорова"}).get_data(as_text=True)
    assert listed_ids(page) == set()
    everyone = client.get("/person/").get_data(as_text=True)
    assert len(listed_ids(everyone)) == 2


@pytest.mark.parametrize("term", ["смирн", "СМИРН"], ids=["lower", "upper"])
def test_family_picker_ignores_case(people, client, term):
    """Does the case form's family picker (ajax lookup) offer «Смирновы» for «смирн»?"""
    response = client.get("/case/ajax/lookup/", query_string={"name": "family", "query": term})
    assert response.status_code == 200
    found = response.get_json()
    assert [pk for pk, _ in found] == [people["smirnovs"]]
    assert found[0][1].startswith("Смирновы")


def test_person_picker_ignores_case(people, client):
    """Does the loan form's child picker find «Петрова» typed in lower case?"""
    response = client.get("/loan/ajax/lookup/", query_string={"name": "child", "query": "петр"})
    assert response.status_code == 200
    labels = [label for _, label in response.get_json()]
    assert len(labels) == 1 and labels[0].startswith("Петрова")


def test_picker_never_matches_a_field_the_role_may_not_see(app, login_as, client):
    """Can the rental clerk find a child by SNILS in the loan form's picker? (It must not.)"""
    snils = f.valid_snils()
    with app.app_context():
        family = f.family(surname="Лебедевы")
        child = f.person(family, "child", last_name="Лебедева", first_name="Алиса", snils=snils)
        f.loan(f.equipment_unit(), family, child)
        db.session.commit()
        child_id = child.id
    login_as("rental_clerk")

    def offered(term: str) -> list:
        response = client.get("/loan/ajax/lookup/", query_string={"name": "child", "query": term})
        return [row[0] for row in response.get_json()]

    assert offered("лебед") == [child_id]
    assert offered(snils[:7]) == []


def test_pickers_match_by_the_keys_not_a_patronymic(app, people, client):
    """Do the family and person pickers match as the lists do (the search keys: a surname
    in any form from its beginning, a family by its address too), not a patronymic or a
    fragment from a name's middle?"""
    with app.app_context():
        family = db.session.get(f.Family, people["ivanovs"])
        son = f.person(family, "child", last_name="Иванов", first_name="Пётр", sex="m")
        stranger = f.family(surname="Кузнецовы", address="ул. Садовая, д. 3")
        f.person(stranger, "father", last_name="Кузнецов", middle_name="Иванович", sex="m")
        db.session.commit()
        son_id = son.id

    def offered(endpoint: str, field: str, term: str) -> set[int]:
        query = {"name": field, "query": term}
        response = client.get(f"/{endpoint}/ajax/lookup/", query_string=query)
        assert response.status_code == 200
        return {pk for pk, _ in response.get_json()}

    assert offered("case", "family", "Иванова") == {people["ivanovs"]}  # any form
    assert offered("case", "family", "Ломоносова") == {people["smirnovs"]}  # the address
    assert offered("case", "family", "ванов") == set()  # not from the middle
    ivanovs = offered("loan", "child", "Иванов")  # the father and the son
    assert son_id in ivanovs and len(ivanovs) == 2  # not «Кузнецов … Иванович»
    assert offered("loan", "child", "иванов петр") == {son_id}  # «ё» typed as «е»
    assert offered("loan", "child", "Иванович") == set()


def test_case_list_searches_contract_and_surname_by_the_keys(app, people, client):
    """Does the case list's search find a case by its contract number's beginning and by
    the family's surname in any form (the keys), and not by a fragment from its middle?"""
    with app.app_context():
        smirnovs = db.session.get(f.Family, people["smirnovs"])
        ivanovs = db.session.get(f.Family, people["ivanovs"])
        signed = f.case(smirnovs, smirnovs.members[0], contract_number="Д-2025/017")
        other = f.case(ivanovs, ivanovs.members[0], contract_number="Д-2025/018")
        db.session.commit()
        signed_id, other_id = signed.id, other.id

    def found(term: str) -> set[int]:
        page = client.get("/case/", query_string={"search": term}).get_data(as_text=True)
        return listed_ids(page)

    assert found("д-2025/01") == {signed_id, other_id}
    assert found("Д-2025/017") == {signed_id}
    assert found("Смирнова") == {signed_id}  # the family «Смирновы», another form
    assert found("Петрова") == {signed_id}  # a member's surname
    assert found("Иванов д-2025") == {other_id}  # every word must match
    assert found("2025/017") == set()
