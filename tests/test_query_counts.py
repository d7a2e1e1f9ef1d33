"""Does a page cost the same number of SQL queries with 2 rows as with 8 (no N+1)?

Every family added brings its own members, case, plan, task, visit, review, unit
(of its own type), loan and reservation, so that a relation loaded per row would
show up as more queries. Lists and details are checked for the coordinator
(everything) and for a district worker (row scope), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import factories as f
import pytest
from conftest import make_user, signed_in
from sqlalchemy import event, select

from admin_views.permissions import allowed
from models import RentalEvent, User, db
from workflows import council as wf

LISTS = (
    "family",
    "person",
    "consent",
    "programme_enrolment",
    "case",
    "task",
    "support_plan",
    "plan_activity",
    "visit",
    "review",
    "task_assignment",
    "loan",
    "reservation",
    "equipment_unit",
    "loan_extension",
)
DETAILS = ("family", "person", "case", "support_plan", "task", "loan")


@contextmanager
def counted_queries():
    """Counts the statements sent to the database inside the block."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_family(district, worker) -> dict[str, int]:
    """A family with one of everything the main pages show; returns the row ids."""
    family, mother, child = f.family_with_members(district_row=district)
    f.consent(family, mother)
    f.programme_enrolment(family)
    case = f.case(family, mother, lead_worker=worker)
    plan = f.support_plan(case)
    activity = f.plan_activity(plan, specialist=worker)
    task = f.task(family, case, activity=activity, assignee=worker, status="assigned")
    f.task_assignment(task, worker)
    f.visit(case, worker)
    f.review(case, reviewer=worker)
    loan = f.loan(f.equipment_unit(status="on_loan"), family, child, issued_by=worker)
    f.loan_extension(loan)
    f.reservation(family, child)
    return {
        "family": family.id,
        "person": child.id,
        "case": case.id,
        "support_plan": plan.id,
        "task": task.id,
        "loan": loan.id,
    }


@pytest.fixture
def world(app):
    """A district, its worker's id, and a way to add families to it."""
    with app.app_context():
        district = f.district()
        worker = f.staff("district_worker", districts=[district])
        db.session.commit()
        ids = district.id, worker.id

    def grow(count: int) -> dict[str, int]:
        with app.app_context():
            district, worker = db.session.get(f.District, ids[0]), db.session.get(f.Staff, ids[1])
            rows = [add_family(district, worker) for _ in range(count)]
            db.session.commit()
            return rows[-1]

    return ids, grow


def queries_for(app, client, url: str) -> int:
    with app.app_context(), counted_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements)


@pytest.mark.parametrize("role", ["coordinator", "district_worker"])
def test_list_and_details_queries_do_not_grow_with_rows(app, client, world, role):
    """Is the number of queries per list and details page the same for 2 and for 8 families?"""
    (_district_id, worker_id), grow = world
    with app.app_context():  # a district worker signs in as the worker of the grown district
        worker = db.session.get(f.Staff, worker_id) if role == "district_worker" else None
        f.user(role, staff_row=worker, username=role)
        db.session.commit()
    signed_in(app, role, client=client)
    lists = [name for name in LISTS if allowed(role, name, "list")]
    details = [name for name in DETAILS if allowed(role, name, "details")]
    grow(2)
    few_lists = {name: queries_for(app, client, f"/{name}/") for name in lists}
    newest = grow(6)
    many_lists = {name: queries_for(app, client, f"/{name}/") for name in lists}
    assert many_lists == few_lists
    small = {
        name: queries_for(app, client, f"/{name}/details/?id={newest[name]}") for name in details
    }
    # A family page with more members, loans and cases than before: still the same count.
    with app.app_context():
        family = db.session.get(f.Family, newest["family"])
        worker = db.session.get(f.Staff, worker_id)
        mother = family.members[0]
        for _ in range(3):
            child = f.person(family, "child")
            f.loan(f.equipment_unit(status="on_loan"), family, child, issued_by=worker)
            f.case(  # earlier cases: a family has one open case at a time
                family,
                mother,
                lead_worker=worker,
                status="closed",
                closure_reason="goal_achieved",
                closed_on=dt.date(2025, 7, 1),
            )
        db.session.commit()
    large = {
        name: queries_for(app, client, f"/{name}/details/?id={newest[name]}") for name in details
    }
    assert large == small


def test_board_and_my_tasks_queries_do_not_grow_with_rows(app, client, auth):
    """Do the coordinator's board and a specialist's «Мои задачи» cost the same number of
    queries with unassigned tasks in 2 districts as in 8 (candidates per district, no N+1)?"""
    with app.app_context():
        psychologist = f.staff("psychologist")
        f.user("psychologist", staff_row=psychologist, username="psychologist")
        f.user("coordinator", username="coordinator")
        db.session.commit()
        psychologist_id = psychologist.id

    def grow(count: int) -> None:
        with app.app_context():
            psychologist = db.session.get(f.Staff, psychologist_id)
            for _ in range(count):
                district = f.district()
                worker = f.staff("district_worker", districts=[district])
                f.user("district_worker", staff_row=worker)
                family, mother, _child = f.family_with_members(district_row=district)
                f.task(family, role="district_worker")  # unassigned, candidates per district
                f.task(family, role="psychologist", assignee=psychologist, status="assigned")
                f.case(
                    family,
                    mother,
                    lead_worker=worker,
                    status="active",
                    contract_number=f"Д-{f.seq()}",
                    contract_date=dt.date.today(),
                    start_date=dt.date.today(),
                    planned_end_date=dt.date.today() + dt.timedelta(days=10),
                )
            db.session.commit()

    def pages() -> dict[str, int]:
        counts = {}
        for user, url in (("coordinator", "/board/"), ("psychologist", "/my_tasks/")):
            signed_in(app, user, client=client)
            counts[url] = queries_for(app, client, url)
            auth.logout()
        return counts

    grow(2)
    few = pages()
    grow(6)
    assert pages() == few


def test_searches_cost_the_same_with_2_and_8_families_found(app, client, world):
    """The intake family search, the desk's child searches (queue, lend), the family and
    person lists' searches and the navbar's box: no query per family found (issue 18)."""
    (_district_id, _worker_id), grow = world
    with app.app_context():
        f.user("coordinator", username="coordinator")
        f.user("admin", username="desk-admin")
        unit = f.equipment_unit()
        db.session.commit()
        unit_id = unit.id
    urls = {
        "coordinator": (
            "/intake/?surname=Смирнова",
            "/rental_desk/queue/?q=Смирнов",
            "/family/?search=Смирнова",
            "/person/?search=Смирнов",
            "/search/api?q=Смирнов",
            "/search/?q=Смирнова",
        ),
        "desk-admin": (f"/rental_desk/lend/{unit_id}/?q=Смирнов",),
    }

    browsers = {user: signed_in(app, user) for user in urls}

    def counts() -> dict[str, int]:
        found = {}
        for user, pages in urls.items():
            for url in pages:
                found[url] = queries_for(app, browsers[user], url)
        return found

    grow(2)
    few = counts()
    grow(6)
    assert counts() == few
    page = browsers["coordinator"].get("/intake/?surname=Смирнова").get_data(as_text=True)
    assert page.count("Смирновы") >= 8  # the mother's form found every family


def test_workflow_pages_of_one_family_do_not_grow_with_its_rows(app, client, world):
    """The intake's family page, the desk's family page, the case's steps (assessment,
    decision, closure) and the case page: the same number of queries for a family with
    one child, loan, queue place and open task as for one with four of each (issue 18)."""
    (district_id, worker_id), _grow = world
    with app.app_context():
        f.user("coordinator", username="coordinator")
        f.user("admin", username="desk-admin")
        district = db.session.get(f.District, district_id)
        worker = db.session.get(f.Staff, worker_id)
        family, mother, _child = f.family_with_members(district_row=district)
        f.consent(family, mother)
        case = f.case(family, mother, lead_worker=worker, status="assessment")
        db.session.commit()
        family_id, case_id = family.id, case.id

    shared_unit: list[int | None] = [None]

    def add_rows() -> None:
        with app.app_context():
            family = db.session.get(f.Family, family_id)
            case = db.session.get(f.Case, case_id)
            worker = db.session.get(f.Staff, worker_id)
            child = f.person(family, "child")
            unit = f.equipment_unit(status="on_loan")
            loan = f.loan(unit, family, child, issued_by=worker)
            db.session.add(  # the desk's history shows each event's unit, family and clerk
                RentalEvent(
                    kind="issued",
                    occurred_on=loan.issued_on,
                    unit=unit,
                    loan=loan,
                    family=family,
                    staff=worker,
                )
            )
            if shared_unit[0] is None:
                shared_unit[0] = unit.id
            else:  # the first unit lent again to the family: one more line on its page
                earlier = db.session.get(f.EquipmentUnit, shared_unit[0])
                f.loan(earlier, family, child, issued_by=worker, returned_on=loan.issued_on)
            f.reservation(family, child)
            f.task(family, case, assignee=worker, status="assigned")
            f.person(family, "father", last_name="Смирнов", first_name="Иван")
            f.consent(family, family.members[0])
            db.session.commit()

    urls = {
        "coordinator": (
            f"/intake/family/{family_id}",
            f"/case_flow/{case_id}/assessment",
            f"/case_flow/{case_id}/decision",
            f"/case_flow/{case_id}/closure",
            f"/case/details/?id={case_id}",
            f"/family/details/?id={family_id}",
        ),
        "desk-admin": (f"/rental_desk/family/{family_id}/", "/rental_desk/unit/{unit}/"),
    }
    browsers = {user: signed_in(app, user) for user in urls}

    def counts() -> dict[str, int]:
        return {
            url: queries_for(app, browsers[user], url.format(unit=shared_unit[0]))
            for user, pages in urls.items()
            for url in pages
        }

    add_rows()
    few = counts()
    for _ in range(3):
        add_rows()
    assert counts() == few


def test_searches_cost_the_same_with_families_of_2_and_8_districts(app):
    """Intake's family search (coordinator), the rental clerk's lend search (a child by
    surname, queued ones first) and the queue's family search: the same number of
    queries for 2 families found as for 8, each family of its own district, with its own
    consent, open case and queue place, so that a district, a consent, a case or a
    child's family read per row would show (issue 18)."""
    with app.app_context():
        f.user("coordinator", username="coordinator")
        f.user("rental_clerk", username="clerk")
        kind = f.equipment_type()
        unit = f.equipment_unit(type_row=kind)
        db.session.commit()
        unit_id, kind_id = unit.id, kind.id

    def grow(count: int) -> None:
        with app.app_context():
            kind = db.session.get(f.EquipmentType, kind_id)
            for _ in range(count):
                family, mother, child = f.family_with_members(district_row=f.district())
                f.consent(family, mother)
                f.case(family, mother)
                f.reservation(family, child, kind)  # queued for the unit's kind
                other = f.family(district_row=f.district(), surname="Смирновы")
                f.reservation(other, f.person(other, "child"))  # found by surname only
            db.session.commit()

    urls = {
        "coordinator": ("/intake/?surname=Смирнова",),
        "clerk": (f"/rental_desk/lend/{unit_id}/?q=Смирнов", "/rental_desk/queue/?q=Смирнов"),
    }
    browsers = {user: signed_in(app, user) for user in urls}

    def counts() -> dict[str, int]:
        return {
            url: queries_for(app, browsers[user], url)
            for user, pages in urls.items()
            for url in pages
        }

    grow(2)
    few = counts()
    grow(6)
    assert counts() == few
    lend = browsers["clerk"].get(f"/rental_desk/lend/{unit_id}/?q=Смирнов").get_data(as_text=True)
    assert lend.count("семья Смирновых") == 16  # every child, queued or found by surname


def test_case_and_family_pages_do_not_grow_with_their_rows(app, world):
    """The case page and the family page: the same number of queries for a case with one
    assessment, visit, review, referral, task, loan and child (with an ИПРА) as for one
    with four of each, each with its own worker, partner and unit (issue 18)."""
    (district_id, _worker_id), _grow = world
    with app.app_context():
        f.user("coordinator", username="coordinator")
        district = db.session.get(f.District, district_id)
        family, mother, _child = f.family_with_members(district_row=district)
        f.consent(family, mother)
        case = f.case(  # an active case, planned to run past the children's ИПРА
            family,
            mother,
            lead_worker=f.staff(districts=[district]),
            status="active",
            contract_number=f"Д-{f.seq()}",
            contract_date=dt.date(2025, 3, 1),
            start_date=dt.date(2025, 3, 1),
            planned_end_date=dt.date(2025, 8, 31),
        )
        f.support_plan(case)
        db.session.commit()
        family_id, case_id = family.id, case.id
    domains = iter(("medical", "psychological", "pedagogical", "legal", "social", "material"))

    def add_rows() -> None:
        with app.app_context():
            family = db.session.get(f.Family, family_id)
            case = db.session.get(f.Case, case_id)
            worker = f.staff(districts=[family.district])
            child = f.person(family, "child")
            f.rehab_programme(child, valid_until=dt.date(2025, 6, 1))  # it ends first
            f.assessment(case, domain=next(domains), assessed_by=worker)
            f.visit(case, worker)
            f.review(case, reviewer=worker, held_on=dt.date(2025, 4, 1))  # one open at a time
            f.referral(case)
            f.task(family, case, assignee=worker, status="assigned")
            f.loan(f.equipment_unit(status="on_loan"), family, child, issued_by=worker)
            f.reservation(family, child)
            db.session.commit()

    browser = signed_in(app, "coordinator")
    urls = (f"/case/details/?id={case_id}", f"/family/details/?id={family_id}")
    add_rows()
    few = {url: queries_for(app, browser, url) for url in urls}
    for _ in range(3):
        add_rows()
    assert {url: queries_for(app, browser, url) for url in urls} == few


def test_council_pages_do_not_grow_with_districts_meetings_and_staff(app):
    """The council's list (with its new-meeting form) and a meeting's page, for the
    coordinator and for a district worker: the same number of queries with 2 districts,
    meetings and staff members as with 8, each meeting with its agenda case and decision
    (a district's right to record was asked once per district; issue 18)."""
    with app.app_context():
        area = f.district()
        worker = make_user("district_worker", "council-worker", districts=[area.id])
        f.user("coordinator", username="council-boss")
        db.session.commit()
        area_id, worker_staff = area.id, worker.staff_id

    meetings: list[int] = []

    def grow(count: int) -> None:
        with app.app_context():
            actor = db.session.scalar(select(User).where(User.username == "council-worker"))
            for _ in range(count):
                f.district()
                f.staff(role="psychologist")
                family, mother, _child = f.family_with_members(
                    district_row=db.session.get(f.District, area_id)
                )
                f.consent(family, mother)
                case = f.case(family, mother, lead_worker_id=worker_staff)
                meeting = wf.record_meeting(
                    db.session,
                    actor,
                    held_on=dt.date(2026, 1, 15),
                    district_id=area_id,
                    agenda="О семьях участка",
                    staff_ids=[worker_staff],
                    contact_ids=[],
                    today=dt.date(2026, 1, 20),
                )
                wf.add_agenda_case(db.session, actor, meeting.id, case_id=case.id, note="")
                wf.decide(
                    db.session,
                    actor,
                    meeting.id,
                    wf.Decision(
                        case_id=case.id,
                        what="Консультация",
                        due_on=dt.date(2026, 2, 1),
                        staff_id=worker_staff,
                    ),
                    today=dt.date(2026, 1, 20),
                )
                meetings.append(meeting.id)
            db.session.commit()

    browsers = {user: signed_in(app, user) for user in ("council-boss", "council-worker")}

    def counts() -> dict[tuple[str, str], int]:
        return {
            (user, url): queries_for(app, browser, url)
            for user, browser in browsers.items()
            for url in ("/council/", f"/council/{meetings[0]}")
        }

    grow(2)
    few = counts()
    grow(6)
    assert counts() == few
