"""Declarative base, shared column helpers and the closed code lists.

Every closed list of codes (statuses, roles, categories) is a `Choices`: the
database stores the English code and holds it with a CHECK constraint; people
read the Russian label.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from typing import TYPE_CHECKING, Any, ClassVar, cast

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, Engine, Enum, Integer, MetaData, Table, event, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Date

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # SQLAlchemy types __table__ as any FromClause; every model here is mapped to a
        # Table, which Core's insert/update/delete take (they write without the ORM).
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # mypy cannot take an attribute of an instance (db.Model) as a base class. db.Model
    # is made at run time as a subclass of Base, so for the checker a model is a Base.
    Model = Base
else:
    Model = db.Model

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def column(*args: Any, label: str, **kwargs: Any) -> MappedColumn[Any]:
    """A mapped column that carries its Russian label for the panel."""
    info = kwargs.pop("info", {})
    info["label"] = label
    return mapped_column(*args, info=info, **kwargs)


def full_name(last: str | None, first: str | None, middle: str | None) -> str:
    """Фамилия Имя Отчество, without the parts that are missing."""
    return " ".join(part for part in (last, first, middle) if part)


class Choices:
    """A closed list of codes with Russian labels, stored as checked text."""

    def __init__(self, name: str, labels: dict[str, str]):
        self.name = name
        self.labels = labels

    @property
    def codes(self) -> list[str]:
        return list(self.labels)

    def label(self, code: str | None) -> str:
        if code is None:
            return ""
        return self.labels.get(code, code)

    def pairs(self) -> list[tuple[str, str]]:
        return list(self.labels.items())

    def column(self, *, label: str, name: str | None = None, **kwargs: Any) -> MappedColumn[Any]:
        kind = Enum(
            *self.codes,
            name=name or self.name,
            native_enum=False,
            create_constraint=True,
            length=max(len(c) for c in self.codes),
            validate_strings=True,
        )
        info = kwargs.pop("info", {})
        info["choices"] = self
        return column(kind, label=label, info=info, **kwargs)


class ArchivedMixin:
    """Rows that are never hard-deleted: the panel's delete archives them."""

    # Indexed by a partial index of the archived rows only (models/search.py): an index of
    # every row's archived_at led SQLite's planner to read all live rows through it and
    # sort them, instead of walking the list's sort index.
    archived_at: Mapped[dt.datetime | None] = column(DateTime(timezone=True), label="В архиве с")

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class VersionedMixin:
    """Optimistic locking: a save from a stale copy fails instead of overwriting."""

    version: Mapped[int] = column(Integer, label="Версия", nullable=False, default=1)

    @classmethod
    def __declare_last__(cls) -> None:
        model = cast("type[Base]", cls)  # the mixin is only ever part of a model
        model.__mapper__.version_id_col = model.__table__.c.version


class CreatedMixin:
    created_at: Mapped[dt.datetime] = column(
        DateTime(timezone=True),
        label="Создано",
        nullable=False,
        default=utcnow,
        server_default=func.now(),
    )


class add_months(FunctionElement[dt.date]):
    """date + N calendar months, clamped to the month's end (31 Aug + 6 = 28/29 Feb).

    PostgreSQL's interval arithmetic clamps by itself; SQLite's date() rolls
    over (31 Aug + 6 months = 3 Mar), so there the result is capped at the
    last day of the target month.
    """

    type = Date()
    inherit_cache = True
    name = "add_months"


@compiles(add_months, "postgresql")
def _add_months_pg(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({day} AS DATE) + make_interval(months => {months}))::date"


@compiles(add_months, "sqlite")
def _add_months_sqlite(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"min(date({day}, '+' || {months} || ' months'), "
        f"date({day}, 'start of month', '+' || ({months} + 1) || ' months', '-1 day'))"
    )


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: object, _record: object) -> None:
    """Make SQLite behave like the production database where it matters."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Foreign keys are off by default in SQLite.
    dbapi_connection.execute("PRAGMA foreign_keys = ON")
    dbapi_connection.execute("PRAGMA busy_timeout = 5000")
    # A commit waits for one fsync of the write-ahead log instead of the rollback
    # journal's several (the audit row a details page commits: 17–21 ms → 3–4 ms), and
    # readers no longer wait for a writer. The mode stays in the file; an in-memory
    # database answers «memory» and stays so; a file another connection holds locked
    # keeps its mode until a later connection.
    with contextlib.suppress(sqlite3.OperationalError):
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
    # SQLite's lower() (and so ILIKE) folds ASCII only: «петрова» would not
    # find «Петрова». Python's str.lower folds every alphabet.
    dbapi_connection.create_function(
        "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
    )
