"""Can the app's own database login erase or rewrite the audit trail? (It must not.)

Two logins, as in production: the owner runs `flask db upgrade` and `flask db grant-app-role`;
the app's login owns nothing. Everything here connects as one of them, in a database of its
own (PostgreSQL only: SQLite has no logins).
"""

from __future__ import annotations

import os
import uuid
from types import SimpleNamespace

import flask_migrate
import pytest
from conftest import Auth, make_user
from security_factories import admin_form
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.exc import DBAPIError
from test_migrations import MIGRATIONS, kept_logging

from app import create_app, database_url
from models import AuditRecord, District, db

needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"), reason="logins are PostgreSQL's"
)
KEY = "roles-test-key-" + "r" * 32
PASSWORD = "opora-audit-test"  # trust auth ignores it; a server with passwords needs one


def _app(url: str):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "roles-test",
            "OPORA_AUDIT_KEY": KEY,
        }
    )


@pytest.fixture(scope="module")
def logins():
    """A database owned by a fresh owner login, migrated by it, with a fresh app login
    granted by `flask db grant-app-role`; dropped with both logins afterwards."""
    server = make_url(database_url())
    suffix = uuid.uuid4().hex[:8]
    owner, app_role = f"opora_audit_test_owner_{suffix}", f"opora_audit_test_app_{suffix}"
    name = f"opora_audit_test_{suffix}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for role in (owner, app_role):
            connection.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{PASSWORD}'"))
        connection.execute(text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    apps = []
    try:
        urls = {
            who: server.set(username=role, password=PASSWORD, database=name).render_as_string(
                hide_password=False
            )
            for who, role in (("owner", owner), ("app", app_role))
        }
        owner_app = _app(urls["owner"])
        apps.append(owner_app)
        with owner_app.app_context(), kept_logging():
            flask_migrate.upgrade(directory=MIGRATIONS)
        result = owner_app.test_cli_runner().invoke(
            args=["db", "grant-app-role", "--role", app_role]
        )
        assert result.exit_code == 0, result.output
        web = _app(urls["app"])
        apps.append(web)
        yield SimpleNamespace(owner=owner, app=app_role, owner_app=owner_app, web=web, urls=urls)
    finally:
        for each in apps:
            with each.app_context():
                db.session.remove()
                db.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for role in (app_role, owner):
                connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def _refused(url: str, statement: str, match: str, before: str | None = None) -> None:
    """`statement` fails with `match` (after `before` in the same transaction)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if before:
                connection.execute(text(before))
            with pytest.raises(DBAPIError, match=match):
                connection.execute(text(statement))
            connection.rollback()
    finally:
        engine.dispose()


APP_REFUSED = [
    ("UPDATE audit_record SET username = 'forged'", "permission denied"),
    ("DELETE FROM audit_record", "permission denied"),
    ("TRUNCATE audit_record", "permission denied"),
    ("ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only", "must be owner"),
    ("ALTER TABLE audit_record DISABLE TRIGGER ALL", "must be owner"),
    ("ALTER TABLE audit_record ALTER COLUMN id SET DEFAULT 1", "must be owner"),
    ("DROP TABLE audit_record", "must be owner"),
    ("UPDATE audit_seal SET hash = 'forged'", "permission denied"),
    ("DELETE FROM audit_seal", "permission denied"),
    ("TRUNCATE audit_seal", "permission denied"),
    ("ALTER TABLE audit_seal DISABLE TRIGGER ALL", "must be owner"),
    (
        "CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger AS "
        "$$ BEGIN RETURN OLD; END $$ LANGUAGE plpgsql",
        "permission denied for schema|must be owner",
    ),
    ("SET session_replication_role = replica", "permission denied"),
    ("INSERT INTO alembic_version VALUES ('forged')", "permission denied"),
]


@pytest.mark.postgres
@needs_postgres
@pytest.mark.parametrize(("statement", "match"), APP_REFUSED, ids=[s for s, _m in APP_REFUSED])
def test_the_app_login_cannot_erase_or_rewrite_the_trail(logins, statement, match):
    """As the app's login: is every way of changing, removing or switching off the audit
    trail and its chain refused — UPDATE, DELETE, TRUNCATE, DISABLE TRIGGER, a new column
    default, DROP, a replaced trigger function, the replica role?"""
    _refused(logins.urls["app"], statement, match)


@pytest.mark.postgres
@needs_postgres
def test_the_app_login_adds_to_and_reads_the_trail(logins):
    """As the app's login: do INSERT and SELECT on the trail and the chain work, and do the
    privileges say exactly that (and full DML on a data table)?"""
    engine = create_engine(logins.urls["app"])
    try:
        with engine.connect() as connection:
            audit_id = connection.execute(
                text(
                    "INSERT INTO audit_record (at, username, action) "
                    "VALUES (now(), 'roles', 'view') RETURNING id"
                )
            ).scalar()
            connection.execute(
                text(
                    "INSERT INTO audit_seal (audit_id, hash, key_id, sealed_at) "
                    "VALUES (:id, :hash, 'k', now())"
                ),
                {"id": audit_id, "hash": "0" * 64},
            )
            assert (
                connection.execute(
                    text("SELECT username FROM audit_record WHERE id = :id"), {"id": audit_id}
                ).scalar()
                == "roles"
            )
            privileges = {
                (table, privilege): connection.execute(
                    text("SELECT has_table_privilege(current_user, :table, :privilege)"),
                    {"table": table, "privilege": privilege},
                ).scalar()
                for table in ("audit_record", "audit_seal", "family", "alembic_version")
                for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
            }
            connection.rollback()  # the made-up link must not stay in the chain
    finally:
        engine.dispose()
    allowed = {key for key, granted in privileges.items() if granted}
    assert allowed == {
        ("audit_record", "SELECT"),
        ("audit_record", "INSERT"),
        ("audit_seal", "SELECT"),
        ("audit_seal", "INSERT"),
        ("family", "SELECT"),
        ("family", "INSERT"),
        ("family", "UPDATE"),
        ("family", "DELETE"),
        ("alembic_version", "SELECT"),
    }


@pytest.mark.postgres
@needs_postgres
@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE audit_record",
        "TRUNCATE audit_seal",
        "TRUNCATE audit_record CASCADE",
        "UPDATE audit_record SET username = 'forged'",
        "DELETE FROM audit_seal",
    ],
)
def test_the_owner_meets_the_append_only_triggers(logins, statement):
    """As the owner (not a superuser): are TRUNCATE (the statement-level trigger), UPDATE and
    DELETE (the row-level ones) refused too?"""
    row_and_link = (
        "WITH row AS (INSERT INTO audit_record (at, username, action) "
        "VALUES (now(), 'owner', 'view') RETURNING id) "
        "INSERT INTO audit_seal (audit_id, hash, key_id, sealed_at) "
        "SELECT id, repeat('0', 64), 'k', now() FROM row"
    )  # so that the row-level triggers have a row to refuse
    _refused(logins.urls["owner"], statement, "append-only", before=row_and_link)


@pytest.mark.postgres
@needs_postgres
def test_the_panel_works_under_the_app_login(logins):
    """Under the app's login: do sign-in, creating and editing a district, opening it and
    sign-out work and leave their audit rows — and do the tick and audit verify run?"""
    web = logins.web
    with web.app_context():
        make_user("admin", "roles-admin")
    client = web.test_client()
    auth = Auth(client)
    assert auth.login("roles-admin").status_code == 302
    form = admin_form(client.get("/district/new/").get_data(as_text=True))["fields"]
    form.update({"name": "Участок двух ролей", "territory": "Север"})
    assert client.post("/district/new/", data=form).status_code == 302
    with web.app_context():
        district_id = db.session.scalar(
            select(District.id).where(District.name == "Участок двух ролей")
        )
    assert district_id
    url = f"/district/edit/?id={district_id}"
    form = admin_form(client.get(url).get_data(as_text=True))["fields"]
    form["territory"] = "Юг"
    assert client.post(url, data=form).status_code == 302
    assert client.get(f"/district/details/?id={district_id}").status_code == 200
    assert auth.logout().status_code == 302
    with web.app_context():
        assert db.session.get(District, district_id).territory == "Юг"
        actions = set(
            db.session.execute(
                select(AuditRecord.action, AuditRecord.username).where(
                    AuditRecord.username == "roles-admin"
                )
            ).all()
        )
    assert {("login", "roles-admin"), ("insert", "roles-admin"), ("update", "roles-admin")} <= (
        actions
    )
    assert ("logout", "roles-admin") in actions

    runner = web.test_cli_runner()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "Запечатано записей журнала аудита" in result.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


@pytest.mark.postgres
@needs_postgres
def test_grant_app_role_is_idempotent_and_refuses_an_owner_or_a_stranger(logins):
    """Does a second grant-app-role change nothing, and does it refuse the owner's own
    login and a role that does not exist, in Russian?"""
    runner = logins.owner_app.test_cli_runner()
    first = runner.invoke(args=["db", "grant-app-role", "--role", logins.app])
    again = runner.invoke(args=["db", "grant-app-role", "--role", logins.app])
    assert first.exit_code == again.exit_code == 0 and first.output == again.output
    result = runner.invoke(args=["db", "grant-app-role", "--role", logins.owner])
    assert result.exit_code == 1 and "владеет таблицами" in result.output
    result = runner.invoke(args=["db", "grant-app-role", "--role", "opora_audit_test_nobody"])
    assert result.exit_code == 1 and "нет" in result.output


@pytest.mark.postgres
@needs_postgres
def test_a_restore_by_the_owner_keeps_the_app_login_to_its_privileges(logins, tmp_path):
    """Does the owner's backup and restore bring back the grants with the tables, so that the
    app's login still writes the panel's tables and still cannot rewrite the trail?"""
    runner = logins.owner_app.test_cli_runner()
    path = tmp_path / "roles.dump"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    engine = create_engine(logins.urls["app"])
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO district (name) VALUES ('После восстановления')"))
    finally:
        engine.dispose()
    _refused(logins.urls["app"], "TRUNCATE audit_record", "permission denied")
    _refused(logins.urls["app"], "ALTER TABLE audit_record DISABLE TRIGGER ALL", "must be owner")


def test_grant_app_role_refuses_sqlite(app, runner):
    """On SQLite, does grant-app-role say that logins are PostgreSQL's, changing nothing?"""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the SQLite answer")
    result = runner.invoke(args=["db", "grant-app-role", "--role", "opora_app"])
    assert result.exit_code == 1 and "только в PostgreSQL" in result.output
