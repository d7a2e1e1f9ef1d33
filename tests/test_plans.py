"""The ИПСС, monitoring and the scheduler, without HTTP.

Is every save a revision naming who changed what; does approval turn activities
into tasks and later revisions keep the tasks in step; do reviews, missed
reviews and the end of the term become tasks exactly once, however often (and
on however many servers) the tick runs?
"""

from __future__ import annotations

import datetime as dt
import threading

import factories as f
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from workflow_factories import TODAY, active_case, specialist

from models import PlanActivity, PlanRevision, Review, SupportPlan, Task, User, db
from workflows import plans, reviews, schedule
from workflows import tasks as t
from workflows.errors import WorkflowError


def account(staff) -> User:
    return db.session.scalar(select(User).where(User.staff_id == staff.id))


@pytest.fixture
def team(app_ctx):
    """A district with its worker, a psychologist, a lawyer and an active case led by the worker."""
    area = f.district()
    worker = specialist("district_worker", (area,), last_name="Участковая")
    psychologist = specialist("psychologist", last_name="Психолог")
    lawyer = specialist("lawyer", last_name="Юрист")
    case = active_case(area, lead=worker)
    services = [f.service(name=name) for name in ("Консультация психолога", "Правовая помощь")]
    return {
        "case": case,
        "worker": worker,
        "user": account(worker),
        "psychologist": psychologist,
        "lawyer": lawyer,
        "services": services,
    }


def draft(service, role, day, id=None, remove=False):
    return plans.ActivityDraft(id, service.id, role, day, remove)


def two_activities(team):
    psy, law = team["services"]
    return [
        draft(psy, "psychologist", dt.date(2025, 3, 15)),
        draft(law, "lawyer", dt.date(2025, 3, 20)),
    ]


def test_every_save_is_a_revision_with_who_and_what(team):
    """Does saving the plan write a revision naming the editor and the changes,
    and does a save without changes write none?"""
    case, user = team["case"], team["user"]
    first = plans.save_plan(
        db.session, case.id, user, "Адаптация ребёнка", two_activities(team), TODAY
    )
    assert first.number == 1 and first.changed_by_id == team["worker"].id
    assert (
        "Указана цель" in first.summary
        and "Консультация психолога — психолог, 15.03.2025" in first.summary
    )
    plan = db.session.scalar(select(SupportPlan).where(SupportPlan.case_id == case.id))
    psy_id = next(a.id for a in plan.activities if a.responsible_role == "psychologist")
    psy = team["services"][0]
    moved = [draft(psy, "psychologist", dt.date(2025, 3, 18), id=psy_id)]
    second = plans.save_plan(db.session, case.id, user, "Адаптация ребёнка", moved, TODAY)
    assert second.number == 2
    assert second.summary == "Консультация психолога: дата 15.03.2025 → 18.03.2025."
    assert plans.save_plan(db.session, case.id, user, "Адаптация ребёнка", moved, TODAY) is None


def test_plan_rows_are_checked(team):
    """Are a missing service and a date outside the support term refused next to the field?"""
    case, user = team["case"], team["user"]
    psy = team["services"][0]
    outside = plans.ActivityDraft(None, psy.id, "psychologist", dt.date(2025, 9, 1), row="new-0-")
    with pytest.raises(WorkflowError, match="в пределах срока") as refused:
        plans.save_plan(db.session, case.id, user, "Цель", [outside], TODAY)
    assert refused.value.field == "new-0-planned_date"
    blank = plans.ActivityDraft(None, None, "psychologist", dt.date(2025, 3, 1), row="new-0-")
    with pytest.raises(WorkflowError, match="услугу"):
        plans.save_plan(db.session, case.id, user, "Цель", [blank], TODAY)


def test_plan_only_for_an_active_case(team):
    """Is the plan of a case not yet on support (or closed) refused?"""
    team["case"].status = "assessment"
    with pytest.raises(WorkflowError, match="на сопровождении"):
        plans.save_plan(db.session, team["case"].id, team["user"], "Цель", [], TODAY)


def test_approval_turns_every_activity_into_an_assigned_task(team):
    """Does approving create one task per activity, due on its date, given to the
    specialist of its role, and schedule the first review?"""
    case, user = team["case"], team["user"]
    plans.save_plan(db.session, case.id, user, "Адаптация", two_activities(team), TODAY)
    made = plans.approve_plan(db.session, case.id, user, TODAY)
    got = sorted((x.role, x.assignee_id, x.due_date, x.status) for x in made)
    assert got == [
        ("lawyer", team["lawyer"].id, dt.date(2025, 3, 20), "assigned"),
        ("psychologist", team["psychologist"].id, dt.date(2025, 3, 15), "assigned"),
    ]
    assert all(x.activity_id and x.case_id == case.id for x in made)
    plan = case.plan
    assert (plan.status, plan.approved_on, plan.approved_by_id) == (
        "approved",
        TODAY,
        team["worker"].id,
    )
    assert "ИПСС утверждена" in plan.revisions[-1].summary
    assert [r.due_on for r in case.reviews] == [dt.date(2025, 3, 1)]
    with pytest.raises(WorkflowError, match="уже утверждена"):
        plans.approve_plan(db.session, case.id, user, TODAY)


def test_approval_needs_a_goal_and_activities(team):
    """Is an empty plan, or one without a goal, refused?"""
    case, user = team["case"], team["user"]
    plans.save_plan(db.session, case.id, user, "", [], TODAY)
    with pytest.raises(WorkflowError, match="цель"):
        plans.approve_plan(db.session, case.id, user, TODAY)
    plans.save_plan(db.session, case.id, user, "Цель", [], TODAY)
    with pytest.raises(WorkflowError, match="нет ни одного мероприятия"):
        plans.approve_plan(db.session, case.id, user, TODAY)


def test_revision_of_an_approved_plan_keeps_tasks_in_step(team):
    """After approval, does a revision create a task for a new activity, cancel the
    task of a removed one (keeping the activity as cancelled), and move a task's due date?"""
    case, user = team["case"], team["user"]
    psy, law = team["services"]
    plans.save_plan(db.session, case.id, user, "Адаптация", two_activities(team), TODAY)
    plans.approve_plan(db.session, case.id, user, TODAY)
    by_role = {a.responsible_role: a for a in case.plan.activities}
    visit = f.service(name="Домашнее визитирование (патронаж) семьи")
    revision = plans.save_plan(
        db.session,
        case.id,
        user,
        "Адаптация",
        [
            draft(psy, "psychologist", dt.date(2025, 3, 25), id=by_role["psychologist"].id),
            draft(law, "lawyer", dt.date(2025, 3, 20), id=by_role["lawyer"].id, remove=True),
            draft(visit, "district_worker", dt.date(2025, 3, 12)),
        ],
        TODAY,
    )
    tasks = {x.role: x for x in db.session.scalars(select(Task)).all()}
    assert tasks["lawyer"].status == "cancelled"
    assert by_role["lawyer"].status == "cancelled"
    assert tasks["psychologist"].due_date == dt.date(2025, 3, 25)
    assert (tasks["district_worker"].assignee_id, tasks["district_worker"].status) == (
        team["worker"].id,
        "assigned",
    )
    assert "исключено: Правовая помощь" in revision.summary
    assert "добавлено: Домашнее визитирование" in revision.summary
    assert db.session.scalar(select(func.count()).select_from(PlanActivity)) == 3


def test_role_change_moves_the_task_to_the_new_role(team):
    """When a revision gives an approved activity to another role, does its open task follow?"""
    case, user = team["case"], team["user"]
    psy = team["services"][0]
    plans.save_plan(db.session, case.id, user, "Цель", [draft(psy, "psychologist", TODAY)], TODAY)
    plans.approve_plan(db.session, case.id, user, TODAY)
    activity = case.plan.activities[0]
    plans.save_plan(
        db.session, case.id, user, "Цель", [draft(psy, "lawyer", TODAY, id=activity.id)], TODAY
    )
    task = db.session.scalar(select(Task))
    assert (task.role, task.assignee_id) == ("lawyer", team["lawyer"].id)
    assert [a.staff_id for a in task.assignments] == [team["psychologist"].id, team["lawyer"].id]


def test_a_stale_editor_is_refused(team):
    """Is a save made from a page older than the last revision refused?"""
    case, user = team["case"], team["user"]
    plans.save_plan(db.session, case.id, user, "Цель", [], TODAY)
    seen = case.plan.version
    plans.save_plan(db.session, case.id, user, "Другая цель", [], TODAY, seen)
    with pytest.raises(WorkflowError, match="другой пользователь"):
        plans.save_plan(db.session, case.id, user, "Третья цель", [], TODAY, seen)


# --- monitoring ---------------------------------------------------------------------------


def test_holding_a_review_schedules_the_next(team):
    """Does a held review record progress, feedback and effectiveness, and schedule the
    next one a month later within the term?"""
    case, user = team["case"], team["user"]
    reviews.schedule_next_review(db.session, case, case.start_date)
    held = reviews.hold_review(
        db.session, case.id, user, dt.date(2025, 3, 3), "Выполняется", "Довольны", "high", TODAY
    )
    assert (held.due_on, held.held_on, held.reviewer_id, held.effectiveness) == (
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 3),
        team["worker"].id,
        "high",
    )
    pending = reviews.open_review(db.session, case.id)
    assert pending.due_on == dt.date(2025, 4, 3)
    with pytest.raises(WorkflowError, match="эффективности"):
        reviews.hold_review(db.session, case.id, user, TODAY, "Идёт", "", "", TODAY)


def test_no_review_is_scheduled_past_the_end_of_the_term(team):
    """Is the next review left out when it would fall after the planned end date?"""
    case = team["case"]
    assert reviews.schedule_next_review(db.session, case, dt.date(2025, 7, 15)) is None


# --- the scheduler ------------------------------------------------------------------------


def tick(today):
    return dict(schedule.run_tick(db.session, today))


def test_tick_is_idempotent_and_makes_the_time_driven_tasks(team):
    """Does the tick schedule reviews, turn a missed review and a case near its end into
    tasks for the lead worker, and do nothing more when run again?"""
    case = team["case"]
    first = tick(dt.date(2025, 3, 5))  # first review due 01.03 already missed
    assert first["Запланирован очередной мониторинг случаев"] == 1
    assert first["Задачи по пропущенному мониторингу"] == 1
    assert sum(first.values()) == 2
    day = dt.date(2025, 7, 20)  # within 14 days of the end (01.08.2025)
    again = tick(dt.date(2025, 3, 5))
    assert sum(again.values()) == 0
    later = tick(day)
    assert later["Задачи по окончанию срока сопровождения"] == 1
    assert sum(tick(day).values()) == 0
    made = db.session.scalars(select(Task).order_by(Task.id)).all()
    assert [(x.source_key, x.assignee_id) for x in made] == [
        (f"review:{case.reviews[0].id}", team["worker"].id),
        (f"term:{case.id}", team["worker"].id),
    ]


def test_holding_a_missed_review_closes_its_task(team):
    """When the lead worker holds a missed review, is its reminder task done?"""
    case, user = team["case"], team["user"]
    tick(dt.date(2025, 3, 5))
    reviews.hold_review(db.session, case.id, user, dt.date(2025, 3, 5), "Идёт", "", "medium", TODAY)
    task = db.session.scalar(select(Task).where(Task.source_key.like("review:%")))
    assert (task.status, task.result) == ("done", "Мониторинг проведён 05.03.2025.")


def test_a_review_reminder_is_closed_by_the_review_not_by_hand(team):
    """Is completing a missed-review task by hand refused, pointing to the review itself?"""
    tick(dt.date(2025, 3, 5))
    task = db.session.scalar(select(Task).where(Task.source_key.like("review:%")))
    with pytest.raises(WorkflowError, match="запишите мониторинг"):
        t.complete_task(db.session, task.id, team["user"], "Сделано", TODAY)


def test_one_open_review_per_case_is_a_database_rule(team):
    """Does the database itself refuse a second scheduled review of a case?"""
    from sqlalchemy.exc import IntegrityError

    case = team["case"]
    f.review(case, due_on=dt.date(2025, 3, 1), held_on=None)
    with pytest.raises(IntegrityError):
        f.review(case, due_on=dt.date(2025, 4, 1), held_on=None)


def test_cli_tick_prints_what_it_did(app, runner):
    """Does `flask tick --date` run the jobs and print a line per job?"""
    with app.app_context():
        area = f.district()
        worker = specialist("district_worker", (area,))
        active_case(area, lead=worker)
        db.session.commit()
    result = runner.invoke(args=["tick", "--date", "2025-03-05"])
    assert result.exit_code == 0, result.output
    assert "Задачи по пропущенному мониторингу: 1" in result.output
    result = runner.invoke(args=["tick", "--date", "2025-03-05"])
    assert "Задачи по пропущенному мониторингу: 0" in result.output


def test_two_servers_ticking_at_once_make_each_task_once(app):
    """Do two ticks started at the same moment on two connections (two servers) make
    every review and task exactly once? (PostgreSQL: the advisory lock.)"""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("two concurrent writers need PostgreSQL")
        area = f.district()
        worker = specialist("district_worker", (area,))
        for _ in range(5):
            active_case(area, lead=worker)
        db.session.commit()
        engine = db.engine
    barrier = threading.Barrier(2)
    results, errors = [], []

    def server():
        with app.app_context(), Session(engine) as session:
            try:
                barrier.wait()
                results.append(dict(schedule.run_tick(session, dt.date(2025, 7, 25))))
            except Exception as exc:  # collected for the assertion
                errors.append(exc)

    threads = [threading.Thread(target=server) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with app.app_context():
        keys = db.session.scalars(select(Task.source_key)).all()
        assert len(keys) == len(set(keys)) == 10  # 5 missed reviews + 5 near the end
        assert db.session.scalar(select(func.count()).select_from(Review)) == 5
        assert db.session.scalar(select(func.count()).select_from(PlanRevision)) == 0
    assert sorted(sum(r.values()) for r in results) == [0, 15]
