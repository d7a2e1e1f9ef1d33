"""The outbox: one row per message to a family (or a staff member), and the templates.

A message is made by the event it is about, in the event's own transaction
(workflows/notify.py), and delivered later by the worker (workflows/delivery.py):
a provider that is down never holds up the workflow that made the message. One
message per event and recipient: a partial unique index per kind of recipient.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, relationship

from .base import Choices, CreatedMixin, Model, VersionedMixin, column

if TYPE_CHECKING:
    from .accounts import User
    from .people import Family
    from .reference import Staff

MESSAGE_CHANNEL = Choices(
    "message_channel", {"email": "электронная почта", "sms": "SMS", "call": "звонок"}
)

MESSAGE_STATE = Choices(
    "message_state",
    {
        "pending": "ждёт отправки",
        "sent": "доставлено",
        "failed": "не удалось, будет повтор",
        "given_up": "не доставлено",
    },
)

# What a message is about: the kind of event and the table its id points to.
MESSAGE_EVENT = Choices(
    "message_event",
    {
        "offer": "предложение ТСР из очереди",
        "appointment": "запись на приём",
        "appointment_eve": "накануне приёма",
        "loan_due": "скоро срок возврата ТСР",
        "loan_overdue": "просрочен возврат ТСР",
        "ipra_end": "подходит срок окончания ИПРА",
        "mse_review": "подходит срок переосвидетельствования",
        "staff_digest": "сводка уведомлений сотруднику",
    },
)

# The messages of the rental point: its clerk calls about these and no others.
RENTAL_EVENTS = frozenset({"offer", "loan_due", "loan_overdue"})
# Events that tell of a child's ИПРА or МСЭ: only a role that reads health calls about them.
HEALTH_EVENTS = ("ipra_end", "mse_review")

# A call's outcome, as the clerk records it: (label, delivered?).
CALL_OUTCOME = Choices(
    "call_outcome",
    {"reached": "дозвонились", "not_reached": "не дозвонились", "refused": "отказ"},
)

FAMILY_KEY = "family_id IS NOT NULL"
USER_KEY = "user_id IS NOT NULL"


class Message(VersionedMixin, CreatedMixin, Model):
    """One message of the outbox. Its text is rendered when it is made (a later edit of
    the template changes no message already made); the address is the one chosen then."""

    __tablename__ = "message"
    __table_args__ = (
        CheckConstraint("(family_id IS NULL) <> (user_id IS NULL)", name="one_recipient"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
        CheckConstraint(
            "state IN ('sent', 'given_up') OR next_attempt_at IS NOT NULL", name="next_attempt"
        ),
        # One message per event and recipient: notify() is idempotent, on two servers too.
        Index(
            "uq_message_family_event",
            "event_kind",
            "event_id",
            "event_on",
            "family_id",
            "channel",
            unique=True,
            sqlite_where=text(FAMILY_KEY),
            postgresql_where=text(FAMILY_KEY),
        ),
        Index(
            "uq_message_user_event",
            "event_kind",
            "event_id",
            "event_on",
            "user_id",
            "channel",
            unique=True,
            sqlite_where=text(USER_KEY),
            postgresql_where=text(USER_KEY),
        ),
        # The worker's queue: what is due, oldest first.
        Index(
            "ix_message_due",
            "next_attempt_at",
            sqlite_where=text("state IN ('pending', 'failed')"),
            postgresql_where=text("state IN ('pending', 'failed')"),
        ),
        Index("ix_message_event", "event_kind", "event_id"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    family_id: Mapped[int | None] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    user_id: Mapped[int | None] = column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), label="Сотрудник"
    )
    channel: Mapped[str] = MESSAGE_CHANNEL.column(label="Канал")
    address: Mapped[str] = column(String(254), label="Куда")
    template_code: Mapped[str] = column(String(64), label="Шаблон")
    event_kind: Mapped[str] = MESSAGE_EVENT.column(label="Событие")
    event_id: Mapped[int] = column(Integer, label="№ события")
    event_on: Mapped[dt.date] = column(Date, label="Дата события")
    subject: Mapped[str] = column(String(255), label="Тема")
    body: Mapped[str] = column(Text, label="Текст")
    due_at: Mapped[dt.datetime] = column(DateTime(timezone=True), label="Отправить с")
    state: Mapped[str] = MESSAGE_STATE.column(label="Состояние", default="pending", index=True)
    attempts: Mapped[int] = column(Integer, label="Попыток", default=0, nullable=False)
    next_attempt_at: Mapped[dt.datetime | None] = column(
        DateTime(timezone=True), label="Следующая попытка"
    )
    provider_answer: Mapped[str | None] = column(Text, label="Ответ")
    sent_at: Mapped[dt.datetime | None] = column(DateTime(timezone=True), label="Доставлено")
    # Who recorded a call's outcome (the call list).
    called_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Кто звонил"
    )

    family: Mapped[Family | None] = relationship(info={"label": "Семья"})
    user: Mapped[User | None] = relationship(info={"label": "Сотрудник"})
    called_by: Mapped[Staff | None] = relationship(info={"label": "Кто звонил"})

    @property
    def is_open(self) -> bool:
        return self.state in ("pending", "failed")

    def __str__(self) -> str:
        return f"Сообщение № {self.id}: {MESSAGE_EVENT.label(self.event_kind)}"


class MessageTemplate(VersionedMixin, Model):
    """The Russian text of one kind of message, editable by the administrator.

    {placeholders} name the few facts a message may carry (workflows/notify.py lists
    them per template); nothing of health, no names of children."""

    __tablename__ = "message_template"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    code: Mapped[str] = column(String(64), label="Код", unique=True)
    title: Mapped[str] = column(String(255), label="Назначение")
    subject: Mapped[str] = column(String(255), label="Тема письма")
    body: Mapped[str] = column(Text, label="Текст")

    def __str__(self) -> str:
        return self.title


# Kinds whose message announces a day still ahead (the appointment, the loan's due date):
# once that day has passed the message has nothing left to say, and it is neither sent
# nor called; the tick gives it up (workflows.notify.give_up_past_events).
ANNOUNCES_A_DAY_AHEAD = ("appointment", "appointment_eve", "loan_due", "ipra_end", "mse_review")


def still_timely(today: dt.date) -> ColumnElement[bool]:
    """The messages that still have something to say on the centre's day `today`."""
    return or_(Message.event_kind.not_in(ANNOUNCES_A_DAY_AHEAD), Message.event_on >= today)
