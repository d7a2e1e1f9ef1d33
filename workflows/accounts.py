"""Sign-in with a throttle kept in the database, and account changes."""

from __future__ import annotations

import datetime as dt
import functools
import secrets

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from models import LoginAttempt, User, db
from models.audit import Actor, record_event
from models.base import utcnow

MAX_FAILURES = 5
LOCK_WINDOW = dt.timedelta(minutes=15)
SIGN_IN_REFUSED = "Неверный логин или пароль."
SIGN_IN_THROTTLED = "Слишком много неудачных попыток входа. Подождите 15 минут и попробуйте снова."


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


class SignInError(Exception):
    """A refused sign-in; the message never says whether the user exists."""


def _recent_failures(username: str, ip: str, now: dt.datetime) -> int:
    since = now - LOCK_WINDOW
    by_user = select(func.count()).where(
        LoginAttempt.username == username, LoginAttempt.at >= since
    )
    by_ip = select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.at >= since)
    return max(db.session.scalar(by_user), db.session.scalar(by_ip) // 4)


def authenticate(username: str, password: str, ip: str) -> User:
    """The user for these credentials, or SignInError.

    After MAX_FAILURES failed attempts for a login (or 4× that from one
    address) within LOCK_WINDOW, every attempt is refused until the window
    passes — even with the right password, so guessing gains nothing.
    """
    now = utcnow()
    username = (username or "").strip().lower()
    # Attempts older than the window count for nothing: drop them as we go, so
    # the table stays small without a scheduled job.
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - LOCK_WINDOW))
    if _recent_failures(username, ip, now) >= MAX_FAILURES:
        raise SignInError(SIGN_IN_THROTTLED)
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        # Spend the same time as a real check, so timing does not tell who exists.
        check_password_hash(_dummy_hash(), password or "")
    if user is None or not user.active or not user.check_password(password or ""):
        db.session.add(LoginAttempt(username=username[:64], ip=ip[:64], at=now))
        record_event(db.session, "login_failed", actor=Actor(None, username[:64], ip))
        db.session.commit()
        if _recent_failures(username, ip, now) >= MAX_FAILURES:
            raise SignInError(SIGN_IN_THROTTLED)
        raise SignInError(SIGN_IN_REFUSED)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    user.last_login_at = now
    record_event(
        db.session, "login", "user_account", user.id, actor=Actor(user.id, user.username, ip)
    )
    db.session.commit()
    return user


def create_user(username: str, role: str, password: str, staff_id: int | None = None) -> User:
    """A new login account; the password must meet the minimum length."""
    user = User(username=username.strip().lower(), role=role, staff_id=staff_id, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password; other sessions of the user end."""
    if not user.check_password(current):
        raise ValueError("Текущий пароль указан неверно.")
    user.set_password(new)
    db.session.commit()
