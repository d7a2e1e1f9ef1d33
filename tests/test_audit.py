"""Does every write, sign-in and opening of personal data leave a faithful audit row?

The audit hook (models/audit.py) records each flushed insert, update and
delete with old and new values; sign-ins and openings are recorded by
record_event(). Health values are masked; the trail is append-only.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from security_factories import admin_form, snapshot
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from models import AuditRecord, Department, Family, Person, User, db
from models.audit import HIDDEN_VALUE, record_event

SYSTEM = f"system:{getpass.getuser()}"


def audit(app, **where) -> list[dict]:
    """The audit rows matching `where`, oldest first, as plain dicts."""
    with app.app_context():
        query = select(AuditRecord).filter_by(**where).order_by(AuditRecord.id)
        return [
            {c: getattr(r, c) for c in ("id", "at", "user_id", "username", "ip", "action")}
            | {"table": r.table_name, "row_id": r.row_id, "changes": r.changes or {}}
            for r in db.session.scalars(query)
        ]


def one(app, **where) -> dict:
    rows = audit(app, **where)
    assert len(rows) == 1, (where, rows)
    return rows[0]


def _form(client, url: str, **values) -> dict:
    """The form on `url` as the browser would send it, with `values` typed in."""
    fields = admin_form(client.get(url).get_data(as_text=True))["fields"]
    fields.update({k: str(v) for k, v in values.items()})
    fields["csrf_token"] = csrf_token(client)
    return fields


# --- writes -----------------------------------------------------------------------------


def test_panel_create_and_edit_record_old_and_new_values(app, client, login_as):
    """Do a create and an edit through the panel's forms each leave one audit
    row naming the user, the address, the table and row, with the new values
    (create) and exactly the changed fields' old and new values (edit)?"""
    user = login_as("coordinator")
    with app.app_context():
        district_id = f.district().id
        db.session.commit()
    data = _form(client, "/family/new/", surname="Новиковы", district=district_id)
    data.update(address="ул. Новая, д. 1", notes="Обратилась мать")
    assert client.post("/family/new/", data=data).status_code == 302
    with app.app_context():
        family_id = db.session.scalar(select(Family.id).where(Family.surname == "Новиковы"))

    created = one(app, table_name="family", row_id=str(family_id), action="insert")
    assert (created["user_id"], created["username"], created["ip"]) == (
        user.id,
        "coordinator",
        "127.0.0.1",
    )
    changes = created["changes"]
    assert changes["surname"] == {"new": "Новиковы"}
    assert changes["address"] == {"new": "ул. Новая, д. 1"}
    assert changes["notes"] == {"new": "Обратилась мать"}
    assert changes["district_id"] == {"new": district_id}
    assert "version" not in changes

    url = f"/family/edit/?id={family_id}"
    data = _form(client, url, surname="Новиковы-Петровы", address="ул. Старая, д. 2")
    assert client.post(url, data=data).status_code == 302
    edited = one(app, table_name="family", row_id=str(family_id), action="update")
    assert edited["username"] == "coordinator"
    assert edited["changes"] == {
        "surname": {"old": "Новиковы", "new": "Новиковы-Петровы"},
        "address": {"old": "ул. Новая, д. 1", "new": "ул. Старая, д. 2"},
    }


def test_change_outside_a_request_is_recorded_as_the_system(app):
    """Is an ORM change made outside any request (a workflow, the scheduler)
    recorded with the table, row, action and old/new values, by «system:<os user>»?"""
    with app.app_context():
        family = f.family(surname="Прежние")
        db.session.commit()
        family_id = family.id
        family.surname = "Нынешние"
        db.session.commit()
    for action in ("insert", "update"):
        row = one(app, table_name="family", row_id=str(family_id), action=action)
        assert (row["username"], row["user_id"], row["ip"]) == (SYSTEM, None, None)
    update = one(app, table_name="family", row_id=str(family_id), action="update")
    assert update["changes"] == {"surname": {"old": "Прежние", "new": "Нынешние"}}


def test_cli_command_is_recorded(app, runner):
    """Does `flask create-user` leave an insert row for the account, by the
    system, with its login and role but no trace of the password?"""
    result = runner.invoke(
        args=["create-user", "cli-admin", "--role", "admin", "--password", "cli-password-123"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "cli-admin"))
        user_id, password_hash = user.id, user.password_hash
    row = one(app, table_name="user_account", row_id=str(user_id), action="insert")
    assert row["username"] == SYSTEM
    assert row["changes"]["username"] == {"new": "cli-admin"}
    assert row["changes"]["role"] == {"new": "admin"}
    trail = json.dumps(row["changes"], ensure_ascii=False)
    assert "password_hash" not in trail and password_hash not in trail
    assert "cli-password-123" not in trail


def test_deletes_are_recorded_with_old_values(app, client, login_as):
    """Does a hard delete through the ORM (a department) leave a row with the old
    values, and «Удалить» in the panel — which archives (a department, a family) —
    a row recording the archive by the user?"""
    admin = login_as("admin")
    with app.app_context():
        panel_dept, orm_dept = f.department(code="ОТД-П"), f.department(code="ОТД-О")
        family = f.family(surname="Архивные")
        db.session.commit()
        ids = (panel_dept.id, orm_dept.id, family.id)
        orm_name = orm_dept.name
    token = csrf_token(client)
    for endpoint, row_id in (("department", ids[0]), ("family", ids[2])):
        response = client.post(f"/{endpoint}/delete/", data={"id": row_id, "csrf_token": token})
        assert response.status_code == 302
    with app.app_context():
        db.session.delete(db.session.get(Department, ids[1]))
        db.session.commit()

    orm = one(app, table_name="department", row_id=str(ids[1]), action="delete")
    assert orm["username"] == SYSTEM
    assert orm["changes"]["code"] == {"old": "ОТД-О"}
    assert orm["changes"]["name"] == {"old": orm_name}

    for table, row_id in (("department", ids[0]), ("family", ids[2])):
        archived = one(app, table_name=table, row_id=str(row_id), action="update")
        assert (archived["username"], archived["user_id"]) == ("admin", admin.id)
        assert archived["changes"]["archived_at"]["old"] is None
        assert archived["changes"]["archived_at"]["new"]


# --- sign-in and openings -------------------------------------------------------------------


def test_sign_in_success_failure_and_sign_out_are_recorded(app, client, auth):
    """Do a sign-in, a wrong password, an unknown login and a sign-out each leave
    a row with the login typed, the user (when known) and the address?"""
    with app.app_context():
        user_id = make_user("district_worker", "walker").id
    assert auth.login("walker", "wrong-password-1").status_code == 401
    assert auth.login("nobody", "wrong-password-2").status_code == 401
    assert auth.login("walker").status_code == 302
    assert auth.logout().status_code == 302

    failed = audit(app, action="login_failed")
    assert [(r["username"], r["user_id"], r["ip"]) for r in failed] == [
        ("walker", None, "127.0.0.1"),
        ("nobody", None, "127.0.0.1"),
    ]
    assert all("wrong-password" not in json.dumps(r["changes"]) for r in failed)
    success = one(app, action="login")
    assert (success["username"], success["user_id"], success["ip"]) == (
        "walker",
        user_id,
        "127.0.0.1",
    )
    assert (success["table"], success["row_id"]) == ("user_account", str(user_id))
    assert one(app, action="logout")["user_id"] == user_id


@pytest.mark.parametrize("page", ["details", "edit"])
def test_opening_personal_data_leaves_a_view_row(app, client, login_as, page):
    """Does opening a family's, a person's or a case's details or edit page
    leave a «view» row naming the user, the table and the row — and a refused
    (404) opening none?"""
    user = login_as("coordinator")
    with app.app_context():
        family, mother, _child = f.family_with_members()
        f.consent(family, mother)
        case = f.case(family, mother)
        db.session.commit()
        rows = {"family": family.id, "person": mother.id, "case": case.id}
    tables = {"family": "family", "person": "person", "case": "support_case"}
    for endpoint, row_id in rows.items():
        assert client.get(f"/{endpoint}/{page}/?id={row_id}").status_code == 200
        views = audit(app, action="view", table_name=tables[endpoint], row_id=str(row_id))
        assert views, f"opening /{endpoint}/{page}/ left no audit row"
        assert {(v["user_id"], v["username"]) for v in views} == {(user.id, "coordinator")}
        assert client.get(f"/{endpoint}/{page}/?id=999999").status_code == 404
    assert not audit(app, action="view", row_id="999999")


def test_one_opening_is_one_view_row(app, client, login_as):
    """Does one opening of a family's details or edit page leave exactly one
    «view» row, not one per internal lookup of the row?"""
    login_as("coordinator")
    with app.app_context():
        family_id = f.family().id
        db.session.commit()
    counts = {}
    for page in ("details", "edit"):
        before = len(audit(app, action="view", table_name="family"))
        assert client.get(f"/family/{page}/?id={family_id}").status_code == 200
        counts[page] = len(audit(app, action="view", table_name="family")) - before
    assert counts == {"details": 1, "edit": 1}


def test_health_values_are_masked(app, client, login_as):
    """Are a person's health values (disability status, group, review date,
    medical notes) masked in audit rows — on create and edit through the panel
    and on an ORM change — and absent from the audit details page?"""
    login_as("coordinator")
    with app.app_context():
        family_id = f.family().id
        snils = f.valid_snils()
        db.session.commit()
    data = _form(
        client,
        "/person/new/",
        family=family_id,
        last_name="Здоровцев",
        first_name="Иван",
        birth_date="2015-09-01",
        sex="m",
        relation="child",
        snils=snils,
        disability_status="disabled",
        disability_group="child",
        disability_review_date="2026-09-01",
        health_notes="Диагноз: ДЦП",
    )
    response = client.post("/person/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    with app.app_context():
        person_id = db.session.scalar(select(Person.id).where(Person.last_name == "Здоровцев"))
    url = f"/person/edit/?id={person_id}"
    assert (
        client.post(url, data=_form(client, url, health_notes="Диагноз: эпилепсия")).status_code
        == 302
    )
    with app.app_context():
        person = db.session.get(Person, person_id)
        person.disability_status, person.disability_group = "ovz", None
        db.session.commit()

    created = one(app, table_name="person", row_id=str(person_id), action="insert")["changes"]
    for field in (
        "disability_status",
        "disability_group",
        "disability_review_date",
        "health_notes",
    ):
        assert created[field] == {"new": HIDDEN_VALUE}, field
    assert created["last_name"] == {"new": "Здоровцев"}
    updates = audit(app, table_name="person", row_id=str(person_id), action="update")
    assert [u["username"] for u in updates] == ["coordinator", SYSTEM]
    assert updates[0]["changes"] == {"health_notes": {"old": HIDDEN_VALUE, "new": HIDDEN_VALUE}}
    assert updates[1]["changes"] == {
        "disability_status": {"old": HIDDEN_VALUE, "new": HIDDEN_VALUE},
        "disability_group": {"old": HIDDEN_VALUE, "new": HIDDEN_VALUE},
    }
    trail = json.dumps([r["changes"] for r in audit(app)], ensure_ascii=False)
    for secret in ("ДЦП", "эпилепсия", "disabled", "ovz", "2026-09-01"):
        assert secret not in trail, secret

    with app.app_context():
        make_user("admin", "auditor")
    auditor = signed_in(app, "auditor")
    for row in audit(app, table_name="person", row_id=str(person_id)):
        if row["action"] == "view":
            continue
        page = auditor.get(f"/audit_record/details/?id={row['id']}").get_data(as_text=True)
        assert HIDDEN_VALUE in page, row["action"]
        assert "ДЦП" not in page and "эпилепсия" not in page


# --- the trail itself ------------------------------------------------------------------------


def test_audit_rows_cannot_be_changed_through_the_panel(app, client, login_as):
    """Is the audit trail read-only in the panel — no create, edit or delete
    for the administrator, and POSTs to create, edit, delete and the delete
    action changing nothing?"""
    login_as("admin")
    with app.app_context():
        row_id = f.audit_record(username="kept", changes={"surname": {"old": "А", "new": "Б"}}).id
        db.session.commit()
        before_count = db.session.scalar(select(func.count()).select_from(AuditRecord))
    before = snapshot(app, AuditRecord, row_id)
    token = csrf_token(client)
    assert client.get(f"/audit_record/details/?id={row_id}").status_code == 200
    assert client.get("/audit_record/new/").status_code == 302
    assert client.get(f"/audit_record/edit/?id={row_id}").status_code == 302
    forged = {"username": "changed", "action": "login", "csrf_token": token}
    assert client.post("/audit_record/new/", data=forged).status_code == 302
    assert client.post(f"/audit_record/edit/?id={row_id}", data=forged).status_code == 302
    delete = {"id": row_id, "csrf_token": token}
    assert client.post("/audit_record/delete/", data=delete).status_code == 302
    for action in ("delete", "archive"):
        data = {"action": action, "rowid": row_id, "csrf_token": token}
        assert client.post("/audit_record/action/", data=data).status_code == 302
    assert snapshot(app, AuditRecord, row_id) == before
    with app.app_context():
        after_count = db.session.scalar(select(func.count()).select_from(AuditRecord))
        assert not db.session.scalar(
            select(AuditRecord.id).where(AuditRecord.username == "changed")
        )
    assert after_count >= before_count
    list_page = client.get("/audit_record/").get_data(as_text=True)
    assert "/audit_record/edit/" not in list_page and "/audit_record/delete/" not in list_page


def test_postgresql_refuses_update_and_delete_of_audit_rows(app):
    """On PostgreSQL, does the database itself refuse UPDATE and DELETE on
    audit_record (the append-only trigger), from SQL and from the ORM alike?"""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the append-only trigger exists on PostgreSQL only")
        row = f.audit_record(changes={"surname": {"old": "А", "new": "Б"}})
        db.session.commit()
        row_id = row.id
        for statement in (
            "UPDATE audit_record SET username = 'forged'",
            "DELETE FROM audit_record",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        row = db.session.get(AuditRecord, row_id)
        row.username = "forged"
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditRecord, row_id))
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditRecord, row_id).username == "admin"


def test_audit_times_are_utc(app, client, auth):
    """Are audit times written as timezone-aware UTC — read back aware on
    PostgreSQL, and as UTC wall-clock time on SQLite (which keeps no offset)?"""
    with app.app_context():
        make_user("district_worker", "clock")
        record_event(db.session, "view", "family", 1)
        pending = [o for o in db.session.new if isinstance(o, AuditRecord)]
        assert pending and all(o.at.utcoffset() == dt.timedelta(0) for o in pending)
        db.session.rollback()
    before = dt.datetime.now(dt.UTC)
    assert auth.login("clock").status_code == 302
    after = dt.datetime.now(dt.UTC)
    with app.app_context():
        dialect = db.engine.dialect.name
    at = one(app, action="login")["at"]
    if dialect == "postgresql":
        assert at.tzinfo is not None and at.utcoffset() is not None
    else:
        assert at.tzinfo is None
        at = at.replace(tzinfo=dt.UTC)
    slack = dt.timedelta(seconds=5)
    assert before - slack <= at <= after + slack, (before, at, after)
