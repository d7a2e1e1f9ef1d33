"""Does `flask seed` load the reference data once, and `seed --demo` a consistent demo?

The demo is built through the workflows (months of work replayed), so it is loaded
once and every check of it runs as a subtest of `test_the_demo`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from models import (
    Appointment,
    Case,
    Consent,
    Department,
    District,
    EquipmentType,
    EquipmentUnit,
    Event,
    EventAttendance,
    Loan,
    LoanExtension,
    PartnerAgreement,
    Person,
    Programme,
    ProjectMeasure,
    Referral,
    RentalEvent,
    Reservation,
    Service,
    Staff,
    SupportPlan,
    Task,
    TaskAssignment,
    User,
    db,
)
from models.cases import CASE_STATUS, CLOSURE_REASON, LIFE_DOMAIN, OPEN_TASK_STATUSES
from models.reference import AGREEMENT_STATUS, PARTNER_KIND, SERVICE_KIND, Partner
from models.snils import is_valid_snils, normalise_snils
from seed.demo import DEMO_PASSWORD, PROJECT_GRANT, PROJECT_TOTAL
from seed.reference import load_reference
from workflows.centre import working_hours
from workflows.dates import DEFAULT_TIMEZONE, add_months, centre_today
from workflows.reception import SUNDAY, is_slot
from workflows.tasks import eligible_staff

DEMO_ROLES = {
    "admin": "admin",
    "coordinator": "coordinator",
    "worker": "district_worker",
    "worker2": "district_worker",
    "psychologist": "psychologist",
    "pedagogue": "social_pedagogue",
    "social": "social_worker",
    "nurse": "nurse",
    "lawyer": "lawyer",
    "rental": "rental_clerk",
    "viewer": "viewer",
}


def row_counts() -> dict[str, int]:
    """Rows in every table of the schema."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def demo(app, runner, kept):
    """Run `flask seed --demo` once and hand back its output inside an app context;
    the demo is kept for the following demo tests while they only read."""

    def seed():
        result = runner.invoke(args=["seed", "--demo"])
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output

    output = kept("test_seed.demo", seed)
    with app.app_context():
        yield output
        db.session.rollback()


def test_reference_seeding_is_idempotent(app_ctx):
    """Does seeding the reference data twice add nothing the second time?"""
    first = load_reference()
    counts = row_counts()
    second = load_reference()
    assert all(first.values())
    assert set(second.values()) == {0}
    assert row_counts() == counts


def test_reference_data_comes_from_the_seeds(app_ctx):
    """Are the three departments, the catalogue, the programmes and the ТСР types there?"""
    load_reference()
    departments = dict(db.session.execute(select(Department.code, Department.name)).all())
    assert departments == {
        "ОССО": "отделение срочного социального обслуживания",
        "ОСОД": "отделение социального обслуживания на дому граждан пожилого возраста и инвалидов",
        "ОСОСД": "отделение социального обслуживания семьи и детей",
    }
    services = db.session.scalars(select(Service)).all()
    assert 15 <= len(services) <= 25
    assert {s.kind for s in services} == set(SERVICE_KIND.codes)
    assert any(s.guaranteed for s in services)
    programmes = set(db.session.scalars(select(Programme.name)))
    for word in ("визитирование", "библиотека", "телекоммуникационные", "Санаторий", "проката"):
        assert any(word.lower() in name.lower() for name in programmes), word
    types = db.session.scalars(select(EquipmentType)).all()
    assert any(t.name == "Вертикализатор" for t in types)
    assert all(90 <= t.loan_term_days <= 180 and t.max_extensions >= 0 for t in types)


def check_seed_demo_prints_the_password(demo):
    """Does `seed --demo` exit 0 and tell the operator the demo password?"""
    assert "Справочники" in demo
    assert DEMO_PASSWORD in demo


def check_demo_accounts_have_their_roles(demo):
    """Is there one demo account per role, linked to a staff member of that role?"""
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert {name: users[name].role for name in DEMO_ROLES} == DEMO_ROLES
    for user in users.values():
        assert user.active and user.staff is not None
        assert user.staff.role == user.role
    assert users["admin"].check_password(DEMO_PASSWORD)
    assert users["worker"].check_password(DEMO_PASSWORD)
    districts = db.session.scalars(select(District).order_by(District.name)).all()
    assert len(districts) == 4
    assert [d.name for d in users["worker"].staff.districts] == [districts[0].name]
    assert [d.name for d in users["worker2"].staff.districts] == [districts[1].name]
    assert len(users["psychologist"].staff.districts) == 4
    assert all(d.responsible_worker.role == "district_worker" for d in districts)
    assert all(d.head is not None for d in db.session.scalars(select(Department)))


def check_demo_has_cases_in_every_status(demo):
    """Is there a case in every status and of every closure reason, each within the rules?"""
    cases = db.session.scalars(select(Case)).all()
    assert {c.status for c in cases} == set(CASE_STATUS.codes)
    assert {c.closure_reason for c in cases if c.status == "closed"} == set(CLOSURE_REASON.codes)
    numbers = [c.contract_number for c in cases if c.contract_number]
    assert len(numbers) == len(set(numbers))
    for case in cases:
        family = case.family
        assert case.applicant in family.members and case.applicant.relation != "child"
        assert any(c.is_active(case.application_date) for c in family.consents)
        assert any(c.is_active(centre_today()) for c in family.consents)
        assert case.lead_worker is family.district.responsible_worker
        if case.start_date:
            assert case.planned_end_date <= add_months(case.start_date, 6)
        if case.status not in ("application", "assessment"):
            assert case.assessments and case.plan is not None and case.plan.activities


def check_demo_snils_are_valid(demo):
    """Is every SNILS in the demo valid, checksummed and unique, and do most people have one?"""
    people = db.session.scalars(select(Person)).all()
    numbers = [p.snils for p in people if p.snils]
    assert len(numbers) >= 0.8 * len(people)
    assert len(numbers) == len(set(numbers))
    for number in numbers:
        assert is_valid_snils(number), number
        assert int(normalise_snils(number)[:9]) > 1001998, number


def check_demo_families_look_real(demo):
    """Do families have parents and children, disabled children and consents as the brief says?"""
    people = db.session.scalars(select(Person)).all()
    children = [p for p in people if p.relation == "child"]
    disabled = [p for p in children if p.disability_status == "disabled"]
    assert len({p.family_id for p in people}) >= 70
    assert len(disabled) >= 0.15 * len(children)
    assert all(p.disability_group == "child" and p.disability_review_date for p in disabled)
    assert any(p.disability_status == "ovz" for p in children)
    consents = db.session.scalars(select(Consent)).all()
    assert any(c.withdrawn_on for c in consents)
    assert all(c.person.relation != "child" for c in consents)


def check_no_unit_has_two_open_loans(demo):
    """Does every unit on loan have exactly one open loan, and no other unit any?"""
    open_loans = dict(
        db.session.execute(
            select(Loan.unit_id, func.count())
            .where(Loan.returned_on.is_(None))
            .group_by(Loan.unit_id)
        ).all()
    )
    units = db.session.scalars(select(EquipmentUnit)).all()
    assert len(units) >= 35
    for unit in units:
        assert open_loans.get(unit.id, 0) == (1 if unit.status == "on_loan" else 0), unit
    today = centre_today()
    loans = db.session.scalars(select(Loan)).all()
    assert any(loan.is_overdue(today) for loan in loans)
    assert any(loan.returned_on for loan in loans)
    offered = db.session.scalars(select(Reservation).where(Reservation.status == "offered")).all()
    assert len(offered) == 1 and offered[0].offered_unit.status == "reserved"
    assert offered[0].offered_unit.type is offered[0].type


def check_demo_tasks_show_today_and_overdue_work(demo):
    """Are there tasks due today and overdue, some for the psychologist, each with its history?"""
    today = centre_today()
    psychologist = db.session.scalar(select(User).where(User.username == "psychologist")).staff
    tasks = db.session.scalars(select(Task)).all()
    open_tasks = [t for t in tasks if t.status in OPEN_TASK_STATUSES]
    assert any(t.due_date == today for t in open_tasks)
    assert any(t.due_date < today for t in open_tasks)
    mine = [t for t in open_tasks if t.assignee is psychologist]
    assert len(mine) >= 3
    assert any(t.due_date <= today for t in mine)
    for task in tasks:
        if task.assignee is not None:
            assert task.assignments, task
            assert task.assignments[-1].staff is task.assignee
    assert db.session.scalar(select(func.count()).select_from(TaskAssignment)) >= len(
        [t for t in tasks if t.assignee]
    )


def check_demo_partners_and_calendar(demo):
    """Are there partners of every kind, agreements near expiry, and receptions today and on Saturdays?"""
    today = centre_today()
    assert set(db.session.scalars(select(Partner.kind))) == set(PARTNER_KIND.codes)
    agreements = db.session.scalars(select(PartnerAgreement)).all()
    assert {a.status for a in agreements} == set(AGREEMENT_STATUS.codes)
    assert any(a.expires_soon(today) for a in agreements)
    assert any(a.status == "active" and a.valid_to and a.valid_to < today for a in agreements)
    appointments = db.session.scalars(select(Appointment)).all()
    # There is no reception on Sunday: then «today's» appointments are Monday's.
    reception_day = today if today.weekday() != SUNDAY else today + dt.timedelta(1)
    assert any(a.starts_at.date() == reception_day for a in appointments)
    assert any(a.starts_at.weekday() == 5 for a in appointments)
    assert {a.channel for a in appointments} == {"in_person", "phone"}
    assert db.session.scalar(select(func.count()).select_from(Staff)) >= len(DEMO_ROLES)


def check_demo_events_referrals_and_budget(demo):
    """Do the demo's events have their participants, its referrals their answers in
    believable proportions, and its budget the seed's sums (17.2 mln ₽, 9.5 mln the grant)?"""
    events = db.session.scalars(select(Event)).all()
    assert {e.kind for e in events} >= {"training", "info_campaign", "club", "holiday"}
    assert all(e.channel for e in events if e.kind == "info_campaign")
    trainings = [e for e in events if e.kind == "training"]
    assert trainings and all(e.staff and e.volunteers for e in trainings)
    attendances = db.session.scalars(select(EventAttendance)).all()
    assert attendances and all(a.children for a in attendances)
    assert all(c.family_id == a.family_id and c.relation == "child" for a in attendances
               for c in a.children)  # fmt: skip
    statuses = [r.status for r in db.session.scalars(select(Referral))]
    answered = sum(s in ("accepted", "fulfilled", "refused") for s in statuses)
    assert len(statuses) >= 10 and answered > len(statuses) / 2
    assert "fulfilled" in statuses
    measures = db.session.scalars(select(ProjectMeasure)).all()
    grant = sum(m.planned for m in measures if m.funding_source == "fund_grant")
    assert grant == PROJECT_GRANT == Decimal("9500000")
    assert sum(m.planned for m in measures) == PROJECT_TOTAL > Decimal("17000000")
    assert all(m.spent <= m.planned for m in measures)


def check_second_demo_changes_nothing(demo, runner):
    """Does running `seed --demo` a second time leave every table as it was?"""
    counts = row_counts()
    db.session.rollback()
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    assert "уже загружены" in result.output
    assert row_counts() == counts


# --- only states the panel can reach: the demo went through the workflows -----------------


def check_tasks_are_held_by_those_who_may(demo):
    """Is every assigned task held by a specialist the workflow would give it to?"""
    tasks = db.session.scalars(select(Task).where(Task.assignee_id.is_not(None))).all()
    assert tasks
    for task in tasks:
        district = task.family.district_id
        eligible = set(db.session.scalars(eligible_staff(task.role, district)))
        if task.status in OPEN_TASK_STATUSES:
            assert task.assignee_id in eligible, task
    unassigned = [t for t in tasks if t.status == "new"]
    assert not unassigned
    waiting = db.session.scalars(select(Task).where(Task.status == "new")).all()
    assert waiting, "the board has unassigned work (no social worker on district 4)"
    for task in waiting:
        assert not set(db.session.scalars(eligible_staff(task.role, task.family.district_id)))


def check_cases_follow_their_lifecycle(demo):
    """Do plans exist only for contracted cases, assessments cover six domains, and closed
    cases keep no open task?"""
    cases = db.session.scalars(select(Case)).all()
    for case in cases:
        domains = {a.domain for a in case.assessments}
        if case.status == "application":
            assert not domains and case.plan is None
        else:
            assert domains == set(LIFE_DOMAIN.codes), case
        if case.status == "assessment":
            assert case.plan is None, "an ИПСС is made only for an active case"
        if case.status in ("active", "closed"):
            assert case.plan.status == "approved" and case.plan.revisions
            assert all(a.planned_date >= case.start_date for a in case.plan.activities)
            assert all(a.planned_date <= case.planned_end_date for a in case.plan.activities)
        if case.status == "closed":
            assert not [t for t in case.tasks if t.status in OPEN_TASK_STATUSES], case
            assert not [r for r in case.reviews if r.held_on and r.held_on > case.closed_on]
    plans = db.session.scalar(select(func.count()).select_from(SupportPlan))
    assert plans == len([c for c in cases if c.status in ("active", "closed")])


def centre_day(stamp: dt.datetime) -> dt.date:
    """The centre's calendar day of a stored time (kept in UTC; naive on SQLite)."""
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()


def check_rows_are_dated_when_they_happened(demo):
    """Does each case date from its application, and is every task of a closed case
    closed by the closure? (Days are the centre's: after 21:00 UTC Moscow has a new day.)"""
    for case in db.session.scalars(select(Case)):
        assert centre_day(case.created_at) == case.application_date, case
        if case.status == "closed":
            for task in case.tasks:
                assert centre_day(task.created_at) <= case.closed_on
                assert centre_day(task.closed_at) <= case.closed_on, task
    for task in db.session.scalars(select(Task)):
        assert centre_day(task.created_at) <= centre_day(task.closed_at) if task.closed_at else True


def check_appointments_are_on_reception_slots(demo):
    """Is every appointment on a reception slot (half-hourly, never on Sunday)?"""
    for appointment in db.session.scalars(select(Appointment)):
        assert appointment.starts_at.weekday() != SUNDAY, appointment
        assert is_slot(appointment.starts_at.replace(tzinfo=None), working_hours(db.session)), (
            appointment
        )


def check_rental_history_tells_every_step(demo):
    """Has every unit, loan, return and extension its line in the rental history?"""
    kinds: dict[tuple[str, int], int] = {}
    for event in db.session.scalars(select(RentalEvent)):
        if event.loan_id:
            kinds[event.kind, event.loan_id] = kinds.get((event.kind, event.loan_id), 0) + 1
        if event.unit_id and event.kind == "received":
            kinds["received", event.unit_id] = 1
    for unit in db.session.scalars(select(EquipmentUnit)):
        assert ("received", unit.id) in kinds, unit
    for loan in db.session.scalars(select(Loan)):
        assert kinds.get(("issued", loan.id)) == 1, loan
        assert kinds.get(("returned", loan.id)) == (1 if loan.returned_on else None), loan
        assert kinds.get(("extended", loan.id)) == (loan.extensions or None), loan
    assert db.session.scalar(select(func.count()).select_from(LoanExtension)) >= 1


def check_demo_councils_have_decisions_carried_out(demo):
    """Do the demo's councils discuss cases and decide, tasks and referrals both, most of
    the decisions carried out and some still in hand?"""
    from models import CouncilDecision

    decisions = db.session.scalars(select(CouncilDecision)).all()
    assert {d.executor for d in decisions} == {"staff", "partner"}
    states = [d.state for d in decisions]
    assert states.count("done") > len(decisions) / 2
    assert "open" in states


CHECKS = [
    check_seed_demo_prints_the_password,
    check_demo_accounts_have_their_roles,
    check_demo_has_cases_in_every_status,
    check_demo_snils_are_valid,
    check_demo_families_look_real,
    check_no_unit_has_two_open_loans,
    check_demo_tasks_show_today_and_overdue_work,
    check_demo_partners_and_calendar,
    check_tasks_are_held_by_those_who_may,
    check_cases_follow_their_lifecycle,
    check_rows_are_dated_when_they_happened,
    check_appointments_are_on_reception_slots,
    check_rental_history_tells_every_step,
    check_demo_councils_have_decisions_carried_out,
    check_demo_events_referrals_and_budget,
]


def test_the_demo(demo, runner, subtests):
    """Does one `seed --demo` pass every check (each a subtest), and a second change nothing?"""
    for check in CHECKS:
        with subtests.test(msg=check.__name__):
            try:
                check(demo)
            finally:
                db.session.rollback()
    with subtests.test(msg="check_second_demo_changes_nothing"):
        check_second_demo_changes_nothing(demo, runner)
