"""Kept report parts: counted once, read again while none of the tables they read changed.

`kept(session, key, count)` returns what `count()` returns. It first reads every table's
change count (figure_tally, kept by triggers from any path: panel, workflows, CLI, plain
SQL), then the part kept under `key`: when the counts of all the tables that part read are
still the ones it was counted at, it is returned as kept. Otherwise `count()` runs, the
tables its statements name are noted, and the result is kept with the counts read *before*
it ran: a change committed meanwhile has a higher count, so that row is counted again on
the next read — a kept part can be outdated, never shown. A part that read a table whose
changes are not counted (no trigger in the database's catalogue) or ran a statement whose
tables cannot be told (plain text) is not kept. figure_tally is never emptied while
kept_figures holds rows (a count could then come round to an old value).
The caller's commit keeps it; every app server reads the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ClauseElement, Table, TextClause, delete, event, func, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from models import FigureTally, KeptFigures, User
from models.base import utcnow
from models.figures import KEPT_DAYS
from models.roles import counts_whole_centre

T = TypeVar("T")
UNKNOWN = "?"  # a statement whose tables cannot be told (plain text)
# What a part may read without depending on it: the kept figures themselves (a district's
# kept children figures follow district_tally, which is counted).
CACHES = frozenset({"district_figures", "figure_tally", "kept_figures"})


def scope_key(user: User) -> str:
    """The part of a key that says whose rows are counted: the whole centre, or one user's."""
    if counts_whole_centre(user.role):
        return "centre"
    return f"user{user.id}:{user.role}:{user.staff_id}"


def table_versions(session: Session) -> dict[str, int]:
    """Every counted table's change count now (the sum of its shards; none yet is 0)."""
    rows = session.execute(
        select(FigureTally.name, func.sum(FigureTally.version)).group_by(FigureTally.name)
    )
    return {name: int(version) for name, version in rows}


def triggered_tables(session: Session) -> set[str]:
    """The tables whose changes the triggers count (those of migration 0025_kept and later):
    asked of the database's catalogue, so a table without the trigger is never relied on."""
    if session.get_bind().dialect.name == "postgresql":
        found = session.scalars(
            text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = c.relname || '_figure_tally'"
            )
        )
    else:
        found = session.scalars(
            text(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND name = tbl_name || '_figure_tally_delete'"
            )
        )
    return set(found)


class _Reads:
    """The tables named by the statements run on a connection while it listens."""

    def __init__(self) -> None:
        self.tables: set[str] = set()

    def __call__(
        self, _conn: Connection, clause: Any, _multiparams: Any, _params: Any, _options: Any
    ) -> None:
        if isinstance(clause, TextClause) or not isinstance(clause, ClauseElement):
            self.tables.add(UNKNOWN)
            return
        for found in find_tables(clause, include_aliases=True, include_crud=True):
            # An alias (a subquery, a table named twice) is looked into; the tables count.
            if isinstance(found, Table):
                self.tables.add(found.name)


def _upsert(session: Session, row: dict[str, Any]) -> None:
    """Keep `row`, and drop the parts counted more than KEPT_DAYS ago."""
    session.execute(
        delete(KeptFigures).where(
            KeptFigures.counted_at < row["counted_at"] - dt.timedelta(days=KEPT_DAYS)
        )
    )
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(KeptFigures).values(row)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"],
            set_={k: statement.excluded[k] for k in ("versions", "figures", "counted_at")},
        )
    )


def kept(
    session: Session,
    key: str,
    count: Callable[[], T],
    encode: Callable[[T], Any] = lambda value: value,
    decode: Callable[[Any], T] = lambda value: value,
) -> T:
    """`count()`, or what it gave before while the tables it read are unchanged (see above).

    `encode` turns the result into JSON (lists, dicts, str, int, float, None), `decode`
    turns that back."""
    versions = table_versions(session)
    row = session.execute(
        select(KeptFigures.versions, KeptFigures.figures).where(KeptFigures.key == key)
    ).first()
    if (
        row is not None
        and row.versions
        and all(versions.get(name, 0) == version for name, version in row.versions.items())
    ):
        return decode(row.figures)
    reads = _Reads()
    connection = session.connection()
    event.listen(connection, "before_execute", reads)
    try:
        value = count()
    finally:
        event.remove(connection, "before_execute", reads)
    read = reads.tables - CACHES
    if UNKNOWN in read or not read or not read <= triggered_tables(session):
        return value
    _upsert(
        session,
        {
            "key": key,
            "versions": {name: versions.get(name, 0) for name in sorted(read)},
            "figures": encode(value),
            "counted_at": utcnow(),
        },
    )
    return value
