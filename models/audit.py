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
    """One audited event. Append-only: PostgreSQL refuses UPDATE and DELETE."""

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

for _statement in APPEND_ONLY_SQL:
    event.listen(
        AuditRecord.__table__,
        "after_create",
        DDL(_statement).execute_if(dialect="postgresql"),
    )


# --- the one audit hook ---------------------------------------------------------------

HIDDEN_VALUE = "•••"
NOT_AUDITED = frozenset({"audit_record", "login_throttle", "user_session"})


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
        if col.key == "version":
            continue
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
