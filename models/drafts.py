"""What a user typed into a form after their session had ended, kept until they sign in.

A form sent with an expired or revoked session (or a stale CSRF session token) is not
refused empty-handed: its fields are kept here, the browser gets a random key in a
cookie, and after the same user signs in again the form's page shows them filled in
(admin_views/drafts.py, workflows/drafts.py).

A draft is the user's own unsaved typing, not a record of a person or a decision: it
is deleted, not archived — when it is restored (used once), when someone else signs in
on that browser, and by the tick once it is FORM_DRAFT_HOURS old. It may hold personal
data, so it is written with Core statements and kept out of the audit trail and the
logs (models/audit.py NOT_AUDITED), like the sessions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped

from .base import Model, column

# The longest page address a draft returns to (the path and its query string).
MAX_DRAFT_PATH = 2000


class FormDraft(Model):
    """The fields of one form sent after its session had ended, for its user only."""

    __tablename__ = "form_draft"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    # The SHA-256 of the random key the browser holds: a copy of this table opens nothing.
    token_hash: Mapped[str] = column(String(64), label="Хеш ключа", unique=True)
    user_id: Mapped[int] = column(
        ForeignKey("user_account.id", ondelete="CASCADE"), label="Пользователь", index=True
    )
    # The page the form is shown on again: where it was posted, or the page it was sent
    # from when that address takes no GET.
    path: Mapped[str] = column(String(MAX_DRAFT_PATH), label="Страница")
    # [[name, value], …] as the browser sent them, without the CSRF token, passwords and
    # files.
    fields: Mapped[list[Any]] = column(JSON, label="Введённое")
    created_at: Mapped[dt.datetime] = column(DateTime(timezone=True), label="Сохранено")
    expires_at: Mapped[dt.datetime] = column(
        DateTime(timezone=True), label="Хранится до", index=True
    )

    def __str__(self) -> str:
        return f"черновик формы № {self.id}"
