"""A district's children figures, counted once and kept until its data changes.

The regional statistics (families with children, children, children in
low-income families, disabled children and children with ОВЗ, minors in a
socially dangerous situation) aggregate every child of the region: counted
afresh on every page they cost the whole person table. A district's figures
on a date change only when one of its families or their members changes, so
they are kept in `district_figures`, valid while the district's
`district_tally.version` is still the one they were counted against.

Triggers bump a district's version in the same transaction as any change of
its families or members that the figures depend on, from any path (panel,
workflows, CLI, plain SQL). The reports read a count together with the version
it is valid for in one statement (one snapshot), so a change committed a moment
later leaves the kept row outdated — counted again next time — never wrong.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DDL, BigInteger, Date, ForeignKey, Integer, event
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, db

FIGURES = (
    "families",
    "children",
    "low_income_children",
    "disabled_children",
    "ovz_children",
    "dangerous_minors",
)


class DistrictTally(Model):
    """How many times the figures' data of a district has changed (bumped by triggers)."""

    __tablename__ = "district_tally"

    district_id: Mapped[int] = mapped_column(
        ForeignKey("district.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger, default=0)

    def __str__(self) -> str:
        return f"участок {self.district_id}: версия {self.version}"


class DistrictFigures(Model):
    """A district's children figures on one date, counted at `version` of its tally."""

    __tablename__ = "district_figures"

    district_id: Mapped[int] = mapped_column(
        ForeignKey("district.id", ondelete="CASCADE"), primary_key=True
    )
    on_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    families: Mapped[int] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer)
    low_income_children: Mapped[int] = mapped_column(Integer)
    disabled_children: Mapped[int] = mapped_column(Integer)
    ovz_children: Mapped[int] = mapped_column(Integer)
    dangerous_minors: Mapped[int] = mapped_column(Integer)

    def __str__(self) -> str:
        return f"участок {self.district_id} на {self.on_date:%d.%m.%Y}"


# The columns the figures depend on: a change of any other column bumps nothing.
FAMILY_COLUMNS = "district_id, is_low_income, is_dangerous, archived_at"
PERSON_COLUMNS = "family_id, relation, birth_date, disability_status, archived_at"
_BUMP = (
    "INSERT INTO district_tally (district_id, version) SELECT {district}, 1 "
    "WHERE {district} IS NOT NULL "
    "ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1"
)
_FAMILY_DISTRICT = "(SELECT district_id FROM family WHERE id = {row}.family_id)"

# PostgreSQL: one trigger function per table. The two districts of a move are
# bumped in id order, so two opposite moves at once cannot deadlock.
POSTGRESQL_TRIGGERS = (
    f"""
    CREATE OR REPLACE FUNCTION district_tally_bump(target integer) RETURNS void AS $$
        {_BUMP.format(district="target")}
    $$ LANGUAGE sql
    """,
    """
    CREATE OR REPLACE FUNCTION family_district_tally() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM district_tally_bump(NEW.district_id);
        ELSIF TG_OP = 'DELETE' OR OLD.district_id = NEW.district_id THEN
            PERFORM district_tally_bump(OLD.district_id);
        ELSE
            PERFORM district_tally_bump(LEAST(OLD.district_id, NEW.district_id));
            PERFORM district_tally_bump(GREATEST(OLD.district_id, NEW.district_id));
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE OR REPLACE FUNCTION person_district_tally() RETURNS trigger AS $$
    DECLARE
        before_district integer;
        after_district integer;
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            before_district := {_FAMILY_DISTRICT.format(row="OLD")};
        END IF;
        IF TG_OP <> 'DELETE' THEN
            after_district := {_FAMILY_DISTRICT.format(row="NEW")};
        END IF;
        IF before_district IS NOT DISTINCT FROM after_district
                OR before_district IS NULL OR after_district IS NULL THEN
            PERFORM district_tally_bump(COALESCE(before_district, after_district));
        ELSE
            PERFORM district_tally_bump(LEAST(before_district, after_district));
            PERFORM district_tally_bump(GREATEST(before_district, after_district));
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE TRIGGER family_district_tally
    AFTER INSERT OR DELETE OR UPDATE OF {FAMILY_COLUMNS} ON family
    FOR EACH ROW EXECUTE FUNCTION family_district_tally()
    """,
    f"""
    CREATE TRIGGER person_district_tally
    AFTER INSERT OR DELETE OR UPDATE OF {PERSON_COLUMNS} ON person
    FOR EACH ROW EXECUTE FUNCTION person_district_tally()
    """,
)
DROP_POSTGRESQL_TRIGGERS = (
    "DROP TRIGGER IF EXISTS person_district_tally ON person",
    "DROP TRIGGER IF EXISTS family_district_tally ON family",
    "DROP FUNCTION IF EXISTS person_district_tally()",
    "DROP FUNCTION IF EXISTS family_district_tally()",
    "DROP FUNCTION IF EXISTS district_tally_bump(integer)",
)


def _sqlite_trigger(name: str, event_sql: str, table: str, *districts: str) -> str:
    bumps = "".join(f"{_BUMP.format(district=d)};\n" for d in districts)
    return f"CREATE TRIGGER {name} AFTER {event_sql} ON {table} BEGIN\n{bumps}END"


# SQLite: one trigger per table and event; a district bumped twice in one move is harmless.
SQLITE_TRIGGERS = (
    _sqlite_trigger("family_tally_insert", "INSERT", "family", "NEW.district_id"),
    _sqlite_trigger("family_tally_delete", "DELETE", "family", "OLD.district_id"),
    _sqlite_trigger(
        "family_tally_update",
        f"UPDATE OF {FAMILY_COLUMNS}",
        "family",
        "OLD.district_id",
        "NEW.district_id",
    ),
    _sqlite_trigger("person_tally_insert", "INSERT", "person", _FAMILY_DISTRICT.format(row="NEW")),
    _sqlite_trigger("person_tally_delete", "DELETE", "person", _FAMILY_DISTRICT.format(row="OLD")),
    _sqlite_trigger(
        "person_tally_update",
        f"UPDATE OF {PERSON_COLUMNS}",
        "person",
        _FAMILY_DISTRICT.format(row="OLD"),
        _FAMILY_DISTRICT.format(row="NEW"),
    ),
)
DROP_SQLITE_TRIGGERS = tuple(
    f"DROP TRIGGER IF EXISTS {statement.split()[2]}" for statement in SQLITE_TRIGGERS
)


def triggers(dialect: str) -> tuple[str, ...]:
    return POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS


def drop_triggers(dialect: str) -> tuple[str, ...]:
    return DROP_POSTGRESQL_TRIGGERS if dialect == "postgresql" else DROP_SQLITE_TRIGGERS


# The same statements run from the migration and from create_all (tests), once
# every table exists.
for _dialect, _statements in (("postgresql", POSTGRESQL_TRIGGERS), ("sqlite", SQLITE_TRIGGERS)):
    for _statement in _statements:
        event.listen(db.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
