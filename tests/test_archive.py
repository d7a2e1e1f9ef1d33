"""Nothing is lost: deletes archive, only the admin restores, edits never overwrite.

Families, people, cases, loans and partner agreements are archived (archived_at
set) instead of deleted; the list hides them unless ?archive=1; the «restore»
action is the administrator's. Two users editing one row: the second save,
made from a stale copy (the hidden `seen_version`), is refused in Russian.
"""

from __future__ import annotations

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from security_factories import (
    MODELS,
    admin_form,
    flashes,
    input_value,
    row_ids,
    snapshot,
)

from admin_views.modelview.archive import ARCHIVED as ARCHIVED_FLASH
from models import Case, Consent, Department, Family, Person, Staff, Task, TaskAssignment, Visit, db

ARCHIVED = ("family", "person", "case", "loan", "partner_agreement")
STALE = "Запись изменил другой пользователь"


@pytest.fixture
def rows(app):
    """A live and a to-be-archived row of each archived table (as {endpoint: (live, old)})."""
    with app.app_context():
        make_user("admin", "boss")
        make_user("coordinator", "coord")
        made = {}
        for label in ("Живые", "Давние"):
            family, mother, child = f.family_with_members(surname=label)
            f.consent(family, mother)
            made[label] = {
                "family": family,
                "person": mother,
                "case": f.case(family, mother),
                "loan": f.loan(f.equipment_unit(), family, child),
                "partner_agreement": f.partner_agreement(),
            }
        db.session.commit()
        return {ep: (made["Живые"][ep].id, made["Давние"][ep].id) for ep in ARCHIVED}


def _archived_at(app, endpoint, row_id):
    state = snapshot(app, MODELS[endpoint], row_id)
    assert state is not None, f"/{endpoint}/ id={row_id} was deleted from the database"
    return state["archived_at"]


@pytest.mark.parametrize("endpoint", ARCHIVED)
def test_delete_archives_instead_of_deleting(app, rows, endpoint):
    """Does the delete button on a family, person, case, loan or partner
    agreement keep the row in the database with archived_at set?"""
    _live, old = rows[endpoint]
    client = signed_in(app, "boss")
    before = snapshot(app, MODELS[endpoint], old)
    response = client.post(
        f"/{endpoint}/delete/", data={"id": old, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    assert _archived_at(app, endpoint, old) is not None
    after = snapshot(app, MODELS[endpoint], old)
    unchanged = {k: v for k, v in after.items() if k not in ("archived_at", "version")}
    assert unchanged == {k: v for k, v in before.items() if k not in ("archived_at", "version")}


def test_archive_action_archives_the_selected_rows(app, rows):
    """Does the list's «В архив» action archive the selected family and case?"""
    client = signed_in(app, "coord")
    token = csrf_token(client)
    for endpoint in ("family", "case"):
        data = {"action": "archive", "rowid": rows[endpoint][1], "csrf_token": token}
        assert client.post(f"/{endpoint}/action/", data=data).status_code == 302
        assert _archived_at(app, endpoint, rows[endpoint][1]) is not None
        assert _archived_at(app, endpoint, rows[endpoint][0]) is None


def test_archived_rows_are_hidden_unless_asked_for(app, rows):
    """Is an archived row missing from its list by default, shown with
    ?archive=1 (next to the live rows), and marked as archived on its page?"""
    client = signed_in(app, "boss")
    token = csrf_token(client)
    for endpoint in ARCHIVED:
        live, old = rows[endpoint]
        client.post(f"/{endpoint}/delete/", data={"id": old, "csrf_token": token})
        default = row_ids(client.get(f"/{endpoint}/").get_data(as_text=True), endpoint)
        assert live in default and old not in default, endpoint
        everything = row_ids(client.get(f"/{endpoint}/?archive=1").get_data(as_text=True), endpoint)
        assert {live, old} <= everything, endpoint
        details = client.get(f"/{endpoint}/details/?id={old}").get_data(as_text=True)
        assert "Запись в архиве с" in details, endpoint


def test_only_the_admin_restores_and_nothing_related_is_lost(app, rows):
    """Can only the administrator restore an archived family, and after the
    archive and the restore are all its members, consents and cases still
    there, unchanged and linked to it?"""
    _live, family_id = rows["family"]
    with app.app_context():
        family = db.session.get(Family, family_id)
        related = {
            Person: [p.id for p in family.members],
            Consent: [c.id for c in family.consents],
            Case: [c.id for c in family.cases],
        }
        make_user("district_worker", "worker", districts=[family.district])
        db.session.commit()
    assert all(related.values())
    before = {(m, i): snapshot(app, m, i) for m, ids in related.items() for i in ids}

    coord = signed_in(app, "coord")
    coord.post("/family/delete/", data={"id": family_id, "csrf_token": csrf_token(coord)})
    assert _archived_at(app, "family", family_id) is not None

    for username in ("coord", "worker"):
        client = signed_in(app, username)
        data = {"action": "restore", "rowid": family_id, "csrf_token": csrf_token(client)}
        client.post("/family/action/?archive=1", data=data)
        assert _archived_at(app, "family", family_id) is not None, f"{username} restored it"

    boss = signed_in(app, "boss")
    data = {"action": "restore", "rowid": family_id, "csrf_token": csrf_token(boss)}
    assert boss.post("/family/action/?archive=1", data=data).status_code == 302
    assert _archived_at(app, "family", family_id) is None
    after = {(m, i): snapshot(app, m, i) for m, ids in related.items() for i in ids}
    assert after == before
    assert all(state["family_id"] == family_id for state in after.values())
    assert family_id in row_ids(boss.get("/family/").get_data(as_text=True), "family")


# --- two users, one row ------------------------------------------------------------------

EDITS = (
    ("family", "surname", "Первые", "Вторые"),
    ("case", "application_date", "2025-01-21", "2025-01-22"),
)


@pytest.mark.parametrize(("endpoint", "field", "first_value", "second_value"), EDITS)
def test_second_save_from_a_stale_copy_is_refused(app, endpoint, field, first_value, second_value):
    """When two users open the same edit page and the first saves, is the
    second save refused with «Запись изменил другой пользователь», the page
    showing the first user's values, and nothing overwritten — and does the
    second user's save succeed once made from the current values?"""
    with app.app_context():
        family, mother, _child = f.family_with_members(surname="Общие")
        f.consent(family, mother)
        case = f.case(family, mother, outcome="Исходный итог")
        make_user("coordinator", "first")
        make_user("district_worker", "second", districts=[family.district])
        db.session.commit()
        row_id = {"family": family.id, "case": case.id}[endpoint]
    url = f"/{endpoint}/edit/?id={row_id}"
    first, second = signed_in(app, "first"), signed_in(app, "second")
    first_form = admin_form(first.get(url).get_data(as_text=True))["fields"]
    second_form = admin_form(second.get(url).get_data(as_text=True))["fields"]
    assert first_form["seen_version"] == second_form["seen_version"] == "1"

    first_form.update({field: first_value, "csrf_token": csrf_token(first)})
    assert first.post(url, data=first_form).status_code == 302
    saved = snapshot(app, MODELS[endpoint], row_id)
    assert str(saved[field]) == first_value

    second_form.update({field: second_value, "csrf_token": csrf_token(second)})
    refused = second.post(url, data=second_form)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert any(STALE in message for message in flashes(body)), flashes(body)
    assert input_value(body, field) == first_value
    assert input_value(body, "seen_version") == str(saved["version"])
    assert snapshot(app, MODELS[endpoint], row_id) == saved

    retry = admin_form(body)["fields"]
    retry.update({field: second_value, "csrf_token": csrf_token(second)})
    assert second.post(url, data=retry).status_code == 302
    assert str(snapshot(app, MODELS[endpoint], row_id)[field]) == second_value


def test_save_without_the_seen_version_is_refused(app, login_as, client):
    """Is a save that leaves out the hidden seen_version (a hand-made POST)
    refused rather than treated as current?"""
    login_as("coordinator")
    with app.app_context():
        family_id = f.family(surname="Ручные").id
        db.session.commit()
    url = f"/family/edit/?id={family_id}"
    form = admin_form(client.get(url).get_data(as_text=True))["fields"]
    form.pop("seen_version")
    form.update(surname="Подменённые", csrf_token=csrf_token(client))
    response = client.post(url, data=form)
    assert STALE in response.get_data(as_text=True)
    assert snapshot(app, Family, family_id)["surname"] == "Ручные"


# --- rows other rows point at ------------------------------------------------------------


def test_deleting_a_department_with_staff_archives_it(app, login_as, client):
    """Does «Удалить» on a department that still has staff archive it — the row
    kept and the staff still in it — and say so, rather than delete anything?"""
    login_as("admin")
    with app.app_context():
        department = f.department()
        staff_id = f.staff(department=department).id
        db.session.commit()
        department_id = department.id
    response = client.post(
        "/department/delete/",
        data={"id": department_id, "csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    kept = snapshot(app, Department, department_id)
    assert kept is not None, "the department was deleted"
    assert kept["archived_at"] is not None
    assert snapshot(app, Staff, staff_id)["department_id"] == department_id
    assert ARCHIVED_FLASH in flashes(response.get_data(as_text=True))


@pytest.mark.parametrize("endpoint", ["task", "staff"])
def test_a_row_others_depend_on_is_never_deleted(app, login_as, client, endpoint):
    """Is a task with assignment history left as it was (no «Удалить»: the board
    cancels tasks), and a staff member with home visits archived and marked as
    no longer working — the task, its history and the visits all still there?"""
    login_as("admin")
    with app.app_context():
        family, mother, _child = f.family_with_members()
        f.consent(family, mother)
        case = f.case(family, mother)
        worker = f.staff(last_name="Визитова")
        task = f.task(family, case)
        assignment = f.task_assignment(task, worker)
        visit = f.visit(case, worker)
        db.session.commit()
        row_id = {"task": task.id, "staff": worker.id}[endpoint]
        kept = {Task: task.id, TaskAssignment: assignment.id, Visit: visit.id}
    before = {model: snapshot(app, model, i) for model, i in kept.items()}
    response = client.post(
        f"/{endpoint}/delete/",
        data={"id": row_id, "csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert {model: snapshot(app, model, i) for model, i in kept.items()} == before
    if endpoint == "staff":
        staff = snapshot(app, Staff, row_id)
        assert staff["archived_at"] is not None and staff["active"] is False
