"""A family's timeline: everything that happened to it, newest first, as plain rows.

Each kind of event has one source function — one query, within the viewer's row scope —
keyed by the table it reads (the screen matrix's key, so the page asks the viewer's right to
that table before it runs the source). A new kind (council decisions, events, incoming
referrals, the ИПРА) is one more function in SOURCES. Health data never enters an entry's
text; a visit's findings and a medical referral's reason are a `detail` given only to a
role that reads health (and МСЭ/ИПРА documents stay out of the scope of the others).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple, cast

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import (
    Appointment,
    Assessment,
    Case,
    CouncilDecision,
    CouncilMeeting,
    Document,
    EquipmentType,
    EquipmentUnit,
    Event,
    EventAttendance,
    IncomingReferral,
    Loan,
    Partner,
    Person,
    Referral,
    Review,
    Service,
    Staff,
    Task,
    User,
    Visit,
)
from models.base import full_name
from models.cases import CASE_STATUS, CLOSURE_REASON, EFFECTIVENESS
from models.documents import DOCUMENT_TYPE
from models.reference import EVENT_KIND
from models.referrals import REFERRAL_HEALTH_REASONS, REFERRAL_STATUS
from models.rental import CONDITION
from models.roles import reads_health

from .dates import centre_zone
from .scope import where_visible

# Entries each source gives at most (its latest): a family's page stays one screen of
# queries and a few hundred lines, whatever its history.
PER_SOURCE = 200


class Entry(NamedTuple):
    """One thing that happened to the family."""

    on: dt.date
    kind: str  # the table it comes from (a MATRIX key): the page links the row there
    row_id: int
    text: str
    detail: str | None = None  # health data: only for a role that reads it
    # The order of a day's events (the application before its assessment, the contract,
    # the closure last): the timeline reads newest first within a day too.
    stage: int = 5


Source = Callable[[Session, User, int, bool], Iterator[Entry]]


def _day(moment: dt.datetime) -> dt.date:
    """The centre's day of a stored timestamp (SQLite gives back UTC without its zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(centre_zone()).date()


def _who(last: str | None, first: str | None, middle: str | None) -> str:
    return f" — {full_name(last, first, middle)}" if last else ""


def appointments(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    rows = session.execute(
        select(
            Appointment.id,
            Appointment.starts_at,
            Appointment.purpose,
            Appointment.outcome,
            Staff.last_name,
            Staff.first_name,
            Staff.middle_name,
        )
        .join(Staff, Staff.id == Appointment.specialist_id)
        .where(Appointment.family_id == family_id, where_visible(Appointment, user))
        .order_by(Appointment.starts_at.desc())
        .limit(PER_SOURCE)
    )
    for row_id, starts_at, purpose, outcome, *name in rows:
        text = f"Приём {starts_at:%d.%m.%Y %H:%M}: {purpose}{_who(*name)}"
        if outcome:
            text += f". Итог: {outcome}"
        yield Entry(starts_at.date(), "appointment", row_id, text)


def cases(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    """The application, the contract and the closure of each case."""
    rows = session.execute(
        select(
            Case.id,
            Case.application_date,
            Case.status,
            Case.contract_number,
            Case.contract_date,
            Case.planned_end_date,
            Case.closed_on,
            Case.closure_reason,
        )
        .where(Case.family_id == family_id, where_visible(Case, user))
        .order_by(Case.application_date.desc())
        .limit(PER_SOURCE)
    )
    for case_id, applied, status, number, signed, planned_end, closed_on, reason in rows:
        words = CASE_STATUS.label(status)
        yield Entry(applied, "case", case_id, f"Заявление, случай № {case_id} ({words})", None, 0)
        if signed is not None:
            end = f", до {planned_end:%d.%m.%Y}" if planned_end else ""
            text = f"Договор № {number} по случаю № {case_id}{end}"
            yield Entry(signed, "case", case_id, text, None, 2)
        if closed_on is not None:
            why = CLOSURE_REASON.label(reason) if reason else ""
            yield Entry(closed_on, "case", case_id, f"Случай № {case_id} закрыт: {why}", None, 9)


def assessments(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    """One line per assessment of a case (the six domains of one day); no need levels."""
    rows = session.execute(
        select(Assessment.case_id, Assessment.assessed_on, func.count(), func.min(Assessment.id))
        .join(Case, Case.id == Assessment.case_id)
        .where(
            Case.family_id == family_id,
            Assessment.assessed_on.is_not(None),
            where_visible(Assessment, user),
        )
        .group_by(Assessment.case_id, Assessment.assessed_on)
        .order_by(Assessment.assessed_on.desc())
        .limit(PER_SOURCE)
    )
    for case_id, assessed_on, domains, _first in rows:
        text = f"Оценка потребностей по случаю № {case_id} (сфер: {domains})"
        yield Entry(assessed_on, "case", case_id, text, None, 1)


def visits(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    rows = session.execute(
        select(
            Visit.id,
            Visit.visited_on,
            Visit.purpose,
            Visit.findings,
            Staff.last_name,
            Staff.first_name,
            Staff.middle_name,
        )
        .join(Case, Case.id == Visit.case_id)
        .join(Staff, Staff.id == Visit.staff_id)
        .where(Case.family_id == family_id, Visit.archived_at.is_(None), where_visible(Visit, user))
        .order_by(Visit.visited_on.desc())
        .limit(PER_SOURCE)
    )
    for row_id, visited_on, purpose, findings, *name in rows:
        text = f"Визит в семью: {purpose}{_who(*name)}"
        yield Entry(visited_on, "visit", row_id, text, findings if health else None)


def tasks_done(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    rows = session.execute(
        select(
            Task.id,
            Task.closed_at,
            Task.title,
            Staff.last_name,
            Staff.first_name,
            Staff.middle_name,
        )
        .outerjoin(Staff, Staff.id == Task.assignee_id)
        .where(Task.family_id == family_id, Task.status == "done", where_visible(Task, user))
        .order_by(Task.closed_at.desc())
        .limit(PER_SOURCE)
    )
    for row_id, closed_at, title, *name in rows:
        yield Entry(
            _day(cast(dt.datetime, closed_at)),  # a done task has it (a CHECK)
            "task",
            row_id,
            f"Выполнена задача «{title}»{_who(*name)}",
        )


def reviews(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    rows = session.execute(
        select(
            Review.id,
            Review.held_on,
            Review.case_id,
            Review.effectiveness,
            Staff.last_name,
            Staff.first_name,
            Staff.middle_name,
        )
        .join(Case, Case.id == Review.case_id)
        .outerjoin(Staff, Staff.id == Review.reviewer_id)
        .where(
            Case.family_id == family_id, Review.held_on.is_not(None), where_visible(Review, user)
        )
        .order_by(Review.held_on.desc())
        .limit(PER_SOURCE)
    )
    for row_id, held_on, case_id, effectiveness, *name in rows:
        result = f", эффективность {EFFECTIVENESS.label(effectiveness)}" if effectiveness else ""
        text = f"Мониторинг случая № {case_id}{result}{_who(*name)}"
        yield Entry(cast(dt.date, held_on), "review", row_id, text)  # held: the WHERE


def loans(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    """Each loan's issue and, once it is back, its return."""
    rows = session.execute(
        select(
            Loan.id,
            Loan.issued_on,
            Loan.due_on,
            Loan.returned_on,
            Loan.condition_on_return,
            EquipmentType.name,
            EquipmentUnit.inventory_number,
            Person.last_name,
            Person.first_name,
            Person.middle_name,
        )
        .join(EquipmentUnit, EquipmentUnit.id == Loan.unit_id)
        .join(EquipmentType, EquipmentType.id == EquipmentUnit.type_id)
        .join(Person, Person.id == Loan.child_id)
        .where(Loan.family_id == family_id, where_visible(Loan, user))
        .order_by(Loan.issued_on.desc())
        .limit(PER_SOURCE)
    )
    for row_id, issued, due, returned, condition, kind, number, *child in rows:
        what = f"{kind} (инв. № {number})"
        text = f"Выдано ТСР: {what} для {full_name(*child)}, вернуть до {due:%d.%m.%Y}"
        yield Entry(issued, "loan", row_id, text)
        if returned is not None:
            state = f", состояние {CONDITION.label(condition)}" if condition else ""
            yield Entry(returned, "loan", row_id, f"Возвращено ТСР: {what}{state}", None, 6)


def referrals(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    """Outgoing referrals to partners: when sent (or prepared) and when answered."""
    rows = session.execute(
        select(
            Referral.id,
            Referral.prepared_on,
            Referral.sent_on,
            Referral.answered_on,
            Referral.status,
            Referral.reason_kind,
            Referral.health_reason,
            Partner.name,
            Service.name,
        )
        .join(Case, Case.id == Referral.case_id)
        .join(Partner, Partner.id == Referral.partner_id)
        .join(Service, Service.id == Referral.service_id)
        .where(Case.family_id == family_id, where_visible(Referral, user))
        .order_by(Referral.prepared_on.desc())
        .limit(PER_SOURCE)
    )
    for row_id, prepared, sent, answered, status, kind, health_reason, partner, service in rows:
        medical = kind in REFERRAL_HEALTH_REASONS
        detail = health_reason if health and medical else None
        words = "Направление отправлено" if sent else "Направление подготовлено"
        text = f"{words} в «{partner}»: {service}"
        yield Entry(sent or prepared, "referral", row_id, text, detail)
        if answered is not None:
            answer = f"Ответ «{partner}» на направление: {REFERRAL_STATUS.label(status)}"
            yield Entry(answered, "referral", row_id, answer, None, 6)


def documents(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    """The family's file: the family's, its members' and its cases' documents (МСЭ and
    ИПРА only for a role that reads health — the documents' own scope)."""
    members = select(Person.id).where(Person.family_id == family_id)
    of_cases = select(Case.id).where(Case.family_id == family_id)
    rows = session.execute(
        select(
            Document.id, Document.doc_type, Document.doc_date, Document.added_at, Document.file_name
        )
        .where(
            or_(
                Document.family_id == family_id,
                Document.person_id.in_(members),
                Document.case_id.in_(of_cases),
            ),
            Document.archived_at.is_(None),
            where_visible(Document, user),
        )
        .order_by(Document.added_at.desc())
        .limit(PER_SOURCE)
    )
    for row_id, doc_type, doc_date, added_at, file_name in rows:
        kind = DOCUMENT_TYPE.label(doc_type)
        text = f"Документ: {kind[:1].upper()}{kind[1:]} ({file_name})"
        yield Entry(doc_date or _day(added_at), "documents", row_id, text)


# table (MATRIX key) → its source; the page runs those whose table the viewer may read.
def council_decisions(
    session: Session, user: User, family_id: int, health: bool
) -> Iterator[Entry]:
    """The coordination council's decisions on the family's cases (the case's and the
    meeting's row scope), each under its meeting's date: who does what by when."""
    rows = session.execute(
        select(
            CouncilDecision.meeting_id,
            CouncilMeeting.held_on,
            CouncilDecision.what,
            CouncilDecision.due_on,
            Staff.last_name,
            Staff.first_name,
            Staff.middle_name,
            Partner.name,
        )
        .join(CouncilMeeting, CouncilMeeting.id == CouncilDecision.meeting_id)
        .join(Case, Case.id == CouncilDecision.case_id)
        .outerjoin(Staff, Staff.id == CouncilDecision.staff_id)
        .outerjoin(Partner, Partner.id == CouncilDecision.partner_id)
        .where(
            Case.family_id == family_id,
            CouncilMeeting.archived_at.is_(None),
            where_visible(Case, user),
            where_visible(CouncilMeeting, user),  # the meeting's page opens for the user
        )
        .order_by(CouncilMeeting.held_on.desc(), CouncilDecision.id.desc())
        .limit(PER_SOURCE)
    )
    for meeting_id, held_on, what, due, last, first, middle, partner in rows:
        who = f" — «{partner}»" if partner else _who(last, first, middle)
        text = f"Решение координационного совета: {what}{who}, срок {due:%d.%m.%Y}"
        yield Entry(held_on, "council", meeting_id, text)


def incoming_referrals(
    session: Session, user: User, family_id: int, health: bool
) -> Iterator[Entry]:
    """A partner's referral of the family (how it came to the centre); its reason is a
    detail for a role that reads health."""
    rows = session.execute(
        select(
            IncomingReferral.id, IncomingReferral.received_on, IncomingReferral.reason, Partner.name
        )
        .join(Partner, Partner.id == IncomingReferral.partner_id)
        .where(IncomingReferral.family_id == family_id, where_visible(IncomingReferral, user))
        .order_by(IncomingReferral.received_on.desc())
        .limit(PER_SOURCE)
    )
    for row_id, received, reason, partner in rows:
        text = f"Получено направление семьи от «{partner}»"
        yield Entry(received, "incoming_referral", row_id, text, reason if health else None, 0)


def events_attended(session: Session, user: User, family_id: int, health: bool) -> Iterator[Entry]:
    """The pilot's events the family took part in: clubs, holidays, excursions."""
    rows = session.execute(
        select(Event.id, Event.held_on, Event.kind, Event.title)
        .join(EventAttendance, EventAttendance.event_id == Event.id)
        .where(
            EventAttendance.family_id == family_id,
            Event.archived_at.is_(None),
            where_visible(EventAttendance, user),
        )
        .order_by(Event.held_on.desc())
        .limit(PER_SOURCE)
    )
    for row_id, held_on, kind, title in rows:
        label = EVENT_KIND.label(kind)
        yield Entry(held_on, "event", row_id, f"{label[:1].upper()}{label[1:]}: «{title}»")


SOURCES: dict[str, Source] = {
    "appointment": appointments,
    "case": cases,
    "assessment": assessments,
    "visit": visits,
    "task": tasks_done,
    "review": reviews,
    "loan": loans,
    "referral": referrals,
    "documents": documents,
    "council": council_decisions,
    "incoming_referral": incoming_referrals,
    "event_attendance": events_attended,
}


def timeline(session: Session, user: User, family_id: int, tables: Iterable[str]) -> list[Entry]:
    """What happened to family `family_id`, newest first, from the sources of `tables`
    (those the viewer may read) within the viewer's row scope: one query per source."""
    health = reads_health(user.role)
    wanted = set(tables)
    entries = [
        entry
        for table in SOURCES
        if table in wanted
        for entry in SOURCES[table](session, user, family_id, health)
    ]
    return sorted(entries, key=lambda entry: (entry.on, entry.stage, entry.row_id), reverse=True)
