"""The audit trail: who did what, when, with old and new values."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DDL, JSON, DateTime, ForeignKey, Index, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, scoped_session

from .base import BigId, Choices, Model, column, utcnow

AUDIT_ACTION = Choices(
    "audit_action",
    {
        "insert": "создание",
        "update": "изменение",
        "delete": "удаление",
        "view": "просмотр",
        "login": "вход",
        "login_failed": "неудачный вход",
        "logout": "выход",
        "export": "выгрузка в Excel",
    },
)


class AuditRecord(Model):
    """One audited event. Append-only: PostgreSQL refuses UPDATE, DELETE and TRUNCATE."""

    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_record_row", "table_name", "row_id"),
        Index("ix_audit_record_user_at", "user_id", "at"),
    )

    id: Mapped[int] = column(BigId, label="№", primary_key=True)
    at: Mapped[dt.datetime] = column(
        DateTime(timezone=True), label="Время (UTC)", default=utcnow, index=True
    )
    user_id: Mapped[int | None] = column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), label="Пользователь"
    )
    username: Mapped[str | None] = column(String(64), label="Логин")
    ip: Mapped[str | None] = column(String(64), label="Адрес")
    action: Mapped[str] = AUDIT_ACTION.column(label="Действие", index=True)
    table_name: Mapped[str | None] = column(String(64), label="Таблица")
    row_id: Mapped[str | None] = column(String(64), label="Запись")
    changes: Mapped[dict[str, Any] | None] = column(JSON, label="Изменения")

    def __str__(self) -> str:
        return f"{AUDIT_ACTION.label(self.action)} {self.table_name or ''} {self.row_id or ''}"


# On PostgreSQL the audit table is append-only at the database level: the same
# statements run from the migration and from create_all (tests).
APPEND_ONLY_SQL = (
    """
    CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit_record is append-only';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_record_append_only
    BEFORE UPDATE OR DELETE ON audit_record
    FOR EACH ROW EXECUTE FUNCTION audit_record_append_only()
    """,
)
DROP_APPEND_ONLY_SQL = (
    "DROP TRIGGER IF EXISTS audit_record_append_only ON audit_record",
    "DROP FUNCTION IF EXISTS audit_record_append_only()",
)


class AuditSeal(Model):
    """The chain link of one audit row: HMAC-SHA256 (under a key kept outside the database)
    of the row and of the link before it. Written only by the sealer
    (workflows/audit_chain.py); append-only like the trail itself."""

    __tablename__ = "audit_seal"

    audit_id: Mapped[int] = column(
        BigId, label="Запись журнала", primary_key=True, autoincrement=False
    )
    prev_id: Mapped[int | None] = column(BigId, label="Предыдущая запись")
    hash: Mapped[str] = column(String(64), label="Хеш")
    key_id: Mapped[str] = column(String(16), label="Ключ")
    sealed_at: Mapped[dt.datetime] = column(
        DateTime(timezone=True), label="Запечатано (UTC)", default=utcnow
    )

    def __str__(self) -> str:
        return f"печать записи журнала № {self.audit_id}"


# Refuses a change of a chain table; TRUNCATE passes only for a superuser, who can pass any
# trigger anyway (DISABLE TRIGGER, session_replication_role) and whom the hash chain, not a
# trigger, catches: so maintenance (and the test suite's clean-up) stays plain, while the
# owner's login meets the refusal and the app's login has no TRUNCATE privilege at all.
REFUSE_FUNCTION_SQL = """
    CREATE OR REPLACE FUNCTION audit_refuse() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' AND current_setting('is_superuser') = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
    END;
    $$ LANGUAGE plpgsql
"""
# The sealer may only seal ids that no open transaction can still commit below. It reads
# the sequence, then waits for every transaction that had an xid at that moment; that holds
# only if a writer has its xid before it takes an audit id, which this default ensures
# (an INSERT otherwise takes the id first and the xid a moment later).
CHAIN_SQL = (
    """
    CREATE OR REPLACE FUNCTION audit_record_next_id() RETURNS bigint AS $$
    BEGIN
        PERFORM pg_current_xact_id();
        RETURN nextval('audit_record_id_seq');
    END;
    $$ LANGUAGE plpgsql
    """,
    "ALTER TABLE audit_record ALTER COLUMN id SET DEFAULT audit_record_next_id()",
    REFUSE_FUNCTION_SQL,
    """
    CREATE TRIGGER audit_record_no_truncate
    BEFORE TRUNCATE ON audit_record
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse()
    """,
)
DROP_CHAIN_SQL = (
    "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record",
    "ALTER TABLE audit_record ALTER COLUMN id SET DEFAULT nextval('audit_record_id_seq')",
    "DROP FUNCTION IF EXISTS audit_record_next_id()",
    "DROP FUNCTION IF EXISTS audit_refuse()",  # after DROP_SEAL_SQL: the seal's triggers use it
)
SEAL_SQL = (
    REFUSE_FUNCTION_SQL,
    """
    CREATE TRIGGER audit_seal_append_only
    BEFORE UPDATE OR DELETE ON audit_seal
    FOR EACH ROW EXECUTE FUNCTION audit_refuse()
    """,
    """
    CREATE TRIGGER audit_seal_no_truncate
    BEFORE TRUNCATE ON audit_seal
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse()
    """,
)
DROP_SEAL_SQL = (
    "DROP TRIGGER IF EXISTS audit_seal_no_truncate ON audit_seal",
    "DROP TRIGGER IF EXISTS audit_seal_append_only ON audit_seal",
)

for _table, _statements in (
    (AuditRecord.__table__, APPEND_ONLY_SQL + CHAIN_SQL),
    (AuditSeal.__table__, SEAL_SQL),
):
    for _statement in _statements:
        # DDL() formats its text with %: the PL/pgSQL placeholders must stay as they are.
        _ddl = DDL(_statement.replace("%", "%%"))
        event.listen(_table, "after_create", _ddl.execute_if(dialect="postgresql"))


# --- the one audit hook ---------------------------------------------------------------

HIDDEN_VALUE = "•••"
NOT_AUDITED = frozenset(
    {"audit_record", "audit_seal", "form_draft", "login_throttle", "user_session"}
)


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    ip: str | None = None


def system_actor() -> Actor:
    return Actor(None, f"system:{getpass.getuser()}")


# The web layer replaces this with «the signed-in user»; CLI and scheduler keep it.
actor_resolver: Callable[[], Actor] = system_actor


def _plain(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _changes(obj: object, action: str) -> dict[str, Any] | None:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        col = attr.columns[0]
        if col.key == "version" or col.computed is not None:
            continue  # the version and the generated search keys are no one's data
        if col.key == "password_hash":  # only the fact of a change is recorded
            if action == "update" and state.attrs[attr.key].history.has_changes():
                changes["password"] = {"old": HIDDEN_VALUE, "new": HIDDEN_VALUE}
            continue
        health = col.info.get("health", False)
        if action == "insert":
            value = getattr(obj, attr.key)
            if value is not None:
                changes[attr.key] = {"new": HIDDEN_VALUE if health else _plain(value)}
        elif action == "delete":
            value = state.attrs[attr.key].loaded_value
            changes[attr.key] = {"old": HIDDEN_VALUE if health else _plain(value)}
        else:
            history = state.attrs[attr.key].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if health:
                old, new = HIDDEN_VALUE, HIDDEN_VALUE
            changes[attr.key] = {"old": _plain(old), "new": _plain(new)}
    return changes or None


def _row_id(obj: object) -> str:
    return ",".join(str(v) for v in inspect(obj).mapper.primary_key_from_instance(obj))


def _after_flush(session: Session, _context: object) -> None:
    rows: list[dict[str, Any]] = []
    actor: Actor | None = None
    for action, objects in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            table = getattr(obj, "__tablename__", None)
            if table is None or table in NOT_AUDITED:
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            actor = actor or actor_resolver()
            rows.append(
                {
                    "at": utcnow(),
                    "user_id": actor.user_id,
                    "username": actor.username,
                    "ip": actor.ip,
                    "action": action,
                    "table_name": table,
                    "row_id": _row_id(obj),
                    "changes": changes,
                }
            )
    if rows:
        session.connection().execute(insert(AuditRecord.__table__), rows)


def install_audit(session_class: type[Session]) -> None:
    """Record every insert, update and delete flushed through `session_class`."""
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "after_flush", _after_flush)


def record_event(
    session: Session | scoped_session[Any],
    action: str,
    table: str | None = None,
    row_id: object = None,
    actor: Actor | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Record a sign-in, sign-out or an opening of personal data."""
    actor = actor or actor_resolver()
    session.add(
        AuditRecord(
            at=utcnow(),
            user_id=actor.user_id,
            username=actor.username,
            ip=actor.ip,
            action=action,
            table_name=table,
            row_id=None if row_id is None else str(row_id),
            changes=changes,
        )
    )
