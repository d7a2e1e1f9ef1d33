"""Row scope: which families and cases a user may see.

One scope function per role family; every path that lets a row reach a user
(lists, counts, details, edit, delete, pickers, exports, reports, workflows)
asks `where_visible(model, user)`. A row out of scope behaves as if it did not exist.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    SQLColumnExpression,
    and_,
    exists,
    false,
    or_,
    select,
    true,
)

from models import (
    Appointment,
    Assessment,
    Case,
    Consent,
    CouncilDecision,
    CouncilMeeting,
    Document,
    EventAttendance,
    Family,
    IncomingReferral,
    Loan,
    Message,
    Person,
    PlanActivity,
    PlanRevision,
    ProgrammeEnrolment,
    Referral,
    RehabMeasure,
    RehabProgramme,
    RehabTsr,
    Reservation,
    Review,
    SocialRaid,
    Staff,
    SupportPlan,
    Task,
    TaskAssignment,
    User,
    Visit,
)
from models.channels import social_raid_staff
from models.documents import HEALTH_DOCUMENT_TYPES
from models.reference import staff_district
from models.roles import reads_health, sees_all, works_cases

# The ids a user may see, as a subquery: one SELECT or a UNION of them.
IdQuery: TypeAlias = Select[Any] | CompoundSelect[Any]


def _district_families(staff_id: int) -> Select[Any]:
    districts = select(staff_district.c.district_id).where(staff_district.c.staff_id == staff_id)
    return select(Family.id).where(Family.district_id.in_(districts))


def _specialist_cases(staff_id: int) -> IdQuery:
    tasked = select(Task.case_id).where(Task.assignee_id == staff_id, Task.case_id.is_not(None))
    planned = (
        select(SupportPlan.case_id)
        .join(PlanActivity, PlanActivity.plan_id == SupportPlan.id)
        .where(PlanActivity.specialist_id == staff_id)
    )
    return tasked.union(planned)


def visible_cases(user: User) -> IdQuery | None:
    """Case ids the user may see; None means every case."""
    if sees_all(user.role):
        return None
    if not works_cases(user.role) or user.staff_id is None:
        return select(Case.id).where(false())
    if user.role == "district_worker":
        # Two index look-ups, not one OR that the planner can only answer by a scan.
        in_districts = select(Case.id).where(Case.family_id.in_(_district_families(user.staff_id)))
        led = select(Case.id).where(Case.lead_worker_id == user.staff_id)
        return in_districts.union_all(led)
    return select(Case.id).where(Case.id.in_(_specialist_cases(user.staff_id)))


def visible_families(user: User) -> IdQuery | None:
    """Family ids the user may see; None means every family."""
    if sees_all(user.role):
        return None
    if user.role == "rental_clerk":
        return select(Loan.family_id).union(select(Reservation.family_id))
    if user.staff_id is None:
        return select(Family.id).where(false())
    own_tasks = select(Task.family_id).where(Task.assignee_id == user.staff_id)
    if user.role == "district_worker":
        # The families of the worker's visible cases are the district's own (already
        # in) and those of the cases they lead: said directly, the planner sees a
        # few hundred ids instead of a guess over every case.
        led = select(Case.family_id).where(Case.lead_worker_id == user.staff_id)
        return _district_families(user.staff_id).union(led, own_tasks)
    of_cases = select(Case.family_id).where(_in(Case.id, visible_cases(user)))
    return of_cases.union(own_tasks)


def _in(column: SQLColumnExpression[Any], ids: IdQuery | None) -> ColumnElement[bool]:
    return true() if ids is None else column.in_(ids)


def where_visible(model: type, user: User) -> ColumnElement[bool]:
    """The WHERE clause that limits `model` to the rows `user` may see."""
    if model is Document:  # before «sees all»: the administrator reads no health data
        return _visible_documents(user)
    if model in REHAB:  # the ИПРА is health data: the administrator does not read it either
        return _visible_rehab(model, user)
    if sees_all(user.role):
        return true()
    if user.role == "rental_clerk" and model in (Family, *FAMILY_BOUND):
        return _clerk_rows(model)
    if model is Family:
        return _in(Family.id, visible_families(user))
    if model in FAMILY_BOUND:
        return _in(model.family_id, visible_families(user))
    if model is Message:
        return or_(Message.user_id == user.id, _in(Message.family_id, visible_families(user)))
    if model is Appointment:
        mine = Appointment.specialist_id == user.staff_id if user.staff_id else false()
        return or_(mine, _in(Appointment.family_id, visible_families(user)))
    if model in CASE_BOUND:
        return _case_rows(model, user)
    if model is CouncilMeeting:
        return _visible_meetings(user)
    if model in (IncomingReferral, SocialRaid):
        return _channel_rows(model, user)
    # Reference data and equipment carry no personal data: no row scope.
    return true()


# The tables whose rows are seen through their family.
FAMILY_BOUND = (Person, Consent, ProgrammeEnrolment, Loan, Reservation, EventAttendance)


def _clerk_rows(model: type) -> ColumnElement[bool]:
    """The rows of `model` (a family or a table of FAMILY_BOUND) of the rental clerk's
    families, those with a loan or a queue place: every loan and place is of one of them
    (no condition); another row's family is looked up in the two tables by their family
    indexes, not in the list of all such families built for every query (`visible_families`:
    47,000 of them at 1,000,000 families)."""
    if model in (Loan, Reservation):
        return true()
    family_id = model.family_id if model in FAMILY_BOUND else Family.id
    return or_(
        exists().where(Loan.family_id == family_id),
        exists().where(Reservation.family_id == family_id),
    )


# The tables whose rows are seen through the case they belong to.
CASE_BOUND = (
    Case,
    Assessment,
    Visit,
    Review,
    SupportPlan,
    Referral,
    PlanActivity,
    PlanRevision,
    Task,
    TaskAssignment,
)


def _case_rows(model: type, user: User) -> ColumnElement[bool]:
    """The rows of a case-bound table that `user` (not one who sees all) may see."""
    cases = visible_cases(user)
    if model is Case:
        return _in(Case.id, cases)
    if model in (Assessment, Visit, Review, SupportPlan, Referral):
        return _in(model.case_id, cases)
    if model in (PlanActivity, PlanRevision):
        return model.plan_id.in_(select(SupportPlan.id).where(_in(SupportPlan.case_id, cases)))
    if model is Task:
        mine = Task.assignee_id == user.staff_id if user.staff_id else false()
        return or_(mine, _in(Task.case_id, cases))
    return TaskAssignment.task_id.in_(select(Task.id).where(_case_rows(Task, user)))


# The child's ИПРА and its rows: health data, seen through the child's family.
REHAB = (RehabProgramme, RehabMeasure, RehabTsr)


def _visible_rehab(model: type, user: User) -> ColumnElement[bool]:
    """An ИПРА (its measures, its ТСР) only for a role that reads health, and of a child
    whose family the user may see."""
    if not reads_health(user.role):
        return false()
    if sees_all(user.role):
        return true()
    children = select(Person.id).where(_in(Person.family_id, visible_families(user)))
    programmes = select(RehabProgramme.id).where(RehabProgramme.child_id.in_(children))
    if model is RehabProgramme:
        return RehabProgramme.id.in_(programmes)
    if model is RehabMeasure:
        return RehabMeasure.programme_id.in_(programmes)
    return RehabTsr.programme_id.in_(programmes)


def _visible_meetings(user: User) -> ColumnElement[bool]:
    """A council meeting is seen by the district workers of its district and by the staff
    it names (a participant, the one a decision is for); its agenda cases and decisions
    only as far as the cases are seen."""
    if user.staff_id is None:
        return false()
    mine = or_(
        CouncilMeeting.id.in_(
            select(CouncilDecision.meeting_id).where(CouncilDecision.staff_id == user.staff_id)
        ),
        CouncilMeeting.staff.any(Staff.id == user.staff_id),
    )
    if user.role == "district_worker":
        districts = select(staff_district.c.district_id).where(
            staff_district.c.staff_id == user.staff_id
        )
        return or_(CouncilMeeting.district_id.in_(districts), mine)
    return mine


def _own_districts(staff_id: int) -> Select[Any]:
    return select(staff_district.c.district_id).where(staff_district.c.staff_id == staff_id)


def _channel_rows(model: type, user: User) -> ColumnElement[bool]:
    """Incoming referrals and raids follow the family's district: a district worker sees
    those of their districts (and a referral of a family they see); another specialist a
    referral of a family they see and a raid they were on; nobody else any."""
    if user.staff_id is None or not works_cases(user.role):
        return false()
    district_worker = user.role == "district_worker"
    if model is SocialRaid:
        team = SocialRaid.id.in_(
            select(social_raid_staff.c.raid_id).where(social_raid_staff.c.staff_id == user.staff_id)
        )
        if district_worker:
            return or_(SocialRaid.district_id.in_(_own_districts(user.staff_id)), team)
        return team
    of_families = _in(IncomingReferral.family_id, visible_families(user))
    if district_worker:
        return or_(IncomingReferral.district_id.in_(_own_districts(user.staff_id)), of_families)
    return of_families


def _visible_documents(user: User) -> ColumnElement[bool]:
    """A document is seen where the family, member or case it is attached to is, and an
    МСЭ certificate or an ИПРА (health data) only by a role that reads health."""
    health = true() if reads_health(user.role) else Document.doc_type.not_in(HEALTH_DOCUMENT_TYPES)
    if sees_all(user.role):
        return health
    families = visible_families(user)
    members = select(Person.id).where(_in(Person.family_id, families))
    place = or_(
        Document.family_id.in_(select(Family.id).where(_in(Family.id, families))),
        Document.person_id.in_(members),
        Document.case_id.in_(select(Case.id).where(_in(Case.id, visible_cases(user)))),
    )
    return and_(place, health)
