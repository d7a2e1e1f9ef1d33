"""Fixtures shared by the whole suite; the same tests run on SQLite and PostgreSQL.

DATABASE_URL selects the database (PostgreSQL in CI's second pass); without it
a throwaway SQLite file is used. The schema is built once per session and
every table is emptied after each test.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from contextlib import contextmanager

import pytest
from factories import FAST_HASH, PASSWORD
from sqlalchemy import create_engine, make_url, text

from app import create_app, database_url
from models import District, Staff, User, db

CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def pytest_collection_finish(session):
    """Refuse a second import path for the helper modules.

    pytest puts tests/ on sys.path (this conftest's folder, no __init__.py), so the
    helpers are imported by their bare names: `import factories`, `from conftest
    import ...`. Imported as `tests.factories` a module would be loaded a second
    time, with its own seq() counter handing out numbers the first already gave.
    """
    twins = sorted(name for name in sys.modules if name.startswith("tests."))
    if twins:
        raise pytest.UsageError(
            "import the test helpers by their bare names (import factories), not as "
            + ", ".join(twins)
        )


@contextmanager
def throwaway_database(sqlite_path):
    """A fresh database for this test run: a new PostgreSQL database on the server
    named by DATABASE_URL (so parallel runs never collide), or an SQLite file."""
    if not os.environ.get("DATABASE_URL"):
        yield f"sqlite:///{sqlite_path}"
        return
    server = make_url(database_url())
    name = f"opora_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    with throwaway_database(tmp_path_factory.mktemp("db") / "test.sqlite3") as url:
        app = create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"}
        )
        with app.app_context():
            db.create_all()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_tables(app):
    yield
    with app.app_context():
        db.session.rollback()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                db.session.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - table names from metadata
        db.session.commit()
        db.session.remove()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- the browser's side of sign-in and forms: the one CSRF reader, the one sign-in ------


def csrf_token(client, url: str = "/") -> str:
    """The CSRF token on `url`, as a browser would send it back.

    Every page of a signed-in session carries one (the home page by default);
    before sign-in, /login does.
    """
    page = client.get(url)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1) or match.group(2)


def post_form(client, url: str, data: dict, form_url: str | None = None):
    """POST `data` to `url` with the CSRF token taken from the form page."""
    data = dict(data)
    data["csrf_token"] = csrf_token(client, form_url or url)
    return client.post(url, data=data)


def make_user(role: str, username: str | None = None, districts=(), **staff_fields) -> User:
    """A staff member with a login account of `role` (call inside an app context)."""
    staff = Staff(
        last_name=staff_fields.pop("last_name", "Иванова"),
        first_name=staff_fields.pop("first_name", "Мария"),
        middle_name=staff_fields.pop("middle_name", "Петровна"),
        position=staff_fields.pop("position", "специалист"),
        role=role,
        active=True,
        **staff_fields,
    )
    # Districts may be given as ids, so callers need not share this session.
    staff.districts = [db.session.get(District, d) if isinstance(d, int) else d for d in districts]
    db.session.add(staff)
    db.session.flush()
    # FAST_HASH, not set_password's scrypt (~0.1 s to hash and again at each sign-in);
    # the tests of hashing set their passwords through the panel or the CLI. The
    # epoch is what set_password would have left.
    user = User(
        username=username or role,
        role=role,
        staff_id=staff.id,
        active=True,
        password_hash=FAST_HASH,
        session_epoch=1,
    )
    db.session.add(user)
    db.session.commit()
    return user


class Auth:
    """The sign-in form as a browser submits it; `login` returns the answer as it is,
    for the tests of sign-in itself (refusals, throttling, `next`)."""

    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD, next_url: str | None = None):
        url = "/login" + (f"?next={next_url}" if next_url else "")
        token = csrf_token(self.client, "/login")
        return self.client.post(
            url, data={"username": username, "password": password, "csrf_token": token}
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client)})


def signed_in(app, username: str, password: str = PASSWORD, *, client=None):
    """`client` (else a new browser: a new test client) signed in as the existing
    account `username` through the real /login form; fails unless sign-in succeeds.

    The one way a test signs in. Requests run outside an app context (inside
    one they would share `g` and the database session with the test).
    """
    client = client or app.test_client()
    response = Auth(client).login(username, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def login_as(app, client):
    """login_as(role, username=None, districts=[...], **staff) creates a staff member
    with an account of `role` (make_user) and signs the `client` in as it."""

    def _login(role: str, username: str | None = None, districts=(), **staff_fields) -> User:
        with app.app_context():
            user = make_user(role, username, districts=districts, **staff_fields)
            user_id, name = user.id, user.username
        signed_in(app, name, client=client)
        with app.app_context():
            return db.session.get(User, user_id)

    return _login
