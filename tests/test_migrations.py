"""Do the Alembic migrations build exactly the schema the models describe, and take it down again?

The suite's own database is built with create_all; production is built by
the migrations. These tests migrate a separate, empty database (an SQLite
file, or a throwaway PostgreSQL database on the server of DATABASE_URL) and
compare it with the models, so the two can never drift apart unnoticed.
"""

from __future__ import annotations

import ast
import contextlib
import logging
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import throwaway_database
from sqlalchemy import CheckConstraint, inspect, text

from app import create_app
from models import db
from models.keys import FAMILY_TEXT

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "models" / "migrations")


@contextlib.contextmanager
def kept_logging():
    """Alembic's env.py calls logging.fileConfig, which disables every existing
    logger; put the suite's loggers back as they were afterwards."""
    manager = logging.root.manager
    before = {
        name: (lg.disabled, lg.level)
        for name, lg in manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    root_level, root_handlers = logging.root.level, list(logging.root.handlers)
    try:
        yield
    finally:
        for name, (disabled, level) in before.items():
            lg = logging.getLogger(name)
            lg.disabled, lg.level = disabled, level
        logging.root.setLevel(root_level)
        logging.root.handlers[:] = root_handlers


@pytest.fixture
def empty_database_url(tmp_path):
    """The URL of a new, empty database, dropped after the test."""
    with throwaway_database(tmp_path / "migrated.sqlite3") as url:
        yield url


@pytest.fixture
def migrated(empty_database_url):
    """An app on the empty database, upgraded to the newest migration (in an app context)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "migration-test",
        }
    )
    with app.app_context():
        with kept_logging():
            flask_migrate.upgrade(directory=MIGRATIONS)
        yield app
        db.session.remove()
        db.engine.dispose()


def kept_by_the_models(name, type_, parent_names) -> bool:
    """SQLite's FTS5 table of the family's search key (models/keys.py) and its shadow
    tables are made by DDL of the family table, not by models of their own."""
    return not (type_ == "table" and name and name.startswith(FAMILY_TEXT))


def schema_diff() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": kept_by_the_models}
        )
        return compare_metadata(context, db.metadata)


def describe(item) -> str:
    """One autogenerate difference in words: ('add_fk', 'department', 'fk_department_head')."""
    if isinstance(item, list):  # column modifications come as a list of tuples
        return "; ".join(describe(i) for i in item)
    op, *rest = item
    parts = [op]
    for part in rest:
        table = getattr(part, "table", None)
        if table is not None and hasattr(table, "name"):
            parts.append(table.name)
        parts.append(str(getattr(part, "name", part)))
    return " ".join(parts)


def check_names(inspector, table: str) -> set[str]:
    return {c["name"] for c in inspector.get_check_constraints(table) if c.get("name")}


def test_migrations_have_one_head():
    """Is there exactly one head revision (no forgotten merge)?"""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config(str(Path(MIGRATIONS) / "alembic.ini"))
    config.set_main_option("script_location", MIGRATIONS)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_migrations_are_frozen():
    """Does no migration import the live models (a constant, a SQL text, a function), so that
    editing the models later cannot change what an old migration does on a fresh install?"""
    leaning = []
    for path in sorted((Path(MIGRATIONS) / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            leaning += [f"{path.name}: {name}" for name in names if name.split(".")[0] == "models"]
    assert leaning == []


def test_migrated_schema_matches_models(migrated):
    """Does `flask db upgrade` on an empty database give exactly the models' tables,
    columns, types, indexes and foreign keys (an empty autogenerate diff)?"""
    diff = [describe(d) for d in schema_diff()]
    assert diff == [], "the migrations differ from the models:\n" + "\n".join(diff)


def test_migrated_schema_has_every_check_constraint(migrated):
    """Does the migrated database carry every CHECK of the models, under the same name?

    Autogenerate does not compare CHECK constraints, so they are compared here:
    the six-month rule, date orders and the code lists must exist in production too.
    """
    inspector = inspect(db.engine)
    missing = {}
    for table in db.metadata.sorted_tables:
        wanted = {
            str(c.name)
            for c in table.constraints
            if isinstance(c, CheckConstraint) and c.name is not None
        }
        lacking = wanted - check_names(inspector, table.name)
        if lacking:
            missing[table.name] = sorted(lacking)
    assert not missing, missing


def test_migrated_schema_refuses_a_second_open_loan(migrated):
    """Does the migrated database hold the one-open-loan rule (the partial unique index)?"""
    indexes = {i["name"]: i for i in inspect(db.engine).get_indexes("loan")}
    assert "uq_loan_open_unit" in indexes
    assert indexes["uq_loan_open_unit"]["unique"]
    with db.engine.connect() as conn:
        index_sql = {
            "sqlite": "SELECT sql FROM sqlite_master WHERE name = 'uq_loan_open_unit'",
            "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_loan_open_unit'",
        }[db.engine.dialect.name]
        definition = conn.execute(text(index_sql)).scalar().lower()
    assert "returned_on is null" in definition


def test_downgrade_to_base_and_up_again(migrated):
    """Does `flask db downgrade base` remove every table, and can the schema be rebuilt after?"""
    with kept_logging():
        flask_migrate.downgrade(directory=MIGRATIONS, revision="base")
    db.engine.dispose()
    left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert left == set()
    with kept_logging():
        flask_migrate.upgrade(directory=MIGRATIONS)
    db.engine.dispose()
    rebuilt = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert {name for name in rebuilt if kept_by_the_models(name, "table", {})} == set(
        db.metadata.tables
    )


def test_the_search_keys_are_filled_on_a_loaded_database(empty_database_url):
    """Does 0016_search fill the keys of rows that existed before it (and, on SQLite, an FTS
    index that stays sound), so that the old rows are found like new ones?"""
    from sqlalchemy import text

    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "m"}
    )
    with app.app_context():
        with kept_logging():
            flask_migrate.upgrade(directory=MIGRATIONS, revision="0011_archive")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO district (id, name) VALUES (1, 'Участок № 1')"))
            conn.execute(
                text(
                    "INSERT INTO family (id, surname, district_id, address, phone, is_large, "
                    "is_low_income, is_single_parent, is_foster, is_dangerous, identified_by, "
                    "status, version, created_at) VALUES (1, 'Емельяновы', 1, 'ул. Садовая, 12', "
                    "NULL, false, false, false, false, false, 'self', 'registered', 1, "
                    "CURRENT_TIMESTAMP)"
                )
            )
        with kept_logging():
            flask_migrate.upgrade(directory=MIGRATIONS)
        with db.engine.begin() as conn:
            keys = conn.execute(text("SELECT search_key, text_key FROM family")).one()
            assert tuple(keys) == ("емельянов", "улсадовая12|")
            if db.engine.dialect.name == "sqlite":
                conn.execute(
                    text("INSERT INTO family_text(family_text) VALUES ('integrity-check')")
                )
                found = conn.execute(
                    text("SELECT rowid FROM family_text WHERE text_key LIKE '%садовая%'")
                ).all()
                assert [tuple(row) for row in found] == [(1,)]
                conn.execute(text("UPDATE family SET address = 'ул. Лесная, 3'"))
                conn.execute(
                    text("INSERT INTO family_text(family_text) VALUES ('integrity-check')")
                )
        db.session.remove()
        db.engine.dispose()


def test_council_meetings_recorded_before_0019_keep_every_row(empty_database_url):
    """Does 0019_council keep a meeting recorded before it — its date, district, agenda,
    free-text decisions, staff and partner institutions — and show it on the new page's
    terms (no agenda cases, no decision rows, nobody recorded it)?"""
    from sqlalchemy import text

    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "m"}
    )
    with app.app_context():
        with kept_logging():
            flask_migrate.upgrade(directory=MIGRATIONS, revision="0016_search")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO district (id, name) VALUES (1, 'Участок № 1')"))
            conn.execute(
                text(
                    "INSERT INTO staff (id, last_name, first_name, position, role, active) "
                    "VALUES (1, 'Иванова', 'Мария', 'специалист', 'district_worker', true)"
                )
            )
            conn.execute(
                text("INSERT INTO partner (id, name, kind) VALUES (1, 'Школа № 1', 'school')")
            )
            conn.execute(
                text(
                    "INSERT INTO council_meeting (id, held_on, district_id, agenda, decisions) "
                    "VALUES (1, '2025-02-14', 1, 'О семьях участка', 'Провести рейд')"
                )
            )
            conn.execute(text("INSERT INTO staff_district VALUES (1, 1)"))
            conn.execute(text("INSERT INTO council_meeting_staff VALUES (1, 1)"))
            conn.execute(text("INSERT INTO council_meeting_partner VALUES (1, 1)"))
        with kept_logging():
            flask_migrate.upgrade(directory=MIGRATIONS)
        with db.engine.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT held_on, district_id, agenda, decisions, recorded_by_id "
                    "FROM council_meeting"
                )
            ).one()
            assert tuple(row)[1:] == (1, "О семьях участка", "Провести рейд", None)
            assert conn.execute(text("SELECT * FROM council_meeting_staff")).all() == [(1, 1)]
            assert conn.execute(text("SELECT * FROM council_meeting_partner")).all() == [(1, 1)]
            assert conn.execute(text("SELECT * FROM staff_district")).all() == [(1, 1)]
            assert conn.execute(text("SELECT count(*) FROM council_decision")).scalar() == 0
            assert conn.execute(text("SELECT notice_digest FROM staff")).scalar() in (False, 0)
        db.session.remove()
        db.engine.dispose()
