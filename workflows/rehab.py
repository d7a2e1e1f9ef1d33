"""The child's ИПРА at work: what it proposes, what the worker confirms, what the tick does.

From an ИПРА the district worker (or the coordinator) is shown proposals: an ИПСС
activity for each recommended measure (its kind → a service of the catalogue and the
role that carries it out) and a rental queue place for each ТСР the Social Fund does not
provide, where the rental point has its type. Nothing is made silently: each proposal is
made by `confirm_measure` / `confirm_tsr` when the worker clicks, once (the measure and
the ТСР row keep what was made; the database holds one activity and one queue place per
row). A refusal is a Russian `WorkflowError`; the audit hook records each change.

The tick gives the lead worker a task IPRA_NOTICE_DAYS before an ИПРА ends and before a
child's МСЭ re-examination date (`Person.disability_review_date`), once per date
(`Task.source_key`), and tells the family the same through `notify` (its channel, its
consent, the quiet hours) with the date and a phone only — nothing of health.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, contains_eager

from models import (
    Case,
    EquipmentType,
    Family,
    Message,
    Person,
    PlanActivity,
    RehabMeasure,
    RehabProgramme,
    RehabTsr,
    Reservation,
    Service,
    Staff,
    SupportPlan,
    Task,
    User,
)
from models.live import active_for_new_work
from models.rehab import REHAB_MEASURE_KIND
from models.roles import reads_health
from models.terms import IPRA_NOTICE_DAYS

from .errors import WorkflowError
from .notify import About, notify
from .plans import ActivityDraft, save_plan
from .rental import active_case, enqueue
from .scope import where_visible
from .tasks import create_task

# A measure's kind → (the service kinds that carry it out, best first; words of the
# service's name that fit it best, best first).
MEASURE_SERVICES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "medical": (("medical",), ("реабилитац",)),
    "psych_ped": (("psychological", "pedagogical"), ("ребёнку", "коррекц")),
    "social": (("social", "cultural"), ("социокультурная реабилитация", "адаптац", "патронаж")),
}
# Who carries out a service of each kind.
SERVICE_ROLE = {
    "medical": "nurse",
    "psychological": "psychologist",
    "pedagogical": "social_pedagogue",
    "social": "district_worker",
    "cultural": "social_pedagogue",
    "legal": "lawyer",
}
# A proposed activity is planned this many days ahead (within the case's term).
PROPOSAL_LEAD_DAYS = 7
NOT_FOUND = "ИПРА не найдена."
# The priority a queue place from an ИПРА takes: the usual one; the clerk may reorder.
QUEUE_PRIORITY = "3"


# --- reading ----------------------------------------------------------------------------


def visible_programme(session: Session, user: User, programme_id: int) -> RehabProgramme | None:
    """The ИПРА if `user` may see it (a role reading health, the family in scope)."""
    return session.scalar(
        select(RehabProgramme).where(
            RehabProgramme.id == programme_id, where_visible(RehabProgramme, user)
        )
    )


def _plan_day(case: Case, today: dt.date) -> dt.date:
    day = max(today, case.start_date or today) + dt.timedelta(days=PROPOSAL_LEAD_DAYS)
    if case.planned_end_date is not None:
        day = min(day, case.planned_end_date)
    return day


def service_for(session: Session, kind: str) -> Service | None:
    """The catalogue's service for a measure of `kind`: a live one whose name fits best,
    of the best kind (else the first of the best kind)."""
    kinds, words = MEASURE_SERVICES.get(kind, ((), ()))
    services = session.scalars(
        select(Service)
        .where(active_for_new_work(Service), Service.kind.in_(kinds))
        .order_by(Service.name)
    ).all()

    def fit(service: Service) -> tuple[int, int]:
        name = service.name.lower()
        word = next((n for n, w in enumerate(words) if w in name), len(words))
        return word, kinds.index(service.kind)

    return min(services, key=fit, default=None)


@dataclass(frozen=True)
class MeasureProposal:
    measure: RehabMeasure
    kind_label: str
    # Made already: the ИПСС activity; else what would be made, or why nothing is.
    activity: PlanActivity | None = None
    service: Service | None = None
    role: str | None = None
    planned_date: dt.date | None = None
    why_not: str | None = None

    @property
    def can_confirm(self) -> bool:
        return self.activity is None and self.why_not is None


@dataclass(frozen=True)
class TsrProposal:
    item: RehabTsr
    reservation: Reservation | None = None
    why_not: str | None = None

    @property
    def can_confirm(self) -> bool:
        return self.reservation is None and self.why_not is None


def _case_problem(case: Case | None) -> str | None:
    if case is None:
        return "У семьи нет открытого случая сопровождения: ИПСС составляется по случаю."
    if case.status != "active":
        return "ИПСС составляется, когда случай на сопровождении (после договора)."
    return None


def measure_proposals(
    session: Session, programme: RehabProgramme, today: dt.date
) -> list[MeasureProposal]:
    """Each live measure of the ИПРА: its activity if confirmed, else the proposal."""
    case = active_case(session, programme.child.family_id)
    case_problem = _case_problem(case)
    rows = []
    for measure in programme.measures:
        if measure.archived_at is not None:
            continue
        label = REHAB_MEASURE_KIND.label(measure.kind)
        if measure.activity is not None:
            rows.append(MeasureProposal(measure, label, activity=measure.activity))
            continue
        rows.append(_proposal(session, measure, label, case, case_problem, today))
    return rows


def _proposal(
    session: Session,
    measure: RehabMeasure,
    label: str,
    case: Case | None,
    case_problem: str | None,
    today: dt.date,
) -> MeasureProposal:
    if measure.kind not in MEASURE_SERVICES:
        why = "ТСР по ИПРА — ниже, в очередь пункта проката."
        return MeasureProposal(measure, label, why_not=why)
    if case_problem is not None or case is None:
        return MeasureProposal(measure, label, why_not=case_problem)
    service = service_for(session, measure.kind)
    if service is None:
        why = "В перечне услуг нет подходящей услуги: её добавляет администратор."
        return MeasureProposal(measure, label, why_not=why)
    day = _plan_day(case, today)
    if case.planned_end_date is not None and day < today:
        why = "Срок сопровождения уже прошёл: мероприятие в ИПСС не поставить."
        return MeasureProposal(measure, label, why_not=why)
    role = SERVICE_ROLE.get(service.kind, "district_worker")
    return MeasureProposal(measure, label, service=service, role=role, planned_date=day)


def _queued(session: Session, child_id: int, type_id: int) -> Reservation | None:
    return session.scalars(
        select(Reservation).where(
            Reservation.child_id == child_id,
            Reservation.type_id == type_id,
            Reservation.status.in_(("waiting", "offered")),
        )
    ).first()


def tsr_proposals(session: Session, programme: RehabProgramme) -> list[TsrProposal]:
    """Each live ТСР of the ИПРА: its queue place if confirmed, else the proposal or why
    there is none (the Fund provides it, the point has no such type, already queued)."""
    rows = []
    for item in programme.tsr_items:
        if item.archived_at is not None:
            continue
        if item.reservation is not None:
            rows.append(TsrProposal(item, reservation=item.reservation))
        else:
            rows.append(TsrProposal(item, why_not=_tsr_problem(session, programme, item)))
    return rows


def _tsr_problem(session: Session, programme: RehabProgramme, item: RehabTsr) -> str | None:
    if item.by_fund:
        return "Обеспечивает Социальный фонд: пункт проката не нужен."
    kind = item.equipment_type
    if kind is None:
        return "Вид ТСР пункта проката не указан: в пункте проката такого нет."
    if kind.archived_at is not None:
        return f"Вид ТСР «{kind}» в архиве: в очередь на него не ставят."
    queued = _queued(session, programme.child_id, kind.id)
    if queued is not None:
        return f"Ребёнок уже в очереди на «{kind}» (заявка № {queued.id})."
    return None


# --- confirming -------------------------------------------------------------------------


def _locked(session: Session, actor: User, model: Any, row_id: int) -> Any:
    if not reads_health(actor.role):
        raise WorkflowError(NOT_FOUND)
    row = session.scalar(
        select(model)
        .where(model.id == row_id, where_visible(model, actor))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.archived_at is not None or row.programme.archived_at is not None:
        raise WorkflowError("Этой строки ИПРА нет или она в архиве.")
    return row


def confirm_measure(session: Session, actor: User, measure_id: int, today: dt.date) -> PlanActivity:
    """Put the proposed ИПСС activity for the ИПРА's measure into the case's plan (a new
    revision; a task at once if the plan is approved); the measure keeps it."""
    measure: RehabMeasure = _locked(session, actor, RehabMeasure, measure_id)
    if measure.activity_id is not None:
        raise WorkflowError(f"Уже в ИПСС: {measure.activity}.")
    case = active_case(session, measure.programme.child.family_id)
    proposal = _proposal(
        session,
        measure,
        REHAB_MEASURE_KIND.label(measure.kind),
        case,
        _case_problem(case),
        today,
    )
    if not proposal.can_confirm or case is None:
        raise WorkflowError(proposal.why_not or "Это мероприятие не предлагается.")
    assert proposal.service is not None and proposal.role is not None  # a proposal has them
    plan = session.scalar(select(SupportPlan).where(SupportPlan.case_id == case.id))
    if plan is None:  # a first draft, its goal still to be written in the ИПСС editor
        plan = SupportPlan(case_id=case.id, status="draft", goal=None)
        session.add(plan)
        session.flush()
    goal = plan.goal
    draft = ActivityDraft(None, proposal.service.id, proposal.role, proposal.planned_date)
    save_plan(session, case.id, actor, goal or "", [draft], today)
    activity = session.scalars(
        select(PlanActivity)
        .join(SupportPlan, SupportPlan.id == PlanActivity.plan_id)
        .where(SupportPlan.case_id == case.id)
        .order_by(PlanActivity.id.desc())
        .limit(1)
    ).one()
    measure.activity_id = activity.id
    session.flush()
    return activity


def confirm_tsr(session: Session, actor: User, tsr_id: int, today: dt.date) -> Reservation:
    """Put the child in the rental point's queue for the ИПРА's ТСР (one the Social Fund
    does not provide); the ТСР row keeps the queue place."""
    item: RehabTsr = _locked(session, actor, RehabTsr, tsr_id)
    if item.reservation_id is not None:
        raise WorkflowError(f"Уже в очереди: заявка № {item.reservation_id}.")
    problem = _tsr_problem(session, item.programme, item)
    if problem is not None:
        raise WorkflowError(problem)
    kind = session.get_one(EquipmentType, item.equipment_type_id)
    reservation = enqueue(
        session,
        item.programme.child,
        kind,
        QUEUE_PRIORITY,
        today,
        actor,
        today,
        notes=f"По ИПРА № {item.programme.number}",
    )
    item.reservation_id = reservation.id
    session.flush()
    return reservation


# --- the case page ----------------------------------------------------------------------


def latest_programmes(session: Session, family_id: int) -> list[RehabProgramme]:
    """The newest live ИПРА of each child of the family (the caller checks the right)."""
    rows = session.scalars(
        select(RehabProgramme)
        .join(Person, Person.id == RehabProgramme.child_id)
        .where(Person.family_id == family_id, RehabProgramme.archived_at.is_(None))
        .order_by(RehabProgramme.child_id, RehabProgramme.valid_until.desc())
        # The callers name each child: from this join, not a query per programme.
        .options(contains_eager(RehabProgramme.child))
    ).all()
    newest: dict[int, RehabProgramme] = {}
    for row in rows:
        newest.setdefault(row.child_id, row)
    return list(newest.values())


def case_outlasts_ipra(session: Session, case: Case) -> list[str]:
    """Calm warnings: the case's planned end falls after a child's ИПРА expires."""
    end = case.planned_end_date
    if end is None or case.status == "closed":
        return []
    return [
        f"Плановое окончание сопровождения ({end:%d.%m.%Y}) позже окончания срока "
        f"ИПРА ребёнка {p.child.full_name} ({p.valid_until:%d.%m.%Y}). Стоит заранее "
        "помочь семье пройти переосвидетельствование и получить новую ИПРА."
        for p in latest_programmes(session, case.family_id)
        if p.valid_until < end
    ]


# --- the tick ---------------------------------------------------------------------------


def _ending_programmes(session: Session, today: dt.date) -> list[RehabProgramme]:
    """Live ИПРА ending within IPRA_NOTICE_DAYS, of a live child, not already followed
    by a newer ИПРА of the same child."""
    newer = aliased(RehabProgramme)
    horizon = today + dt.timedelta(days=IPRA_NOTICE_DAYS)
    return list(
        session.scalars(
            select(RehabProgramme)
            .join(Person, Person.id == RehabProgramme.child_id)
            .where(
                RehabProgramme.archived_at.is_(None),
                RehabProgramme.valid_until >= today,
                RehabProgramme.valid_until <= horizon,
                active_for_new_work(Person),
                ~exists().where(
                    newer.child_id == RehabProgramme.child_id,
                    newer.archived_at.is_(None),
                    newer.valid_until > RehabProgramme.valid_until,
                ),
            )
            .order_by(RehabProgramme.valid_until, RehabProgramme.id)
        )
    )


def _reviews_ahead(session: Session, today: dt.date) -> list[Person]:
    """Live children whose МСЭ re-examination date is within IPRA_NOTICE_DAYS — unless
    their ИПРА ends that very day (its own task and message say it already)."""
    horizon = today + dt.timedelta(days=IPRA_NOTICE_DAYS)
    return list(
        session.scalars(
            active_for_new_work(select(Person))
            .where(
                Person.relation == "child",
                Person.disability_review_date >= today,
                Person.disability_review_date <= horizon,
                ~exists().where(
                    RehabProgramme.child_id == Person.id,
                    RehabProgramme.archived_at.is_(None),
                    RehabProgramme.valid_until == Person.disability_review_date,
                ),
            )
            .order_by(Person.disability_review_date, Person.id)
        )
    )


def ipra_task_key(programme: RehabProgramme) -> str:
    return f"ipra:{programme.id}:{programme.valid_until.isoformat()}"


def mse_task_key(child: Person) -> str:
    assert child.disability_review_date is not None  # the query asks for it
    return f"mse:{child.id}:{child.disability_review_date.isoformat()}"


def _worker(session: Session, family: Family) -> tuple[Case | None, Staff | None]:
    """The family's active case and who leads it (else the district's worker)."""
    case = active_case(session, family.id)
    lead = case.lead_worker if case is not None else None
    return case, lead or family.district.responsible_worker


def _task_once(
    session: Session, family: Family, key: str, title: str, due: dt.date, today: dt.date
) -> bool:
    if session.scalar(select(exists().where(Task.source_key == key))):
        return False
    case, worker = _worker(session, family)
    try:
        with session.begin_nested():
            create_task(
                session,
                family_id=family.id,
                case_id=case.id if case is not None else None,
                title=title,
                role="district_worker",
                due_date=due,
                today=today,
                source_key=key,
                prefer=worker,
            )
    except IntegrityError:
        return False  # another server made this task a moment ago
    return True


def _due(day: dt.date, today: dt.date) -> dt.date:
    return max(today, day - dt.timedelta(days=7))


def task_ipra_ending(session: Session, today: dt.date) -> int:
    """A task for the lead worker IPRA_NOTICE_DAYS before an ИПРА ends (once per end
    date). Idempotent; returns how many tasks were made."""
    made = 0
    for programme in _ending_programmes(session, today):
        title = (
            f"Срок ИПРА № {programme.number} истекает {programme.valid_until:%d.%m.%Y}: "
            "помочь семье подготовиться к переосвидетельствованию"
        )
        made += _task_once(
            session,
            programme.child.family,
            ipra_task_key(programme),
            title,
            _due(programme.valid_until, today),
            today,
        )
    return made


def task_mse_reviews(session: Session, today: dt.date) -> int:
    """A task for the lead worker IPRA_NOTICE_DAYS before a child's МСЭ re-examination
    date (once per date). Idempotent; returns how many tasks were made."""
    made = 0
    for child in _reviews_ahead(session, today):
        assert child.disability_review_date is not None  # the query asks for it
        title = (
            f"Срок переосвидетельствования (МСЭ) {child.disability_review_date:%d.%m.%Y}: "
            "помочь семье подготовить документы"
        )
        made += _task_once(
            session,
            child.family,
            mse_task_key(child),
            title,
            _due(child.disability_review_date, today),
            today,
        )
    return made


def _values(session: Session, family: Family, day: dt.date) -> dict[str, str]:
    _case, worker = _worker(session, family)
    phone = (worker.phone or "").strip() if worker is not None else ""
    return {"дата": f"{day:%d.%m.%Y}", "телефон": f"по тел. {phone}" if phone else "в КЦСОН"}


def remind_ipra_ending(session: Session, today: dt.date) -> int:
    """The family is told IPRA_NOTICE_DAYS ahead that the ИПРА ends (once per end date,
    by its channel, with its consent). Returns how many messages were made."""
    made = 0
    for programme in _ending_programmes(session, today):
        family = programme.child.family
        about = About("ipra_end", programme.id, programme.valid_until)
        before = session.scalar(select(exists().where(*_message_of(about, family))))
        if before:
            continue
        values = _values(session, family, programme.valid_until)
        made += notify(session, about, family, values, today) is not None
    return made


def remind_mse_reviews(session: Session, today: dt.date) -> int:
    """The family is told IPRA_NOTICE_DAYS ahead of the child's МСЭ re-examination date
    (once per date, by its channel, with its consent). Returns how many were made."""
    made = 0
    for child in _reviews_ahead(session, today):
        assert child.disability_review_date is not None  # the query asks for it
        about = About("mse_review", child.id, child.disability_review_date)
        if session.scalar(select(exists().where(*_message_of(about, child.family)))):
            continue
        values = _values(session, child.family, child.disability_review_date)
        made += notify(session, about, child.family, values, today) is not None
    return made


def _message_of(about: About, family: Family) -> tuple[ColumnElement[bool], ...]:
    return (
        Message.event_kind == about.kind,
        Message.event_id == about.id,
        Message.event_on == about.on,
        Message.family_id == family.id,
    )
