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
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine

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
    here = os.path.dirname(os.path.abspath(__file__))
    twins = sorted(
        name
        for name, module in list(sys.modules.items())
        if name.startswith("tests.")
        and os.path.abspath(getattr(module, "__file__", None) or "").startswith(here)
    )
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
        # A throwaway database need not survive a crash: commit without waiting for the disk.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _no_fsync(dbapi_connection, _record) -> None:
    """The test file need not survive a crash: SQLite commits without waiting for
    the disk (about 2 ms a commit). Locking and journalling stay as they are."""
    dbapi_connection.execute("PRAGMA synchronous = OFF")


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    with throwaway_database(tmp_path_factory.mktemp("db") / "test.sqlite3") as url:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "test-secret",
                # The document store of the tests, not the checkout's instance/documents.
                "OPORA_DOCUMENTS_DIR": str(tmp_path_factory.mktemp("documents")),
            }
        )
        with app.app_context():
            if db.engine.dialect.name == "sqlite":
                event.listen(db.engine, "connect", _no_fsync)
                db.engine.dispose()  # a connection made before the listener gets it too
            db.create_all()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- an empty database for every test ---------------------------------------------------

# Statements that change no row; anything else counts as a write (see `kept`).
READS = re.compile(r"\s*(SELECT|PRAGMA|SHOW|SET|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)\b", re.I)


class Writes:
    """How many writing statements any engine of this process has sent so far."""

    count = 0


@event.listens_for(Engine, "before_cursor_execute")
def _count_writes(_conn, _cursor, statement, _parameters, _context, _executemany):
    if not READS.match(statement):
        Writes.count += 1


def _filled_tables(session) -> list[str]:
    """The tables holding rows, children before parents: one query, not one per table."""
    quote = session.get_bind().dialect.identifier_preparer.quote
    tables = [quote(t.name) for t in reversed(db.metadata.sorted_tables)]
    probe = " UNION ALL ".join(
        f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {name})"  # noqa: S608 - names from metadata
        for i, name in enumerate(tables)
    )
    return [tables[i] for i in sorted(session.scalars(text(probe)))]


def empty_every_table(app) -> None:
    """Empty the tables a test filled, and restart the ids as a fresh database would.

    TRUNCATE of every table costs PostgreSQL about a second per test; DELETE of
    the few filled tables costs milliseconds. PostgreSQL runs the DELETEs as a
    replica (session_replication_role, a superuser's right) so that no trigger
    fires: the append-only audit trigger would refuse them. Without that right
    the filled tables are truncated. On SQLite the tally triggers fire on
    DELETE, so the probe repeats until every table is empty.
    """
    with app.app_context():
        db.session.rollback()
        postgresql = db.engine.dialect.name == "postgresql"
        for _attempt in range(3):
            filled = _filled_tables(db.session)
            if not filled:
                break
            if postgresql and not _superuser(db.session):
                db.session.execute(text(f"TRUNCATE {', '.join(filled)} RESTART IDENTITY CASCADE"))
            else:
                if postgresql:
                    db.session.execute(text("SET LOCAL session_replication_role = replica"))
                for name in filled:
                    db.session.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - names from metadata
            if postgresql:  # what TRUNCATE ... RESTART IDENTITY does to every table's ids
                db.session.execute(
                    text(
                        "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) "
                        "FROM pg_sequences "
                        "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                    )
                )
            db.session.commit()
        else:
            raise AssertionError(f"tables still filled after cleaning: {filled}")
        db.session.remove()
    Kept.forget()


def _superuser(session) -> bool:
    return session.scalar(text("SELECT current_setting('is_superuser')")) == "on"


class Kept:
    """The one data set now kept in the database for the tests that share it (see `kept`)."""

    key: str | None = None
    value = None
    writes = 0

    @classmethod
    def forget(cls) -> None:
        cls.key, cls.value, cls.writes = None, None, Writes.count

    @classmethod
    def untouched(cls) -> bool:
        return cls.key is not None and Writes.count == cls.writes


@pytest.fixture
def kept(app, request):
    """kept(key, build) -> build()'s result: rows built once and kept for the following
    tests that ask for the same `key`, as long as no test writes to the database.

    For expensive read-only data (every page's world, the seeded demo). A test
    that writes anything (counted per statement, on every engine) has the
    database emptied after it as usual, so the next test builds afresh; so does
    a test that does not ask for the kept data. `build` runs outside an app
    context and returns plain values (ids, texts), never ORM rows.
    """
    request.node.keeps_data = True

    def _kept(key: str, build):
        if Writes.count != Kept.writes:
            pytest.fail("ask for the kept data before anything of the test writes", pytrace=False)
        if Kept.key != key:
            if Kept.key is not None:  # another data set is kept
                empty_every_table(app)
            Kept.value = build()
            Kept.key, Kept.writes = key, Writes.count
        return Kept.value

    return _kept


@pytest.fixture(autouse=True)
def clean_tables(app, request):
    """After each test every table is empty again, unless the test shared the kept
    data and wrote nothing. A test that does not share it never starts on it."""
    if Kept.key is not None and "kept" not in request.fixturenames:
        empty_every_table(app)
    yield
    if not (getattr(request.node, "keeps_data", False) and Kept.untouched()):
        empty_every_table(app)


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
