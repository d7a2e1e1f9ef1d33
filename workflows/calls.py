"""«Звонки на сегодня»: the messages staff deliver by telephone.

A family that chose a call, and any message whose channel has no provider
configured (the default where nothing is), waits here until someone of the rental
point or the district telephones and records the outcome with one click:
«дозвонились» and «отказ» (the family was reached and declined) count as
delivered — an offer's days start then — «не дозвонились» as a failed attempt,
tried again the next day, given up after CALL_MAX_ATTEMPTS.

The rental point's clerk calls only about offers and loans (models.notify.RENTAL_EVENTS;
models/roles.py `rental_calls_only`): an appointment or a date of the case is for the
family's own workers, who see every call of the families they serve.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import Session

from models import Family, Message, User
from models.base import utcnow
from models.notify import CALL_OUTCOME, HEALTH_EVENTS, MESSAGE_EVENT, RENTAL_EVENTS, still_timely
from models.roles import policy, reads_health
from models.terms import CALL_MAX_ATTEMPTS, QUIET_UNTIL

from .dates import centre_zone
from .delivery import mark_delivered, mark_failed
from .errors import WorkflowError
from .scope import where_visible

NOT_IN_LIST = "Этого звонка уже нет в списке: результат записал другой сотрудник."


@dataclass(frozen=True)
class Call:
    id: int
    family_id: int
    surname: str
    phone: str
    about: str
    text: str
    attempts: int
    last_answer: str | None


def _end_of_day(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(centre_zone())
    return local.replace(hour=23, minute=59, second=59, microsecond=0).astimezone(dt.UTC)


def _of_desk(user: User) -> ColumnElement[bool]:
    """The rental clerk's calls are the rental point's; the others see every call of theirs."""
    if policy(user.role).rental_calls_only:
        return Message.event_kind.in_(RENTAL_EVENTS)
    return true()


def _call_query(user: User, channels: tuple[str, ...], now: dt.datetime) -> Select[Message, Family]:
    # The ИПРА's end, the МСЭ date: only a role with the health right calls about them.
    health = true() if reads_health(user.role) else Message.event_kind.not_in(HEALTH_EVENTS)
    return (
        select(Message, Family)
        .join(Family, Family.id == Message.family_id)
        .where(
            Message.state.in_(("pending", "failed")),
            Message.channel.in_(channels),
            Message.next_attempt_at <= _end_of_day(now),
            still_timely(now.astimezone(centre_zone()).date()),
            where_visible(Family, user),
            _of_desk(user),
            health,
        )
        .order_by(Message.next_attempt_at, Message.id)
    )


def calls_today(
    session: Session, user: User, channels: tuple[str, ...], now: dt.datetime | None = None
) -> list[Call]:
    """The calls due by the end of today, of the families the user may see."""
    rows = session.execute(_call_query(user, channels, now or utcnow())).all()
    return [
        Call(
            id=message.id,
            family_id=family.id,
            surname=family.surname,
            phone=family.phone or message.address,
            about=MESSAGE_EVENT.label(message.event_kind),
            text=message.body,
            attempts=message.attempts,
            last_answer=message.provider_answer,
        )
        for message, family in rows
    ]


def _next_morning(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(centre_zone()) + dt.timedelta(days=1)
    return local.replace(hour=QUIET_UNTIL, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def record_call(
    session: Session,
    user: User,
    message_id: int,
    outcome: str,
    channels: tuple[str, ...],
    now: dt.datetime | None = None,
) -> Message:
    """Record the outcome of one call of the list (the row locked first)."""
    now = now or utcnow()
    if outcome not in CALL_OUTCOME.labels:
        raise WorkflowError("Выберите результат звонка.", "outcome")
    row = session.execute(
        _call_query(user, channels, now)
        .where(Message.id == message_id)
        .with_for_update(of=Message)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise WorkflowError(NOT_IN_LIST)
    message: Message = row[0]
    who = user.staff.full_name if user.staff is not None else user.username
    answer = f"звонок: {CALL_OUTCOME.label(outcome)} ({who}, {now.astimezone(centre_zone()):%d.%m.%Y %H:%M})"
    message.called_by_id = user.staff_id
    if outcome == "not_reached":
        mark_failed(
            session,
            message,
            answer,
            now,
            max_attempts=CALL_MAX_ATTEMPTS,
            retry_at=_next_morning(now),
        )
    else:
        mark_delivered(session, message, answer, now)
    session.flush()
    return message
