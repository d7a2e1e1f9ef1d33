"""The district's interdepartmental coordination council (seed 000) as work.

The coordinator, or a district worker of the meeting's district, records a meeting
(`record_meeting`: the date, the district, the participants — staff and partners'
contact persons — and the agenda), puts cases of that district on its agenda
(`add_agenda_case`, only cases within the recorder's row scope) and records each
decision (`decide`): who does what by when. A decision for a staff member becomes a
task through the one task path (workflows/tasks.py); one for a partner becomes an
outgoing referral (workflows/referrals.py), so the tick, the board, «Мои задачи» and
the referral page carry it out. A decision is carried out when its task is done or its
referral fulfilled (`CouncilDecision.state`).

Each function re-reads the meeting under a row lock within the actor's scope, refuses
in Russian what the rules forbid and writes; the audit hook records the rows; the
caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select, true
from sqlalchemy.orm import Session, joinedload, selectinload

from models import (
    Case,
    CouncilAgendaItem,
    CouncilDecision,
    CouncilMeeting,
    District,
    Family,
    PartnerAgreement,
    PartnerContact,
    Referral,
    Staff,
    Task,
    User,
)
from models.council import DECISION_STATE
from models.declension import plural
from models.live import active_for_new_work, refuse_for_new_work
from models.reference import staff_district
from models.roles import records_councils, sees_all
from models.terms import COUNCIL_DECISION_DAYS

from .errors import WorkflowError
from .referrals import prepare_referral
from .scope import where_visible
from .staff_notices import notify_staff
from .tasks import create_task

NOT_FOUND = "Заседание не найдено."


def default_due(held_on: dt.date) -> dt.date:
    """The «by when» the page offers: COUNCIL_DECISION_DAYS after the meeting."""
    return held_on + dt.timedelta(days=COUNCIL_DECISION_DAYS)


# --- who may record ----------------------------------------------------------------------


def _worker_districts(actor: User) -> Select[Any]:
    return select(staff_district.c.district_id).where(staff_district.c.staff_id == actor.staff_id)


def _recorded(actor: User) -> bool | Select[Any]:
    """Whose councils `actor` records: every district's (True, the coordinator), none
    (False), or those of a query of district ids (a district worker's own)."""
    if not records_councils(actor.role):
        return False
    if sees_all(actor.role):
        return True
    if actor.staff_id is None:
        return False
    return _worker_districts(actor)


def records_for(session: Session, actor: User | None, district_id: int | None) -> bool:
    """The coordinator records any district's council; a district worker their own."""
    if actor is None:
        return True  # the demo seed, the generator
    which = _recorded(actor)
    if isinstance(which, bool):
        return which
    return district_id is not None and district_id in session.scalars(which).all()


def recorded_districts(session: Session, actor: User) -> list[District]:
    """The live districts whose council `actor` records (`records_for`), by name: one
    query, not one per district."""
    which = _recorded(actor)
    if which is False:
        return []
    query = active_for_new_work(select(District)).order_by(District.name)
    if which is not True:
        query = query.where(District.id.in_(which))
    return list(session.scalars(query))


def _require_recorder(session: Session, actor: User | None, district_id: int | None) -> None:
    if actor is not None and not records_councils(actor.role):
        raise WorkflowError(
            "Заседание совета записывают руководитель службы и участковый специалист участка."
        )
    if not records_for(session, actor, district_id):
        raise WorkflowError(
            "Заседание совета этого участка записывают руководитель службы "
            "и участковый специалист этого участка.",
            field="district",
        )


def _locked(session: Session, actor: User | None, meeting_id: int | None) -> CouncilMeeting:
    """The meeting under a row lock, if the actor may see it and record for its district."""
    query = select(CouncilMeeting).where(
        CouncilMeeting.id == meeting_id, CouncilMeeting.archived_at.is_(None)
    )
    if actor is not None:
        query = query.where(where_visible(CouncilMeeting, actor))
    meeting = session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if meeting is None:
        raise WorkflowError(NOT_FOUND)
    _require_recorder(session, actor, meeting.district_id)
    return meeting


# --- the participants --------------------------------------------------------------------


def _rows(
    session: Session,
    model: type[Staff] | type[PartnerContact],
    ids: Iterable[int | None],
    field: str,
) -> list[Any]:
    wanted = sorted({i for i in ids if i})
    rows: list[Any] = []
    if wanted:
        rows = list(session.scalars(select(model).where(model.id.in_(wanted))).all())
    if len(rows) != len(wanted):
        raise WorkflowError("Выберите участников из списка.", field=field)
    for row in rows:
        refuse_for_new_work(row, field)
    return list(rows)


def _participants(
    session: Session,
    meeting: CouncilMeeting,
    staff_ids: Iterable[int | None],
    contact_ids: Iterable[int | None],
) -> None:
    staff = _rows(session, Staff, staff_ids, "staff")
    contacts = _rows(session, PartnerContact, contact_ids, "contacts")
    if not staff and not contacts:
        raise WorkflowError("Отметьте участников заседания.", field="staff")
    # A meeting keeps whoever it already names (a leaver stays in its protocol).
    meeting.staff = sorted(
        {*meeting.staff, *staff}, key=lambda s: (s.last_name, s.first_name, s.id)
    )
    meeting.contacts = sorted(
        {*meeting.contacts, *contacts}, key=lambda c: (c.last_name, c.first_name, c.id)
    )


# --- the transitions ---------------------------------------------------------------------


def record_meeting(
    session: Session,
    actor: User | None,
    *,
    held_on: dt.date | None,
    district_id: int | None,
    agenda: str | None,
    staff_ids: Iterable[int | None],
    contact_ids: Iterable[int | None],
    today: dt.date,
) -> CouncilMeeting:
    """A meeting held: its date, district, participants and agenda."""
    if held_on is None:
        raise WorkflowError("Укажите дату заседания.", field="held_on")
    if held_on > today:
        raise WorkflowError("Записывается проведённое заседание: дата не в будущем.", "held_on")
    district = session.get(District, district_id) if district_id else None
    if district is None:
        raise WorkflowError("Выберите участок.", field="district")
    refuse_for_new_work(district, "district")
    _require_recorder(session, actor, district.id)
    text = (agenda or "").strip()
    if not text:
        raise WorkflowError("Запишите повестку заседания.", field="agenda")
    meeting = CouncilMeeting(
        held_on=held_on,
        district_id=district.id,
        agenda=text,
        recorded_by_id=actor.staff_id if actor is not None else None,
    )
    session.add(meeting)
    _participants(session, meeting, staff_ids, contact_ids)
    session.flush()
    return meeting


def add_participants(
    session: Session,
    actor: User | None,
    meeting_id: int | None,
    *,
    staff_ids: Iterable[int | None],
    contact_ids: Iterable[int | None],
) -> CouncilMeeting:
    """More participants of a meeting (none is removed: the protocol names who was there)."""
    meeting = _locked(session, actor, meeting_id)
    _participants(session, meeting, staff_ids, contact_ids)
    session.flush()
    return meeting


def add_agenda_case(
    session: Session,
    actor: User | None,
    meeting_id: int | None,
    *,
    case_id: int | None,
    note: str | None,
) -> CouncilAgendaItem:
    """A case of the meeting's district on its agenda, if the recorder may see it."""
    meeting = _locked(session, actor, meeting_id)
    query = select(Case).options(joinedload(Case.family)).where(Case.id == case_id)
    if actor is not None:
        query = query.where(where_visible(Case, actor))
    case = session.scalar(query) if case_id else None
    if case is None or case.archived_at is not None:
        raise WorkflowError("Выберите случай из списка.", field="case")
    if case.family.district_id != meeting.district_id:
        raise WorkflowError(
            "Совет участка обсуждает случаи семей своего участка: семья этого случая "
            "живёт на другом участке.",
            field="case",
        )
    taken = session.scalar(
        select(CouncilAgendaItem.id).where(
            CouncilAgendaItem.meeting_id == meeting.id, CouncilAgendaItem.case_id == case.id
        )
    )
    if taken is not None:
        raise WorkflowError(f"Случай № {case.id} уже в повестке заседания.", field="case")
    item = CouncilAgendaItem(
        meeting_id=meeting.id, case_id=case.id, note=(note or "").strip() or None
    )
    session.add(item)
    session.flush()
    return item


@dataclass
class Decision:
    """What a decision says: the case, what to do, by when, and who: a staff member, or a
    partner (with its contact person, the service and the ground of the referral)."""

    case_id: int | None
    what: str | None
    due_on: dt.date | None
    staff_id: int | None = None
    partner_id: int | None = None
    contact_id: int | None = None
    service_id: int | None = None
    reason_kind: str | None = None


def _checked(session: Session, meeting: CouncilMeeting, decision: Decision) -> tuple[Case, str]:
    on_agenda = session.scalar(
        select(CouncilAgendaItem.id).where(
            CouncilAgendaItem.meeting_id == meeting.id,
            CouncilAgendaItem.case_id == decision.case_id,
        )
    )
    if not decision.case_id or on_agenda is None:
        raise WorkflowError("Решение принимается по случаю из повестки заседания.", "case")
    what = (decision.what or "").strip()
    if not what:
        raise WorkflowError("Запишите, что нужно сделать.", field="what")
    if decision.due_on is None:
        raise WorkflowError("Укажите срок исполнения.", field="due_on")
    if decision.due_on < meeting.held_on:
        raise WorkflowError(
            f"Срок — не раньше даты заседания ({meeting.held_on:%d.%m.%Y}).", field="due_on"
        )
    if bool(decision.staff_id) == bool(decision.partner_id):
        raise WorkflowError(
            "Назовите исполнителя: сотрудника Учреждения или партнёра.", field="executor"
        )
    return session.get_one(Case, decision.case_id), what


def decide(
    session: Session,
    actor: User | None,
    meeting_id: int | None,
    decision: Decision,
    *,
    today: dt.date,
) -> CouncilDecision:
    """A decision of the meeting: a task for a staff member or a referral to a partner."""
    meeting = _locked(session, actor, meeting_id)
    case, what = _checked(session, meeting, decision)
    assert decision.due_on is not None  # _checked refuses its absence
    title = f"Решение совета от {meeting.held_on:%d.%m.%Y}: {what}"
    row = CouncilDecision(meeting_id=meeting.id, case_id=case.id, what=what, due_on=decision.due_on)
    if decision.staff_id:
        staff = session.get(Staff, decision.staff_id)
        if staff is None:
            raise WorkflowError("Выберите сотрудника из списка.", field="staff")
        refuse_for_new_work(staff, "staff")
        task = create_task(
            session,
            family_id=case.family_id,
            case_id=case.id,
            title=title,
            role=staff.role,
            due_date=decision.due_on,
            today=today,
            assignee=staff,
            actor=actor,
        )
        row.executor, row.staff_id, row.task_id = "staff", staff.id, task.id
    else:
        referral = prepare_referral(
            session,
            actor,
            case.id,
            partner_id=decision.partner_id,
            contact_id=decision.contact_id,
            service_id=decision.service_id,
            reason_kind=decision.reason_kind,
            reason=title,
            today=today,
        )
        row.executor, row.partner_id = "partner", referral.partner_id
        row.contact_id, row.referral_id = referral.contact_id, referral.id
    session.add(row)
    session.flush()
    if row.staff_id is not None:
        notify_staff(
            session,
            row.staff_id,
            "council_decision",
            f"Решение совета от {meeting.held_on:%d.%m.%Y} (случай № {case.id}): {what}, "
            f"срок {decision.due_on:%d.%m.%Y}",
            f"council_decision:{row.id}",
            meeting_id=meeting.id,
        )
    return row


# --- what the pages read -------------------------------------------------------------------


@dataclass
class MeetingPage:
    meeting: CouncilMeeting
    agenda: list[CouncilAgendaItem]
    decisions: list[CouncilDecision]
    hidden_cases: int  # agenda cases the reader may not see
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def done_words(self) -> str:
        total = len(self.decisions)
        return (
            f"{plural(total, 'решение', 'решения', 'решений')}, "
            f"исполнено {self.counts.get('done', 0)}"
        )


def meeting_page(session: Session, user: User, meeting: CouncilMeeting) -> MeetingPage:
    """The meeting as `user` may read it: the agenda and decisions of cases they see."""
    visible = where_visible(Case, user)
    items = session.scalars(
        select(CouncilAgendaItem)
        .options(joinedload(CouncilAgendaItem.case).joinedload(Case.family))
        .where(CouncilAgendaItem.meeting_id == meeting.id)
        .order_by(CouncilAgendaItem.id)
    ).all()
    seen = set(
        session.scalars(
            select(Case.id).where(Case.id.in_([i.case_id for i in items]), visible)
        ).all()
    )
    decisions = session.scalars(
        select(CouncilDecision)
        .options(
            joinedload(CouncilDecision.staff),
            joinedload(CouncilDecision.partner),
            joinedload(CouncilDecision.contact),
            joinedload(CouncilDecision.task),
            joinedload(CouncilDecision.referral),
        )
        .where(CouncilDecision.meeting_id == meeting.id, CouncilDecision.case_id.in_(seen))
        .order_by(CouncilDecision.id)
    ).all()
    counts = {code: 0 for code in DECISION_STATE.codes}
    for decision in decisions:
        counts[decision.state] += 1
    return MeetingPage(
        meeting=meeting,
        agenda=[i for i in items if i.case_id in seen],
        decisions=list(decisions),
        hidden_cases=len(items) - len(seen),
        counts=counts,
    )


def meetings_list(session: Session, user: User, limit: int = 200) -> list[tuple[Any, ...]]:
    """(meeting, agenda cases, decisions, carried out) of the meetings `user` may see."""
    agenda = (
        select(func.count())
        .where(CouncilAgendaItem.meeting_id == CouncilMeeting.id)
        .scalar_subquery()
    )
    total = (
        select(func.count())
        .where(CouncilDecision.meeting_id == CouncilMeeting.id)
        .scalar_subquery()
    )
    done = (
        select(func.count())
        .select_from(CouncilDecision)
        .where(CouncilDecision.meeting_id == CouncilMeeting.id, carried_out())
        .scalar_subquery()
    )
    rows = session.execute(
        select(CouncilMeeting, agenda, total, done)
        .options(joinedload(CouncilMeeting.district))
        .where(CouncilMeeting.archived_at.is_(None), where_visible(CouncilMeeting, user))
        .order_by(CouncilMeeting.held_on.desc(), CouncilMeeting.id.desc())
        .limit(limit)
    ).all()
    return [tuple(row) for row in rows]


def carried_out() -> ColumnElement[bool]:
    """A decision carried out: its task done, or its referral fulfilled."""
    return or_(
        exists().where(Task.id == CouncilDecision.task_id, Task.status == "done"),
        exists().where(
            Referral.id == CouncilDecision.referral_id,
            Referral.status == "fulfilled",
            Referral.archived_at.is_(None),
        ),
    )


def recordable_cases(session: Session, user: User, meeting: CouncilMeeting) -> list[Case]:
    """The cases the recorder may put on the agenda: live cases of the district they see."""
    return list(
        session.scalars(
            select(Case)
            .options(joinedload(Case.family))
            .join(Family, Family.id == Case.family_id)
            .where(
                Family.district_id == meeting.district_id,
                Case.archived_at.is_(None),
                Case.status != "closed",
                where_visible(Case, user),
                ~Case.id.in_(
                    select(CouncilAgendaItem.case_id).where(
                        CouncilAgendaItem.meeting_id == meeting.id
                    )
                ),
            )
            .order_by(Family.surname, Case.id)
            .limit(500)
        )
    )


# --- the pilot report's figures ------------------------------------------------------------


def council_figures(
    session: Session,
    meetings_where: ColumnElement[bool],
    date_from: dt.date,
    date_to: dt.date,
    district_id: int | None,
) -> list[list[Any]]:
    """«Заседания координационного совета» of a period: meetings, agenda cases,
    decisions, decisions carried out (as of now) — rows of the pilot report."""
    period = and_(
        CouncilMeeting.held_on >= date_from,
        CouncilMeeting.held_on <= date_to,
        CouncilMeeting.archived_at.is_(None),
        meetings_where,
        true() if district_id is None else CouncilMeeting.district_id == district_id,
    )
    meetings = select(CouncilMeeting.id).where(period)
    count = session.scalar(select(func.count()).select_from(CouncilMeeting).where(period)) or 0
    cases = session.scalar(select(func.count()).where(CouncilAgendaItem.meeting_id.in_(meetings)))
    decided = session.execute(
        select(
            func.count(),
            func.sum(case((carried_out(), 1), else_=0)),
            func.sum(case((CouncilDecision.executor == "staff", 1), else_=0)),
        ).where(CouncilDecision.meeting_id.in_(meetings))
    ).one()
    total, done, tasks = (int(v or 0) for v in decided)
    return [
        ["Заседаний проведено", count],
        ["Случаев рассмотрено", int(cases or 0)],
        ["Решений принято", total],
        ["из них поручений сотрудникам (задачи)", tasks],
        ["из них направлений партнёрам", total - tasks],
        ["Решений исполнено", done],
    ]


# --- the agreements ledger («пакет к продлению») -------------------------------------------


@dataclass
class Ledger:
    agreement: PartnerAgreement
    referrals: list[Referral]
    decisions: list[CouncilDecision]
    answered_days: list[int]

    @property
    def median_answer_days(self) -> float | None:
        days = sorted(self.answered_days)
        if not days:
            return None
        middle = len(days) // 2
        return float(days[middle]) if len(days) % 2 else (days[middle - 1] + days[middle]) / 2

    @property
    def decisions_done(self) -> int:
        return sum(1 for d in self.decisions if d.state == "done")


def answer_days(referral: Referral) -> int | None:
    """Days from sending to the partner's first answer (acceptance or refusal)."""
    answered = referral.accepted_on or referral.answered_on
    if referral.sent_on is None or answered is None:
        return None
    return (answered - referral.sent_on).days


def agreement_ledger(session: Session, user: User, agreement: PartnerAgreement) -> Ledger:
    """The referrals to the agreement's partner while it was in force (as `user` may see
    them) and the council decisions that concerned the partner, with their outcome."""
    in_force = [Referral.prepared_on >= agreement.valid_from]
    if agreement.valid_to is not None:
        in_force.append(Referral.prepared_on <= agreement.valid_to)
    referrals = list(
        session.scalars(
            select(Referral)
            .options(joinedload(Referral.contact), joinedload(Referral.service))
            .where(
                Referral.partner_id == agreement.partner_id,
                Referral.archived_at.is_(None),
                where_visible(Referral, user),
                *in_force,
            )
            .order_by(Referral.prepared_on, Referral.id)
        )
    )
    held = [CouncilMeeting.held_on >= agreement.valid_from]
    if agreement.valid_to is not None:
        held.append(CouncilMeeting.held_on <= agreement.valid_to)
    decisions = list(
        session.scalars(
            select(CouncilDecision)
            .join(CouncilMeeting, CouncilMeeting.id == CouncilDecision.meeting_id)
            .options(
                selectinload(CouncilDecision.meeting),
                joinedload(CouncilDecision.referral),
                joinedload(CouncilDecision.contact),
            )
            .where(
                CouncilDecision.partner_id == agreement.partner_id,
                CouncilMeeting.archived_at.is_(None),
                CouncilDecision.case_id.in_(select(Case.id).where(where_visible(Case, user))),
                *held,
            )
            .order_by(CouncilMeeting.held_on, CouncilDecision.id)
        )
    )
    days = [d for d in (answer_days(r) for r in referrals) if d is not None]
    return Ledger(agreement, referrals, decisions, days)
