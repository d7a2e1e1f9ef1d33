"""Messages to families: made by the events themselves, through one function, once.

`notify(session, about, recipient, …)` puts one row in the outbox (models/notify.py)
in the caller's transaction and returns it — or None when the family has chosen no
channel, has no address for it, or has given no consent to notifications. It never
sends: the worker (workflows/delivery.py) does, later, so a provider that is down
never holds up the workflow that made the message. Calling it twice for the same
event and recipient returns the first message (the partial unique indexes hold it on
two servers at once).

The texts come from the `message_template` rows the administrator edits, or from
TEMPLATES below where no row exists. A message carries only what the family needs
to act: what is reserved and until when, the day and hour of an appointment, a due
date — no names of children, nothing of health, not the purpose of a visit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Appointment, Consent, Family, Loan, Message, MessageTemplate, User
from models.base import utcnow
from models.notify import still_timely
from models.terms import (
    APPOINTMENT_EVE_HOUR,
    LOAN_DUE_NOTICE_DAYS,
    QUIET_FROM,
    QUIET_UNTIL,
)

from .dates import centre_zone


@dataclass(frozen=True)
class About:
    """The event a message is about: its kind (MESSAGE_EVENT), the id of its row and
    its date (a due date, an appointment's day), so a new due date is a new event."""

    kind: str
    id: int
    on: dt.date


@dataclass(frozen=True)
class Template:
    title: str
    subject: str
    body: str
    # The placeholders the text may use, with a sample value for the preview.
    fields: Mapping[str, str]


TSR = {"вид_ТСР": "Кресло-коляска детская", "до": "05.12"}
WHEN = {"дата": "05.12", "время": "10:30"}
DUE = {"вид_ТСР": "Кресло-коляска детская", "срок": "05.12"}
# The ИПРА's end, the МСЭ date: the day and how to reach the family's specialist, no more.
AHEAD = {"дата": "05.12.2026", "телефон": "по тел. 8 (8162) 77-20-15"}

# One template per kind of event; the code is the event's kind.
TEMPLATES: Mapping[str, Template] = {
    "offer": Template(
        "Предложение ТСР из очереди",
        "Для вас зарезервировано ТСР",
        "Для вас зарезервировано: {вид_ТСР}, до {до}. Приходите в пункт проката КЦСОН.",
        TSR,
    ),
    "appointment": Template(
        "Запись на приём",
        "Вы записаны на приём",
        "Вы записаны на приём в КЦСОН {дата} в {время}.",
        WHEN,
    ),
    "appointment_eve": Template(
        "Напоминание накануне приёма",
        "Напоминание о приёме",
        "Напоминаем: завтра, {дата}, в {время} вас ждут на приём в КЦСОН.",
        WHEN,
    ),
    "loan_due": Template(
        "Скоро срок возврата ТСР",
        "Скоро срок возврата ТСР",
        "{срок} — срок возврата ТСР ({вид_ТСР}) в пункт проката КЦСОН. "
        "Если нужно продлить, позвоните в пункт проката.",
        DUE,
    ),
    "loan_overdue": Template(
        "Просрочен возврат ТСР",
        "Срок возврата ТСР прошёл",
        "Срок возврата ТСР ({вид_ТСР}) прошёл {срок}. "
        "Верните его в пункт проката КЦСОН или позвоните, чтобы продлить.",
        DUE,
    ),
    "ipra_end": Template(
        "Подходит срок окончания ИПРА",
        "Подходит срок окончания ИПРА",
        "{дата} заканчивается срок индивидуальной программы реабилитации ребёнка. "
        "Чтобы вовремя пройти переосвидетельствование, позвоните специалисту КЦСОН {телефон}.",
        AHEAD,
    ),
    "mse_review": Template(
        "Подходит срок переосвидетельствования",
        "Подходит срок переосвидетельствования",
        "Подходит срок переосвидетельствования в бюро МСЭ: {дата}. "
        "Позвоните специалисту КЦСОН {телефон} — он поможет подготовить документы.",
        AHEAD,
    ),
    # To a member of staff who asked for it: how many notices wait in the bell, by kind —
    # no family, no case, nothing of health in the mail.
    "staff_digest": Template(
        "Ежедневная сводка уведомлений сотруднику",
        "Опора: новое для вас на {дата}",
        "Новое для вас в «Опоре» на {дата}:\n{сводка}\nПодробности — в колокольчике «Опоры».",
        {"дата": "03.12", "сводка": "— назначено задач: 2\n— решений совета: 1"},
    ),
}

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def template_problem(code: str, text: str) -> str | None:
    """Why `text` cannot be the template `code` (an unknown placeholder), in Russian."""
    known = TEMPLATES[code].fields
    unknown = [name for name in PLACEHOLDER.findall(text) if name not in known]
    if unknown:
        allowed = ", ".join(f"{{{name}}}" for name in known)
        return f"Неизвестная подстановка {{{unknown[0]}}}. В этом шаблоне можно: {allowed}."
    return None


def render(text: str, values: Mapping[str, str]) -> str:
    """`text` with each {placeholder} replaced by its value."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def template_of(session: Session, code: str) -> Template:
    """The administrator's text of `code`, or the built-in one."""
    row = session.scalars(select(MessageTemplate).where(MessageTemplate.code == code)).first()
    default = TEMPLATES[code]
    if row is None:
        return default
    return Template(row.title, row.subject, row.body, default.fields)


def ensure_templates(session: Session) -> int:
    """Add the built-in text of every template that has no row yet (the seed); returns
    how many were added."""
    have = set(session.scalars(select(MessageTemplate.code)))
    missing = [code for code in TEMPLATES if code not in have]
    for code in missing:
        t = TEMPLATES[code]
        session.add(MessageTemplate(code=code, title=t.title, subject=t.subject, body=t.body))
    session.flush()
    return len(missing)


def has_notification_consent(session: Session, family_id: int, on: dt.date) -> bool:
    """Whether an active consent of the family (given by `on`, not withdrawn, not
    archived) includes the consent to notifications."""
    query = select(
        exists().where(
            Consent.family_id == family_id,
            Consent.archived_at.is_(None),
            Consent.notifications.is_(True),
            Consent.given_on <= on,
            or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > on),
        )
    )
    return bool(session.scalar(query))


# What a chosen channel needs: (the field, the Russian refusal when it is empty).
CHANNEL_NEEDS = {
    "sms": ("phone", "Для SMS-извещений укажите телефон семьи."),
    "call": ("phone", "Для извещений звонком укажите телефон семьи."),
    "email": ("email", "Для извещений по эл. почте укажите адрес эл. почты."),
}


def contact_problem(
    channel: str | None, phone: str | None, email: str | None
) -> tuple[str, str] | None:
    """(field, message) when the chosen channel has no address to go to."""
    need = CHANNEL_NEEDS.get(channel or "none")
    if need is None:
        return None
    value = phone if need[0] == "phone" else email
    return None if (value or "").strip() else need


def contact_of(session: Session, family: Family, on: dt.date) -> tuple[str, str] | None:
    """(channel, address) a message to the family goes by, or None: no channel chosen,
    no phone or e-mail for it, no consent to notifications."""
    channel = family.contact_channel
    if channel == "none" or family.archived_at is not None:
        return None
    address = (family.email if channel == "email" else family.phone) or ""
    if not address.strip():
        return None
    if not has_notification_consent(session, family.id, on):
        return None
    return channel, address.strip()


def out_of_quiet_hours(moment: dt.datetime) -> dt.datetime:
    """`moment`, or the end of the quiet hours it falls in (the centre's time)."""
    local = moment.astimezone(centre_zone())
    morning = local.replace(hour=QUIET_UNTIL, minute=0, second=0, microsecond=0)
    if local.hour >= QUIET_FROM:
        return (morning + dt.timedelta(days=1)).astimezone(dt.UTC)
    if local.hour < QUIET_UNTIL:
        return morning.astimezone(dt.UTC)
    return moment


def moment_on(today: dt.date) -> dt.datetime:
    """Now, on the workflow's `today` (the same moment unless a date was given to replay)."""
    local = utcnow().astimezone(centre_zone())
    return dt.datetime.combine(today, local.timetz()).astimezone(dt.UTC)


def _existing(session: Session, about: About, recipient: Family | User) -> Message | None:
    who = (
        Message.family_id == recipient.id
        if isinstance(recipient, Family)
        else Message.user_id == recipient.id
    )
    return session.scalars(
        select(Message).where(
            Message.event_kind == about.kind,
            Message.event_id == about.id,
            Message.event_on == about.on,
            who,
        )
    ).first()


def notify(
    session: Session,
    about: About,
    recipient: Family | User,
    values: Mapping[str, str],
    today: dt.date,
    due_at: dt.datetime | None = None,
) -> Message | None:
    """Put the message about `about` to `recipient` in the outbox (once); see the module.

    A staff member (a `User`) is written to by e-mail, at their staff card's address.
    """
    if isinstance(recipient, Family):
        contact = contact_of(session, recipient, today)
    else:
        email = recipient.staff.email if recipient.staff is not None else None
        contact = ("email", email.strip()) if email and email.strip() else None
    if contact is None:
        return None
    existing = _existing(session, about, recipient)
    if existing is not None:
        return existing
    channel, address = contact
    template = template_of(session, about.kind)
    due = due_at or moment_on(today)
    if channel != "call":  # the call list is worked in office hours anyway
        due = out_of_quiet_hours(due)
    message = Message(
        family_id=recipient.id if isinstance(recipient, Family) else None,
        user_id=recipient.id if isinstance(recipient, User) else None,
        channel=channel,
        address=address,
        template_code=about.kind,
        event_kind=about.kind,
        event_id=about.id,
        event_on=about.on,
        subject=render(template.subject, values),
        body=render(template.body, values),
        due_at=due,
        next_attempt_at=due,
        state="pending",
        attempts=0,
    )
    session.add(message)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Another server made this message a moment ago.
        return _existing(session, about, recipient)
    return message


def cancel_messages(session: Session, kind: str, event_ids: list[int], why: str) -> int:
    """Messages about events that no longer hold (an offer withdrawn or taken) are not
    sent; returns how many were stopped."""
    if not event_ids:
        return 0
    return _stop(session, why, Message.event_kind == kind, Message.event_id.in_(event_ids))


PAST_EVENT = "не отправлено: день, о котором сообщение, уже прошёл"


def give_up_past_events(session: Session, today: dt.date) -> int:
    """The tick's job: reminders of a day already past (an appointment, a due date) are
    given up, not sent or called late; returns how many."""
    return _stop(session, PAST_EVENT, ~still_timely(today))


def _stop(session: Session, why: str, *conditions: ColumnElement[bool]) -> int:
    open_ones = session.scalars(
        select(Message)
        .where(Message.state.in_(("pending", "failed")), *conditions)
        .with_for_update(skip_locked=True)
    ).all()
    for message in open_ones:
        message.state = "given_up"
        message.next_attempt_at = None
        message.provider_answer = why
    return len(open_ones)


# --- the events the tick finds by their dates -------------------------------------------


def _day(day: dt.date) -> str:
    return f"{day:%d.%m}"


def appointment_values(appointment: Appointment) -> dict[str, str]:
    return {"дата": _day(appointment.starts_at.date()), "время": f"{appointment.starts_at:%H:%M}"}


def notify_appointment_booked(
    session: Session, appointment: Appointment, today: dt.date
) -> Message | None:
    """The family booked for a reception is told its day and hour."""
    if appointment.family is None:
        return None
    about = About("appointment", appointment.id, appointment.starts_at.date())
    return notify(session, about, appointment.family, appointment_values(appointment), today)


def remind_appointments_eve(session: Session, today: dt.date) -> int:
    """Families with an appointment tomorrow are reminded today, from APPOINTMENT_EVE_HOUR.
    Idempotent; returns how many messages were made."""
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min)
    rows = session.scalars(
        select(Appointment)
        .where(
            Appointment.family_id.is_not(None),
            Appointment.archived_at.is_(None),
            Appointment.starts_at >= tomorrow,
            Appointment.starts_at < tomorrow + dt.timedelta(days=1),
        )
        .order_by(Appointment.id)
    ).all()
    eve = dt.datetime.combine(today, dt.time(APPOINTMENT_EVE_HOUR), tzinfo=centre_zone())
    made = 0
    for appointment in rows:
        assert appointment.family is not None  # the query asks for it
        about = About("appointment_eve", appointment.id, appointment.starts_at.date())
        if _existing(session, about, appointment.family) is not None:
            continue
        message = notify(
            session,
            about,
            appointment.family,
            appointment_values(appointment),
            today,
            due_at=max(eve.astimezone(dt.UTC), moment_on(today)),
        )
        made += message is not None
    return made


def loan_values(loan: Loan) -> dict[str, str]:
    return {"вид_ТСР": str(loan.unit.type), "срок": _day(loan.due_on)}


def _remind_loans(session: Session, today: dt.date, kind: str, due_before: dt.date) -> int:
    loans = session.scalars(
        select(Loan)
        .where(
            Loan.returned_on.is_(None),
            Loan.archived_at.is_(None),
            Loan.due_on <= due_before,
            *((Loan.due_on >= today,) if kind == "loan_due" else (Loan.due_on < today,)),
        )
        .order_by(Loan.due_on, Loan.id)
    ).all()
    made = 0
    for loan in loans:
        about = About(kind, loan.id, loan.due_on)
        if _existing(session, about, loan.family) is not None:
            continue
        made += notify(session, about, loan.family, loan_values(loan), today) is not None
    return made


def remind_loans_due(session: Session, today: dt.date) -> int:
    """A loan due within LOAN_DUE_NOTICE_DAYS: its family is reminded, once per due date."""
    return _remind_loans(
        session, today, "loan_due", today + dt.timedelta(days=LOAN_DUE_NOTICE_DAYS)
    )


def remind_overdue_loans(session: Session, today: dt.date) -> int:
    """A loan past its due date: its family is told, once per missed due date."""
    return _remind_loans(session, today, "loan_overdue", today - dt.timedelta(days=1))
