"""Reception: pre-registration of appointments with a specialist by time slot (seed 004).

A reception day keeps to the centre's hours and its lunch break (the settings row,
workflows/centre.py), Saturdays included (working parents come then), in slots of
half an hour; a slot that touches the lunch break is not offered. One specialist has at most one appointment a
slot: the database holds it with a unique (specialist, start) and the loser of
a race gets the same Russian message as a clerk who picked a busy slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Appointment, Family, Staff, User
from models.live import active_for_new_work, refuse_for_new_work
from models.reference import APPOINTMENT_CHANNEL
from models.roles import roles_that
from workflows.centre import Hours, working_hours
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.notify import notify_appointment_booked
from workflows.scope import where_visible

SLOT = dt.timedelta(minutes=30)
SUNDAY = 6


def slot_busy(starts_at: dt.datetime) -> str:
    return f"У специалиста уже есть запись на {starts_at:%d.%m.%Y %H:%M}: выберите другое время."


def day_slots(day: dt.date, hours: Hours) -> list[dt.datetime]:
    """The reception slots of a day, from opening to closing, none in the lunch break
    and none on Sunday."""
    if day.weekday() == SUNDAY:
        return []
    slots, moment = [], dt.datetime.combine(day, hours.opens)
    end = dt.datetime.combine(day, hours.closes)
    while moment + SLOT <= end:
        if not hours.in_lunch(moment.time(), (moment + SLOT).time()):
            slots.append(moment)
        moment += SLOT
    return slots


def is_slot(starts_at: dt.datetime, hours: Hours) -> bool:
    return starts_at in day_slots(starts_at.date(), hours)


def slot_refusal(starts_at: dt.datetime, hours: Hours) -> str | None:
    """Why a moment is no reception slot, in Russian; None when it is one."""
    if starts_at.weekday() == SUNDAY:
        return "В воскресенье приёма нет; суббота — приёмный день."
    if is_slot(starts_at, hours):
        return None
    end = (starts_at + SLOT).time()
    if hours.in_lunch(starts_at.time(), end):
        return (
            f"С {hours.lunch_starts:%H:%M} до {hours.lunch_ends:%H:%M} — обеденный перерыв:"
            " выберите другое время."
        )
    return f"Приём — {hours.words()}, каждые полчаса."


def receiving_staff(session: Session) -> list[Staff]:
    """Staff active for new work who hold receptions (everyone but the rental point)."""
    query = (
        select(Staff)
        .where(active_for_new_work(Staff), Staff.role.in_(roles_that("receives_visitors")))
        .order_by(Staff.last_name, Staff.first_name)
    )
    return list(session.scalars(query))


@dataclass
class Slot:
    starts_at: dt.datetime
    appointment: Appointment | None  # shown only when the user may see it
    busy: bool

    @property
    def free(self) -> bool:
        return not self.busy


def day_view(session: Session, user: User, specialist: Staff, day: dt.date) -> list[Slot]:
    """Every slot of the specialist's day: free, or busy with the appointment if the user may see it.

    A slot taken by a family outside the user's scope shows as busy without a name.
    Appointments off the grid (made before the grid existed) are listed too.
    """
    start = dt.datetime.combine(day, dt.time.min)
    booked = {
        a.starts_at: a
        for a in session.scalars(
            select(Appointment).where(
                Appointment.specialist_id == specialist.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < start + dt.timedelta(days=1),
                Appointment.archived_at.is_(None),
            )
        )
    }
    visible = set(
        session.scalars(
            select(Appointment.id).where(
                Appointment.id.in_([a.id for a in booked.values()]),
                where_visible(Appointment, user),
            )
        )
    )
    moments = sorted(set(day_slots(day, working_hours(session))) | set(booked))
    return [
        Slot(
            m,
            booked[m] if m in booked and booked[m].id in visible else None,
            m in booked,
        )
        for m in moments
    ]


def book_appointment(
    session: Session,
    actor: User,
    *,
    specialist: Staff | None,
    starts_at: dt.datetime,
    channel: str,
    purpose: str,
    family: Family | None = None,
    citizen_name: str | None = None,
    citizen_phone: str | None = None,
    today: dt.date | None = None,
) -> Appointment:
    """Pre-register a citizen or a family with a specialist for one free slot."""
    today = today or centre_today()
    if specialist is None:
        raise WorkflowError("Выберите работающего специалиста.", "specialist")
    refuse_for_new_work(specialist, "specialist")
    if starts_at.date() < today:
        raise WorkflowError("Нельзя записать на прошедший день.", "starts_at")
    refusal = slot_refusal(starts_at, working_hours(session))
    if refusal:
        raise WorkflowError(refusal, "starts_at")
    if channel not in APPOINTMENT_CHANNEL.codes:
        raise WorkflowError("Выберите способ записи: лично или по телефону.", "channel")
    if not (purpose or "").strip():
        raise WorkflowError("Укажите цель обращения.", "purpose")
    if family is None and not (citizen_name or "").strip():
        raise WorkflowError("Укажите семью или ФИО заявителя.", "citizen_name")
    if (
        family is not None
        and session.scalar(
            select(Family.id).where(Family.id == family.id, where_visible(Family, actor))
        )
        is None
    ):
        raise WorkflowError("Семья не найдена.", "family")
    if family is not None:
        refuse_for_new_work(family, "family")
    taken = select(Appointment.id).where(
        Appointment.specialist_id == specialist.id,
        Appointment.starts_at == starts_at,
        Appointment.archived_at.is_(None),  # a cancelled (archived) appointment frees its slot
    )
    if session.scalar(taken) is not None:
        raise WorkflowError(slot_busy(starts_at), "starts_at")
    appointment = Appointment(
        specialist=specialist,
        starts_at=starts_at,
        channel=channel,
        purpose=purpose.strip(),
        family=family,
        citizen_name=(citizen_name or "").strip() or None,
        citizen_phone=(citizen_phone or "").strip() or None,
    )
    session.add(appointment)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise WorkflowError(slot_busy(starts_at), "starts_at") from exc
    notify_appointment_booked(session, appointment, today)
    return appointment


def check_convertible(appointment: Appointment) -> None:
    """An appointment becomes an application once, and a cancelled (archived) one never."""
    refuse_for_new_work(appointment)  # a cancelled (archived) one
    if appointment.case_id is not None:
        raise WorkflowError(f"По этой записи уже открыт случай № {appointment.case_id}.")
