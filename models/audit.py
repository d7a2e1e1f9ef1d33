"""The audit trail: who did what, when, with old and new values."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped

from .base import BigId, Choices, column, db, utcnow

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
    },
)


class AuditRecord(db.Model):
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
    changes: Mapped[dict | None] = column(JSON, label="Изменения")

    def __str__(self) -> str:
        return f"{AUDIT_ACTION.label(self.action)} {self.table_name or ''} {self.row_id or ''}"
