"""Sign-in with an atomic throttle, server-side sessions, the password rule and
account changes.

Everything lives in the database, never in a process's memory, so any number
of app servers on one database behave as one.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable

from flask import current_app, has_app_context
from sqlalchemy import Table, case, delete, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from models import LoginThrottle, Staff, User, UserSession, db
from models.accounts import MIN_PASSWORD_LENGTH
from models.audit import Actor, record_event
from models.base import utcnow

from .errors import WorkflowError

MAX_FAILURES = 5
ADDRESS_FACTOR = 4  # one address (an office behind one NAT) may fail 4× as often
LOCK_WINDOW = dt.timedelta(minutes=15)
SIGN_IN_REFUSED = "Неверный логин или пароль."
SIGN_IN_THROTTLED = "Слишком много неудачных попыток входа. Подождите 15 минут и попробуйте снова."

IDLE_TIMEOUT = dt.timedelta(minutes=30)
DEFAULT_LIFETIME = dt.timedelta(hours=12)
# last_seen_at is written at most this often, not on every request.
TOUCH_INTERVAL = dt.timedelta(minutes=1)

TOO_SHORT = f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов."
CONTAINS_LOGIN = "Пароль не должен содержать логин."
CONTAINS_CENTRE = "Пароль не должен содержать название центра."
COMMON_PASSWORD = (
    "Это один из самых распространённых паролей, его подбирают первым. Выберите другой."
)
TOO_SIMPLE = (
    "Пароль слишком простой, его легко подобрать. Возьмите три-четыре не связанных "
    "между собой слова или вставьте цифры и знаки в середину."
)
SAME_PASSWORD = "Новый пароль должен отличаться от текущего."
WRONG_CURRENT = "Текущий пароль указан неверно."
# zxcvbn's scale 0–4; 3 means «safely unguessable»: over 10^8 guesses even
# offline, which the throttle and scrypt then make hopeless.
MIN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72

# The same keys in the two layouts of a Russian keyboard, unshifted and shifted.
_LATIN = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`" + 'QWERTYUIOP{}ASDFGHJKL:"ZXCVBNM<>~'
_CYRILLIC = "йцукенгшщзхъфывапролджэячсмитьбюё" + "ЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ"
TO_LATIN_KEYS = str.maketrans(_CYRILLIC, _LATIN)
TO_CYRILLIC_KEYS = str.maketrans(_LATIN, _CYRILLIC)


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


class SignInError(Exception):
    """A refused sign-in; the message never says whether the user exists."""


class PasswordRefused(ValueError):
    """A password that may not be set; `field` is the form field it belongs to."""

    def __init__(self, message: str, field: str = "new"):
        super().__init__(message)
        self.field = field


# --- the password rule ----------------------------------------------------------------


def _fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


def _letters(text: str) -> str:
    return "".join(ch for ch in _fold(text) if ch.isalnum())


def _stem(word: str) -> str:
    # Enough of a Russian word to match its other forms: «социальн» for
    # «социального» and «социальная», «район» for «района».
    if len(word) >= 8:
        return word[:-3]
    return word[:-1] if len(word) >= 6 else word


def _centre_words(centre_name: str) -> tuple[set[str], list[str]]:
    """The centre's whole name and abbreviations (refused wherever they occur),
    and the stems of its words, which add nothing to a password: whoever
    guesses this centre's passwords tries them first."""
    words = "".join(ch if ch.isalnum() else " " for ch in centre_name).split()
    whole = {_letters(centre_name)}
    whole.update(_fold(w) for w in words if len(w) >= 3 and w.isupper())
    initials = "".join(_fold(w[0]) for w in words if len(w) >= 3 and not w.isupper())
    whole.add(initials)
    stems = {_stem(_fold(w)) for w in words if len(w) >= 5 and not w.isupper()}
    return {m for m in whole if len(m) >= 3}, sorted(stems, key=len, reverse=True)


def _estimate(password: str) -> tuple[int, bool]:
    """zxcvbn's score (0–4) for `password`, and whether a common password is in it."""
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH])
    common = any(m.get("dictionary_name") == "passwords" for m in result["sequence"])
    return result["score"], common


def password_problem(password: str, username: str, centre_name: str | None = None) -> str | None:
    """Why `password` may not be used by `username`, in Russian, or None.

    At least MIN_PASSWORD_LENGTH characters; not containing the login, the
    centre's name or abbreviation, nor the centre's words with only a guessable
    rest; and not guessable by zxcvbn's estimate (its common-password, word
    and keyboard-pattern lists) — judged as typed and as the same keys read in
    the other layout: «gfhjkm» is «пароль», «йцукен» is «qwerty».
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return TOO_SHORT
    if centre_name is None:
        centre_name = current_app.config["CENTRE_NAME"] if has_app_context() else ""
    login = _fold(username or "").strip()
    folded = _fold(password)
    readings = {folded, folded.translate(TO_LATIN_KEYS), folded.translate(TO_CYRILLIC_KEYS)}
    if len(login) >= 3 and any(login in r or login[::-1] in r for r in readings):
        return CONTAINS_LOGIN
    whole, stems = _centre_words(centre_name or "")
    if any(mark in _letters(r) for mark in whole for r in readings):
        return CONTAINS_CENTRE
    for reading in readings:
        rest = reading
        for stem in stems:
            rest = rest.replace(stem, " ")
        if rest != reading and (not rest.strip() or _estimate(rest.strip())[0] < MIN_SCORE):
            return CONTAINS_CENTRE
    typed = [password, password.translate(TO_LATIN_KEYS)]
    score, common = min((_estimate(p) for p in dict.fromkeys(typed)), key=lambda r: r[0])
    if score >= MIN_SCORE:
        return None
    return COMMON_PASSWORD if common else TOO_SIMPLE


def _check_new_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem:
        raise PasswordRefused(problem)


# --- the sign-in throttle -------------------------------------------------------------


def _upsert(dialect: str) -> Callable[[Table], postgresql.Insert | sqlite.Insert]:
    upserts: dict[str, Callable[[Table], postgresql.Insert | sqlite.Insert]] = {
        "postgresql": postgresql.insert,
        "sqlite": sqlite.insert,
    }
    return upserts[dialect]


def _count_attempt(key: str, now: dt.datetime) -> int:
    """One more attempt for `key`, counted and read back in one statement.

    INSERT … ON CONFLICT DO UPDATE … RETURNING takes the row's lock on
    PostgreSQL (SQLite's write lock): of any number of attempts at once, each
    reads a different count, so no two can both see «under the limit». A
    window older than LOCK_WINDOW starts again at 1.
    """
    table = LoginThrottle.__table__
    moment = literal(now, table.c.window_start.type)
    stale = table.c.window_start < literal(now - LOCK_WINDOW, table.c.window_start.type)
    statement = (
        _upsert(db.session.get_bind().dialect.name)(table)
        .values(key=key, attempts=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "attempts": case((stale, 1), else_=table.c.attempts + 1),
                "window_start": case((stale, moment), else_=table.c.window_start),
            },
        )
        .returning(table.c.attempts)
    )
    attempts: int = db.session.execute(statement).scalar_one()  # a Core column reads as Any
    return attempts


def _forget_attempts(username_key: str, address_key: str, now: dt.datetime) -> None:
    """After a right password: the login's count starts again, this attempt is
    taken off the address's count (an office signing in all morning is not
    guessing), and windows long past are dropped so the table stays small."""
    table = LoginThrottle.__table__
    db.session.execute(delete(table).where(table.c.key == username_key))
    db.session.execute(
        update(table)
        .where(table.c.key == address_key, table.c.attempts > 0)
        .values(attempts=table.c.attempts - 1)
    )
    expired = select(table.c.key).where(table.c.window_start < now - LOCK_WINDOW).limit(100)
    if db.session.get_bind().dialect.name == "postgresql":
        # Rows another sign-in is counting right now are left for next time.
        expired = expired.with_for_update(skip_locked=True)
    db.session.execute(delete(table).where(table.c.key.in_(expired.scalar_subquery())))


def authenticate(username: str, password: str, ip: str) -> User:
    """The user for these credentials, or SignInError.

    The attempt is counted before the password is checked (and committed, so
    every app server sees it): after MAX_FAILURES attempts for a login (or
    ADDRESS_FACTOR× that from one address) within LOCK_WINDOW, every attempt
    is refused unchecked until the window passes — even with the right
    password, so guessing gains nothing, and guesses sent at once check at
    most MAX_FAILURES passwords. A right password resets the login's count.
    """
    now = utcnow()
    username = (username or "").strip().lower()[:64]
    ip = (ip or "unknown")[:64]
    username_key, address_key = f"user:{username}", f"ip:{ip}"
    by_user = _count_attempt(username_key, now)
    by_address = _count_attempt(address_key, now)
    db.session.commit()
    address_limit = MAX_FAILURES * ADDRESS_FACTOR
    if by_user > MAX_FAILURES or by_address > address_limit:
        raise SignInError(SIGN_IN_THROTTLED)
    user: User | None = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        # Spend the same time as a real check, so timing does not tell who exists.
        check_password_hash(_dummy_hash(), password or "")
    if user is None or not user.active or not user.check_password(password or ""):
        record_event(db.session, "login_failed", actor=Actor(None, username, ip))
        db.session.commit()
        if by_user >= MAX_FAILURES or by_address >= address_limit:
            raise SignInError(SIGN_IN_THROTTLED)
        raise SignInError(SIGN_IN_REFUSED)
    _forget_attempts(username_key, address_key, now)
    db.session.commit()
    return user


# --- sessions -------------------------------------------------------------------------


def new_session_token() -> str:
    """A random session id for the cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def session_key(token: str) -> str:
    """What the database keeps of a session id: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    user: User, token: str, ip: str | None, user_agent: str | None, signing_in: bool
) -> None:
    """Record the new session `token` of `user` and commit.

    When `signing_in`, the sign-in too: last_login_at and the «вход» event.
    Call it after Flask-Login knows the user, so the audit trail names them
    as the author of the last_login_at write.
    """
    now = utcnow()
    db.session.execute(
        insert(UserSession.__table__).values(
            id=session_key(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    if signing_in:
        user.last_login_at = now
        record_event(
            db.session, "login", "user_account", user.id, actor=Actor(user.id, user.username, ip)
        )
    db.session.commit()


def session_user(token: str, lifetime: dt.timedelta = DEFAULT_LIFETIME) -> User | None:
    """The user of the live session `token`, or None.

    One lookup by primary key. A session is dead once revoked, `lifetime`
    after it began however busy, IDLE_TIMEOUT after its last request, or when
    its account is disabled. last_seen_at is written at most once every
    TOUCH_INTERVAL, not on every request.
    """
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    key = session_key(token)
    row = db.session.execute(
        select(User, UserSession.created_at, UserSession.last_seen_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == key, UserSession.revoked_at.is_(None))
        # Every page reads the user's staff row (the row scope, the menu): with the user.
        .options(joinedload(User.staff))
    ).one_or_none()
    if row is None:
        return None
    user, created_at, last_seen_at = row
    now = utcnow()
    created_at, last_seen_at = (_aware(created_at), _aware(last_seen_at))
    if not user.active or now - created_at >= lifetime or now - last_seen_at >= IDLE_TIMEOUT:
        return None
    if now - last_seen_at >= TOUCH_INTERVAL:
        db.session.execute(
            update(UserSession.__table__)
            .where(UserSession.__table__.c.id == key)
            .values(last_seen_at=now)
        )
        db.session.commit()
    user.session_token = token
    return user


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def sign_out(user: User) -> None:
    """End this request's session of `user` (the «выход» event) and commit."""
    if user.session_token:
        table = UserSession.__table__
        db.session.execute(
            update(table)
            .where(table.c.id == session_key(user.session_token), table.c.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoke_reason="logout")
        )
    record_event(db.session, "logout", "user_account", user.id)
    db.session.commit()


# --- account changes ------------------------------------------------------------------


def create_user(username: str, role: str, password: str, staff_id: int | None = None) -> User:
    """A new login account whose password meets the password rule."""
    user = User(username=username.strip().lower(), role=role, staff_id=staff_id, active=True)
    _check_new_password(password, user.username)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def set_temporary_password(user: User, password: str, temporary: bool = True) -> None:
    """The administrator sets `user`'s password (not committed).

    It must meet the password rule; saving it ends the user's sessions, and
    when `temporary` the user must replace it at the next sign-in.
    """
    _check_new_password(password, user.username)
    user.set_password(password)
    user.must_change_password = temporary


def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password and commit: every session of the user ends
    (the caller opens a new one for this browser) and a temporary password
    stops being one. PasswordRefused names the field at fault."""
    if not user.check_password(current or ""):
        raise PasswordRefused(WRONG_CURRENT, field="current")
    if new == current:
        raise PasswordRefused(SAME_PASSWORD)
    _check_new_password(new, user.username)
    user.set_password(new)
    user.must_change_password = False
    db.session.commit()


# --- staff who leave, and their accounts --------------------------------------------------

OWN_STAFF_CARD = (
    "Свою карточку сотрудника в архив не перенести: ваша учётная запись отключилась бы, "
    "и войти в панель было бы некому."
)


def retire_staff(session: Session, actor: User | None, staff: Staff) -> User | None:
    """A member of staff goes to the archive (not committed): they no longer work here, so
    no new work reaches them, and their login account is disabled, which ends every one of
    its sessions in the same flush (models/accounts.py). Returns the account it disabled.

    Restoring the staff row later brings neither back: re-enabling the account is the
    administrator's own act («Включить» on the account), recorded in the audit trail."""
    account = staff.user
    if account is not None and actor is not None and account.id == actor.id:
        raise WorkflowError(OWN_STAFF_CARD)
    staff.active = False
    if account is None or not account.active:
        return None
    account.active = False
    session.flush()
    return account
