"""Who may sign in, and what the sign-in throttle remembers."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from .base import BigId, Choices, CreatedMixin, column, db

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


class User(UserMixin, CreatedMixin, db.Model):
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
    # Bumped when the password changes or the account is disabled, so that
    # every other session of this user stops being valid.
    session_epoch: Mapped[int] = column(
        Integer, label="Поколение сессий", default=0, nullable=False
    )
    last_login_at: Mapped[dt.datetime | None] = column(
        DateTime(timezone=True), label="Последний вход"
    )

    staff: Mapped[Staff | None] = relationship(  # noqa: F821
        back_populates="user", info={"label": "Сотрудник"}
    )

    def __str__(self) -> str:
        return self.username

    @validates("username")
    def _normalise_username(self, _key, value: str) -> str:
        # Sign-in folds case, so the stored login is folded too.
        return (value or "").strip().lower()

    @property
    def role_label(self) -> str:
        return ROLE.label(self.role)

    def set_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов.")
        # scrypt is werkzeug's default: a memory-hard KDF.
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_epoch = (self.session_epoch or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        # Flask-Login keeps this in the session; the epoch makes old sessions stale.
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return self.active


class LoginAttempt(db.Model):
    """Failed sign-ins, kept in the database so every app server sees them."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = column(BigId, label="№", primary_key=True)
    username: Mapped[str] = column(String(64), label="Логин", index=True)
    ip: Mapped[str] = column(String(64), label="Адрес", index=True)
    at: Mapped[dt.datetime] = column(DateTime(timezone=True), label="Время", index=True)

    def __str__(self) -> str:
        return f"{self.username} @ {self.ip}"
