"""The closed-case guard (models/guards.py): a closed or archived case and its records stay as
they were, whichever path writes — a plain table of the panel, a workflow, the session itself.

Each test here fails when the guard is not installed: none of these paths checks the case
on its own.
"""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from conftest import make_user, post_form, signed_in
from security_factories import flashes
from sqlalchemy import func, select

from models import Assessment, Case, PlanActivity, Review, Task, TaskAssignment, Visit, db
from models.base import utcnow
from models.guards import ARCHIVED, CLOSED, recording_history
from workflows import reviews, tasks
from workflows.cases import close_case
from workflows.errors import WorkflowError
from workflows.schedule import run_tick

D = dt.date
TODAY = D(2025, 6, 10)


@pytest.fixture
def cases(app):
    """A closed case and an archived active case, each with a visit, an assessment, an ИПСС
    activity, an open task assigned to the psychologist, and a scheduled review."""
    with app.app_context():
        boss = make_user("coordinator", "boss")
        psych = make_user("psychologist", "psych")
        ids = {"boss": boss.id, "psych_staff": psych.staff_id}
        for name, state in (
            (
                "closed",
                {"status": "closed", "closure_reason": "refused", "closed_on": D(2025, 5, 1)},
            ),
            ("archived", {"archived_at": utcnow()}),
        ):
            family, mother, _child = f.family_with_members()
            case = f.case(family, mother, **state)
            plan = f.support_plan(case)
            task = f.task(family, case, status="assigned", assignee=psych.staff)
            ids[name] = {
                "case": case.id,
                "family": family.id,
                "visit": f.visit(case).id,
                "assessment": f.assessment(case).id,
                "activity": f.plan_activity(plan).id,
                "task": task.id,
                "review": f.review(case, effectiveness=None, plan_progress=None).id,
            }
        db.session.commit()
        return ids


def _refused(change, message: str) -> None:
    with pytest.raises(WorkflowError) as refused:
        change()
        db.session.flush()
    assert str(refused.value) == message
    db.session.rollback()


# --- the session itself ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "message"), [("closed", CLOSED), ("archived", ARCHIVED)])
def test_the_session_may_not_add_change_or_delete_a_record_of_the_case(app, cases, name, message):
    """Is every insert, update and delete of a closed or archived case's records refused at
    the flush, with the Russian reason?"""
    row = cases[name]
    with app.app_context():
        staff_id = cases["psych_staff"]
        _refused(
            lambda: db.session.add(
                Visit(case_id=row["case"], visited_on=TODAY, staff_id=staff_id, purpose="Ещё")
            ),
            message,
        )
        _refused(lambda: setattr(db.session.get(Visit, row["visit"]), "purpose", "Иначе"), message)
        _refused(lambda: db.session.delete(db.session.get(Assessment, row["assessment"])), message)
        _refused(
            lambda: setattr(db.session.get(PlanActivity, row["activity"]), "status", "done"),
            message,
        )
        _refused(
            lambda: db.session.add(
                TaskAssignment(task_id=row["task"], staff_id=staff_id, assigned_at=utcnow())
            ),
            message,
        )
        _refused(
            lambda: setattr(db.session.get(Case, row["case"]), "outcome", "Переписано"), message
        )
        assert db.session.get(Visit, row["visit"]).purpose == "Обследование условий проживания"


def test_a_record_may_not_be_moved_out_of_a_closed_case(app, cases):
    """Is moving a closed case's visit to an open case refused (it changes the closed one)?"""
    with app.app_context():
        family, mother, _child = f.family_with_members()
        open_case = f.case(family, mother)
        db.session.commit()
        _refused(
            lambda: setattr(
                db.session.get(Visit, cases["closed"]["visit"]), "case_id", open_case.id
            ),
            CLOSED,
        )


def test_archiving_and_restoring_a_closed_case_pass(app, cases):
    """May a closed case still go to the archive and come back (nothing else changing)?"""
    with app.app_context():
        case = db.session.get(Case, cases["closed"]["case"])
        case.archived_at = utcnow()
        db.session.commit()
        case.archived_at = None
        db.session.commit()
        assert db.session.get(Case, case.id).archived_at is None


def test_the_records_of_an_open_case_change_freely(app, cases):
    """Does the guard leave an open case alone (a visit added, one changed)?"""
    with app.app_context():
        family, mother, _child = f.family_with_members()
        case = f.case(family, mother)
        visit = f.visit(case)
        db.session.commit()
        visit.purpose = "Повторное обследование"
        db.session.add(
            Visit(case_id=case.id, visited_on=TODAY, staff_id=visit.staff_id, purpose="Ещё")
        )
        db.session.commit()
        assert db.session.scalar(select(func.count()).where(Visit.case_id == case.id)) == 2


# --- the workflows ----------------------------------------------------------------------------


def test_closing_a_case_may_cancel_its_open_tasks(app):
    """Does the flush that closes a case carry its own changes: the open task cancelled?"""
    with app.app_context():
        boss = make_user("coordinator", "boss2")
        family, mother, _child = f.family_with_members()
        case = f.case(family, mother)
        task = f.task(family, case)
        db.session.commit()
        cancelled = close_case(
            db.session,
            boss,
            case,
            reason="goal_achieved",
            closed_on=TODAY,
            outcome="Цель достигнута",
            cancel_open_tasks=True,
            today=TODAY,
        )
        db.session.commit()
        assert cancelled == 1
        assert db.session.get(Task, task.id).status == "cancelled"
        assert db.session.get(Case, case.id).status == "closed"


@pytest.mark.parametrize(("name", "message"), [("closed", CLOSED), ("archived", ARCHIVED)])
def test_a_workflow_may_not_write_to_the_case(app, cases, name, message):
    """Are a task created for the case, its open task carried out and its review held
    refused — workflows that do not look at the case themselves?"""
    row = cases[name]
    with app.app_context():
        psych = db.session.get(Task, row["task"]).assignee.user
        _refused(
            lambda: tasks.create_task(
                db.session,
                family_id=row["family"],
                case_id=row["case"],
                title="Ещё одна задача",
                role="lawyer",
                due_date=TODAY,
                today=TODAY,
            ),
            message,
        )
        _refused(lambda: tasks.start_task(db.session, row["task"], psych), message)
        if name == "archived":  # hold_review itself refuses a case that is not active
            _refused(
                lambda: reviews.hold_review(
                    db.session, row["case"], psych, TODAY, "Выполняется", "", "high", TODAY
                ),
                message,
            )
        assert db.session.get(Task, row["task"]).status == "assigned"


def test_the_tick_passes_an_archived_case_by(app, cases):
    """Does the scheduler run with an archived active case, making nothing for it?"""
    with app.app_context():
        # Its scheduled review gone and its end near, the case would get both jobs' rows.
        with recording_history(db.session):
            db.session.delete(db.session.get(Review, cases["archived"]["review"]))
            db.session.get(Case, cases["archived"]["case"]).planned_end_date = TODAY
            db.session.commit()
        run_tick(db.session, TODAY)
        case_id = cases["archived"]["case"]
        assert db.session.scalar(select(func.count()).where(Review.case_id == case_id)) == 0
        assert db.session.scalar(select(func.count()).where(Task.case_id == case_id)) == 1


# --- the plain tables of the panel ------------------------------------------------------------


def _visits(app, case_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(Visit.case_id == case_id))


def test_the_visit_table_refuses_a_visit_to_a_closed_case(app, cases):
    """Is a visit added to a closed case on the plain table refused with «Случай закрыт»,
    not a server error?"""
    client = signed_in(app, "boss")
    case_id = cases["closed"]["case"]
    response = post_form(
        client,
        "/visit/new/",
        {
            "case": case_id,
            "visited_on": "2025-06-01",
            "staff": cases["psych_staff"],
            "purpose": "После закрытия",
        },
    )
    assert response.status_code == 200
    assert CLOSED in flashes(response.get_data(as_text=True))
    assert _visits(app, case_id) == 1


def test_the_task_table_refuses_to_change_a_task_of_a_closed_case(app, cases):
    """Is a changed title of a closed case's task refused on the plain table?"""
    client = signed_in(app, "boss")
    task_id = cases["closed"]["task"]
    with app.app_context():
        version = db.session.get(Task, task_id).version
    url = f"/task/edit/?id={task_id}"
    response = post_form(
        client,
        url,
        {"title": "Переписано", "due_date": "2025-03-15", "seen_version": str(version)},
    )
    assert CLOSED in flashes(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Task, task_id).title == "Провести диагностику ребёнка"


def test_the_visit_table_refuses_to_delete_a_visit_of_an_archived_case(app, cases):
    """Is deleting an archived case's visit refused with «Случай в архиве»?"""
    client = signed_in(app, "boss")
    row = cases["archived"]
    response = post_form(
        client,
        "/visit/delete/",
        {"id": row["visit"], "url": "/visit/"},
        form_url="/visit/",
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ARCHIVED in flashes(page)
    assert _visits(app, row["case"]) == 1


def test_the_case_table_refuses_to_edit_an_archived_case(app, cases):
    """Does the edit page of an archived case send back to its details, saying why?"""
    client = signed_in(app, "boss")
    case_id = cases["archived"]["case"]
    response = client.get(f"/case/edit/?id={case_id}&archive=1", follow_redirects=True)
    assert ARCHIVED in flashes(response.get_data(as_text=True))
