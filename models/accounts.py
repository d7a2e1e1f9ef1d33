"""Who may sign in, their sessions, and what the sign-in throttle remembers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    String,
    event,
    false,
    inspect,
    update,
)
from sqlalchemy.orm import InstanceState, Mapped, Mapper, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Choices, CreatedMixin, Model, column, utcnow

if TYPE_CHECKING:
    # The models its relationships name, for the type checker only: at run time the
    # model modules import one another and SQLAlchemy resolves the names itself.
    from .reference import Staff

ROLE = Choices(
    "role",
    {
        "admin": "администратор",
        "coordinator": "руководитель службы сопровождения",
        "district_worker": "участковый социальный работник",
        "psychologist": "психолог",
        "social_pedagogue": "социальный педагог",
        "social_worker": "социальный работник",
        "lawyer": "юрист",
        "nurse": "медицинская сестра",
        "rental_clerk": "сотрудник пункта проката",
        "viewer": "руководство (отчётность)",
    },
)

MIN_PASSWORD_LENGTH = 10


class User(UserMixin, CreatedMixin, Model):
    """A login account; at most one per staff member."""

    __tablename__ = "user_account"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    username: Mapped[str] = column(String(64), label="Логин", unique=True)
    password_hash: Mapped[str] = column(String(255), label="Хеш пароля")
    role: Mapped[str] = ROLE.column(label="Роль", index=True)
    staff_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="SET NULL"), label="Сотрудник", unique=True
    )
    active: Mapped[bool] = column(Boolean, label="Активна", default=True, nullable=False)
    # Set when the administrator chose the password (a new account, a reset):
    # until the user sets their own, every page leads to «Смените пароль».
    must_change_password: Mapped[bool] = column(
        Boolean,
        label="Сменить пароль при входе",
        default=False,
        server_default=false(),
        nullable=False,
    )
    last_login_at: Mapped[dt.datetime | None] = column(
        DateTime(timezone=True), label="Последний вход"
    )
    # The bell: notices of tasks before this moment are read (workflows/staff_notices.py).
    notices_read_at: Mapped[dt.datetime | None] = column(
        DateTime(timezone=True), label="Уведомления прочитаны"
    )

    staff: Mapped[Staff | None] = relationship(back_populates="user", info={"label": "Сотрудник"})

    def __str__(self) -> str:
        return self.username

    @validates("username")
    def _normalise_username(self, _key: str, value: str) -> str:
        # Sign-in folds case, so the stored login is folded too.
        return (value or "").strip().lower()

    @property
    def role_label(self) -> str:
        return ROLE.label(self.role)

    # The random id of the session this request came with (never stored: the
    # database keeps its hash). Flask-Login puts get_id() into the session
    # cookie and into a remember-me cookie, so both carry the session, not the
    # user, and a revoked session cannot be brought back by either.
    if TYPE_CHECKING:
        # Annotated for the checker only: SQLAlchemy would map an annotation it sees.
        session_token: str | None
    session_token = None

    def set_password(self, password: str) -> None:
        """Store a scrypt hash; saving it ends every session of the user."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов.")
        # scrypt is werkzeug's default: a memory-hard KDF.
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active


SESSION_END = Choices(
    "session_end",
    {
        "logout": "выход",
        "password_changed": "смена пароля",
        "disabled": "учётная запись отключена",
    },
)


class UserSession(Model):
    """One signed-in browser, kept in the database so that every app server
    agrees on it: sign-out, a password change or disabling the account end it
    everywhere at once. The cookie carries a random id; the row is keyed by
    its SHA-256, so a copy of this table opens no session.

    Written with Core statements (workflows/accounts.py), never through the
    ORM unit of work: the audit trail records sign-ins and sign-outs as
    events, not every touch of last_seen_at.
    """

    __tablename__ = "user_session"

    id: Mapped[str] = column(String(64), label="Хеш идентификатора", primary_key=True)
    user_id: Mapped[int] = column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), label="Пользователь", index=True
    )
    created_at: Mapped[dt.datetime] = column(DateTime(timezone=True), label="Начало")
    last_seen_at: Mapped[dt.datetime] = column(DateTime(timezone=True), label="Последний запрос")
    revoked_at: Mapped[dt.datetime | None] = column(DateTime(timezone=True), label="Завершён")
    revoke_reason: Mapped[str | None] = SESSION_END.column(label="Причина завершения")
    ip: Mapped[str | None] = column(String(64), label="Адрес")
    user_agent: Mapped[str | None] = column(String(255), label="Браузер")

    def __str__(self) -> str:
        return f"сеанс {self.user_id} с {self.created_at:%d.%m.%Y %H:%M}"


def end_sessions(connection: Connection, user_id: int, reason: str) -> None:
    """Revoke every live session of the user (in the caller's transaction)."""
    table = UserSession.__table__
    connection.execute(
        update(table)
        .where(table.c.user_id == user_id, table.c.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason)
    )


@event.listens_for(User, "after_update")
def _end_sessions_on_change(_mapper: Mapper[User], connection: Connection, user: User) -> None:
    # However the password changes or the account is disabled (the user, the
    # administrator, a command), the same flush ends the user's sessions.
    state: InstanceState[User] = inspect(user)
    if state.attrs.password_hash.history.has_changes():
        end_sessions(connection, user.id, "password_changed")
    elif state.attrs.active.history.has_changes() and not user.active:
        end_sessions(connection, user.id, "disabled")


class LoginThrottle(Model):
    """Sign-in attempts counted per login («user:…») and per address («ip:…»)
    within a window, kept in the database so every app server sees them.

    One row a key, counted by one INSERT … ON CONFLICT DO UPDATE … RETURNING
    before the password is checked, so concurrent guesses cannot all read the
    same count (workflows/accounts.py). Not audited: written with Core.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = column(String(80), label="Логин или адрес", primary_key=True)
    attempts: Mapped[int] = column(Integer, label="Попыток", nullable=False)
    window_start: Mapped[dt.datetime] = column(
        DateTime(timezone=True), label="Начало окна", nullable=False, index=True
    )

    def __str__(self) -> str:
        return f"{self.key}: {self.attempts}"
