"""Form drafts: keeping what a user typed when their session had ended, and giving it
back to that user only, once.

The browser holds a random key (a cookie); the table keeps its SHA-256, the user the
form belonged to (the user of the ended session), the page to fill in again and the
fields. Written with Core statements, never through the ORM unit of work: a draft may
hold personal data and stays out of the audit trail (models/drafts.py says why drafts
are deleted, not archived).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from models import FormDraft, User, UserSession
from models.base import utcnow
from models.terms import FORM_DRAFT_HOURS

from .accounts import session_key

# The most a draft may hold: its fields as JSON, in UTF-8 bytes. A longer form is
# refused calmly (nothing kept) rather than stored without bound for anyone who asks.
MAX_DRAFT_BYTES = 64 * 1024
# A user's newest drafts kept at once; an older one gives way.
DRAFTS_PER_USER = 10
DRAFT_LIFETIME = dt.timedelta(hours=FORM_DRAFT_HOURS)

Fields = list[tuple[str, str]]


class DraftTooLarge(ValueError):
    """The fields are more than MAX_DRAFT_BYTES: nothing was kept."""


@dataclass(frozen=True)
class Taken:
    """What asking for a draft came to: its fields (when it was this user's, for this
    page), and whether the browser's key now names nothing (the cookie may go)."""

    fields: Fields | None = None
    gone: bool = False


def _table() -> Table:
    return FormDraft.__table__


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def session_owner(session: Session, token: str) -> int | None:
    """The user whose session `token` named — alive, expired or revoked — if that account
    is still active: whose typing a form sent with that session is."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    user_id: int | None = session.scalar(
        select(UserSession.user_id)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_key(token), User.active.is_(True))
    )
    return user_id


def encoded_size(fields: Fields) -> int:
    return len(json.dumps(fields, ensure_ascii=False).encode())


def keep_draft(
    session: Session, user_id: int, path: str, fields: Fields, replacing: str | None = None
) -> str:
    """Keep `fields` for `user_id` to find on `path` after signing in; commit and return
    the new draft's key for the browser. The draft this browser held before
    (`replacing`) and the user's drafts beyond DRAFTS_PER_USER are dropped."""
    if encoded_size(fields) > MAX_DRAFT_BYTES:
        raise DraftTooLarge
    table = _table()
    now = utcnow()
    token = secrets.token_urlsafe(32)
    if replacing:
        session.execute(delete(table).where(table.c.token_hash == session_key(replacing)))
    session.execute(
        insert(table).values(
            token_hash=session_key(token),
            user_id=user_id,
            path=path,
            fields=[list(pair) for pair in fields],
            created_at=now,
            expires_at=now + DRAFT_LIFETIME,
        )
    )
    newest = (
        select(table.c.id)
        .where(table.c.user_id == user_id)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(DRAFTS_PER_USER)
    )
    session.execute(
        delete(table).where(table.c.user_id == user_id, table.c.id.not_in(newest.scalar_subquery()))
    )
    session.commit()
    return token


def _find(session: Session, token: str | None) -> Any:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    table = _table()
    return session.execute(
        select(table.c.id, table.c.user_id, table.c.path, table.c.fields, table.c.expires_at).where(
            table.c.token_hash == session_key(token)
        )
    ).one_or_none()


def _drop(session: Session, draft_id: int) -> None:
    session.execute(delete(_table()).where(_table().c.id == draft_id))
    session.commit()


def claim_draft(session: Session, token: str | None, user_id: int) -> str | None:
    """At sign-in: the page of the draft the browser's key names, if it is alive and
    belongs to `user_id`. A draft of another user is deleted unseen (and committed)."""
    row = _find(session, token)
    if row is None:
        return None
    if row.user_id != user_id or _aware(row.expires_at) <= utcnow():
        _drop(session, row.id)
        return None
    path: str = row.path
    return path


def take_draft(session: Session, token: str | None, user_id: int, path: str) -> Taken:
    """The fields of the draft the browser's key names, for `user_id` opening `path`:
    used once, so deleted as they are handed back. A draft of another user, or one past
    its term, is deleted and gives nothing; a draft of another page waits."""
    row = _find(session, token)
    if row is None:
        return Taken(gone=True)
    if row.user_id != user_id or _aware(row.expires_at) <= utcnow():
        _drop(session, row.id)
        return Taken(gone=True)
    if row.path != path:
        return Taken()
    _drop(session, row.id)
    fields = [(str(name), str(value)) for name, value in row.fields]
    return Taken(fields=fields, gone=True)


def discard_expired_drafts(session: Session, today: dt.date) -> int:
    """The tick's job: drafts past their term are deleted (a draft is nobody's record).
    `today` is the tick's day; a draft's term is counted in hours from utcnow()."""
    table = _table()
    result = session.execute(delete(table).where(table.c.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
