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
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
)
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


# --- kept report parts: valid while none of the tables they read has changed ---------------
#
# A whole-centre report part (the pilot's tables, the workload, the board's load, the home
# page's months) aggregates tables of every district. It is kept in `kept_figures` with the
# change count (`figure_tally`) of every table it read; it is read again only while all those
# counts are unchanged. Triggers count every statement that changes a table (PostgreSQL: a
# statement trigger; SQLite: row triggers) in the same transaction, from any path. The count
# of a table is spread over FIGURE_SHARDS rows (PostgreSQL: by transaction id), so writers of
# one table do not queue on one row; a table's count is the sum of its rows.

FIGURE_SHARDS = 16
# A kept part counted longer ago is dropped when another is kept: the keys name a day or a
# period, so yesterday's parts are seldom asked for again.
KEPT_DAYS = 2
# Tables no kept part depends on: the kept figures themselves (district_figures follows
# district_tally, which is counted), and the busy bookkeeping no report reads.
UNCOUNTED_TABLES = frozenset(
    {
        "alembic_version",
        "audit_record",
        "audit_seal",
        "district_figures",
        "figure_tally",
        "form_draft",
        "kept_figures",
        "login_throttle",
        "message",
        "staff_notice",
        "user_session",
    }
)


class FigureTally(Model):
    """How many changing statements a table has seen (one of its FIGURE_SHARDS rows)."""

    __tablename__ = "figure_tally"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.version}"


class KeptFigures(Model):
    """A report part as counted (`figures`, JSON) when its tables had the `versions` given."""

    __tablename__ = "kept_figures"
    __table_args__ = (Index("ix_kept_figures_counted_at", "counted_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    versions: Mapped[dict[str, int]] = mapped_column(JSON)
    figures: Mapped[Any] = mapped_column(JSON)
    counted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return self.key


_TALLY_BUMP = (
    "INSERT INTO figure_tally (name, shard, version) VALUES ({name}, {shard}, 1) "
    "ON CONFLICT (name, shard) DO UPDATE SET version = figure_tally.version + 1"
)


def counted_tables(names: Iterable[str]) -> list[str]:
    """The tables whose changes are counted, of `names` (every table of a schema)."""
    return sorted(name for name in names if name not in UNCOUNTED_TABLES)


def tally_triggers(dialect: str, tables: Iterable[str]) -> list[str]:
    """The statements that make every change of `tables` count in figure_tally."""
    tables = list(tables)
    if dialect == "postgresql":
        bump = _TALLY_BUMP.format(
            name="TG_TABLE_NAME", shard=f"mod(txid_current(), {FIGURE_SHARDS})"
        )
        function = f"""
        CREATE OR REPLACE FUNCTION figure_tally_bump() RETURNS trigger AS $$
        BEGIN
            {bump};
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
        return [
            function,
            *(
                f"CREATE TRIGGER {t}_figure_tally AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {t} FOR EACH STATEMENT EXECUTE FUNCTION figure_tally_bump()"
                for t in tables
            ),
        ]
    return [
        *(
            f"CREATE TRIGGER {t}_figure_tally_{event_name.lower()} AFTER {event_name} ON {t} "
            f"BEGIN {_TALLY_BUMP.format(name=repr(t), shard=0)}; END"
            for t in tables
            for event_name in ("INSERT", "UPDATE", "DELETE")
        ),
    ]


def drop_tally_triggers(dialect: str, tables: Iterable[str]) -> list[str]:
    if dialect == "postgresql":
        return [
            *(f"DROP TRIGGER IF EXISTS {t}_figure_tally ON {t}" for t in tables),
            "DROP FUNCTION IF EXISTS figure_tally_bump()",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {t}_figure_tally_{e}"
        for t in tables
        for e in ("insert", "update", "delete")
    ]


@event.listens_for(db.metadata, "after_create")
def _tally_every_table(metadata: Any, connection: Any, **_kw: Any) -> None:
    """create_all (tests, a fresh SQLite file): the same triggers as migration 0025_kept."""
    for statement in tally_triggers(connection.dialect.name, counted_tables(metadata.tables)):
        connection.exec_driver_sql(statement)
