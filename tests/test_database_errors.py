"""A database error never reaches a user as SQL: a number a column cannot hold is a message by
its field, and a busy or failing database is one calm Russian message with nothing written."""

from __future__ import annotations

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from security_factories import admin_form, flashes
from sqlalchemy.exc import OperationalError

from admin_views.modelview.saving import DATABASE_BUSY, OUT_OF_RANGE, SAVE_FAILED
from admin_views.pages import PageView
from models import EquipmentType, db


@pytest.fixture
def clerk_and_type(app):
    with app.app_context():
        make_user("rental_clerk", "clerk")
        type_id = f.equipment_type(loan_term_days=90).id
        db.session.commit()
    return signed_in(app, "clerk"), type_id


def _post_edit(client, type_id: int, **changes):
    url = f"/equipment_type/edit/?id={type_id}"
    fields = admin_form(client.get(url).get_data(as_text=True))["fields"]
    data = {**fields, **changes, "csrf_token": csrf_token(client, url)}
    return client.post(url, data=data, follow_redirects=True)


def _loan_term(app, type_id: int) -> int:
    with app.app_context():
        return db.session.get(EquipmentType, type_id).loan_term_days


def test_a_number_beyond_the_column_is_refused_by_its_field(app, clerk_and_type):
    """Does a loan term of 2**63 days get a Russian message next to the field, with no SQL
    shown and the type unchanged (PostgreSQL refused it as an out-of-range integer)?"""
    client, type_id = clerk_and_type
    body = _post_edit(client, type_id, loan_term_days=str(2**63)).get_data(as_text=True)
    assert OUT_OF_RANGE in body
    assert "[SQL" not in body and "psycopg" not in body and "sqlite3" not in body
    assert _loan_term(app, type_id) == 90


@pytest.mark.parametrize(
    ("error_text", "message"),
    [("database is locked", DATABASE_BUSY), ("disk I/O error", SAVE_FAILED)],
)
def test_a_failing_database_is_told_calmly(app, clerk_and_type, monkeypatch, error_text, message):
    """When the database refuses a save for a reason of its own (SQLite busy beyond its
    timeout, an I/O error), does the user read one calm Russian message — never the SQL —
    and is nothing written?"""
    client, type_id = clerk_and_type

    def failing_commit():
        raise OperationalError("UPDATE equipment_type SET …", {}, Exception(error_text))

    monkeypatch.setattr(db.session, "commit", failing_commit)
    body = _post_edit(client, type_id, loan_term_days="30").get_data(as_text=True)
    monkeypatch.undo()
    assert message in " ".join(flashes(body))
    assert "UPDATE equipment_type" not in body and error_text not in body
    assert _loan_term(app, type_id) == 90


def test_a_workflow_page_refuses_a_busy_database_calmly(app):
    """Does PageView.run turn a busy database into the same calm refusal, rolled back?"""

    def busy():
        raise OperationalError("INSERT INTO loan …", {}, Exception("database is locked"))

    page = next(v for v in app.extensions["admin"][0]._views if isinstance(v, PageView))
    with app.test_request_context("/"):
        outcome = page.run(busy)
    assert not outcome.ok
    assert str(outcome.refusal) == DATABASE_BUSY


def test_sqlite_waits_for_another_writer(app, app_ctx):
    """Is SQLite given a busy timeout, so a save waits for another process's write instead
    of failing at once?"""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the busy timeout is SQLite's")
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"]["timeout"] == app.config["SQLITE_BUSY_TIMEOUT"] > 0
