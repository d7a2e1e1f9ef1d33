"""Task rules, without HTTP: who a task goes to, its statuses, its history.

Each test builds its own specialists and families with the factories and calls
workflows/tasks.py directly, as the pages and the scheduler do.
"""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from sqlalchemy import select
from workflow_factories import TODAY, active_case, open_tasks, specialist

from models import Task, TaskAssignment, User, Visit, db
from workflows import tasks as t
from workflows.errors import WorkflowError


def new_task(role="psychologist", district=None, **kw) -> Task:
    family = f.family(district)
    return t.create_task(
        db.session,
        family_id=family.id,
        title="Консультация",
        role=role,
        due_date=TODAY + dt.timedelta(days=3),
        today=TODAY,
        **kw,
    )


def coordinator() -> User:
    return f.user("coordinator")


def account(staff) -> User:
    return db.session.scalar(select(User).where(User.staff_id == staff.id))


# --- auto-assignment ------------------------------------------------------------------------


def test_auto_assignment_picks_the_least_loaded_specialist(app_ctx):
    """Does a new task go to the specialist of its role with the fewest open tasks?"""
    busy = specialist(last_name="Занятая")
    free = specialist(last_name="Свободная")
    open_tasks(busy, 2)
    open_tasks(free, 1)
    specialist("social_pedagogue")  # another role, with no tasks at all
    task = new_task()
    assert task.status == "assigned"
    assert task.assignee_id == free.id
    assert task.assignments[0].reason == t.AUTO_REASON


def test_overdue_tasks_break_a_tie_in_open_tasks(app_ctx):
    """With equal open tasks, does the specialist with fewer overdue tasks get it?"""
    late = specialist(last_name="Опаздывающая")
    prompt = specialist(last_name="Успевающая")
    open_tasks(late, 1, due=TODAY - dt.timedelta(days=2))  # overdue
    open_tasks(prompt, 1, due=TODAY + dt.timedelta(days=2))
    assert late.id < prompt.id  # so the stable order alone would pick «late»
    assert new_task().assignee_id == prompt.id


def test_full_tie_goes_to_the_lower_staff_id(app_ctx):
    """With equal open and overdue counts, is the choice stable (the lower staff id)?"""
    first, second = specialist(), specialist()
    assert new_task().assignee_id == min(first.id, second.id)


def test_done_and_cancelled_tasks_are_not_load(app_ctx):
    """Do closed tasks leave the load alone (only open tasks count)?"""
    veteran, newcomer = specialist(), specialist()
    fam = f.family()
    for status in ("done", "cancelled"):
        f.task(
            fam, status=status, assignee=veteran, closed_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
        )
    open_tasks(newcomer, 1)
    assert new_task().assignee_id == veteran.id


@pytest.mark.parametrize("broken", ["account_disabled", "staff_inactive"])
def test_never_a_disabled_account_or_a_former_employee(app_ctx, broken):
    """Is a specialist with a disabled login, or no longer working, never chosen,
    however idle they are?"""
    idle = specialist(
        account_active=broken != "account_disabled", active=broken != "staff_inactive"
    )
    working = specialist()
    open_tasks(working, 3)
    assert idle.id < working.id
    assert new_task().assignee_id == working.id


def test_district_bound_role_stays_in_the_familys_district(app_ctx):
    """Does a district worker's task go to a worker of the family's district, never
    to an idle worker of another district?"""
    here, there = f.district(), f.district()
    own = specialist("district_worker", (here,))
    specialist("district_worker", (there,))  # idle, other district
    open_tasks(own, 4)
    assert new_task("district_worker", here).assignee_id == own.id


def test_centre_wide_role_ignores_districts(app_ctx):
    """Is a psychologist (not district-bound) chosen whatever district the family lives in?"""
    psychologist = specialist("psychologist", (f.district(),))
    assert new_task("psychologist", f.district()).assignee_id == psychologist.id


def test_nobody_fits_the_task_stays_new(app_ctx):
    """With no eligible specialist, does the task stay new and unassigned (for the board)?"""
    specialist("district_worker", (f.district(),))  # another district only
    task = new_task("district_worker", f.district())
    assert (task.status, task.assignee_id, task.assignments) == ("new", None, [])


# --- the coordinator assigns and reassigns ------------------------------------------------


def test_coordinator_assigns_a_new_task_once(app_ctx):
    """Does assigning a new task record who gave it; is a second assignment refused?"""
    boss = coordinator()
    task = new_task("lawyer")
    assert task.status == "new"
    lawyer = specialist("lawyer")
    t.assign_task(db.session, task.id, lawyer, boss)
    assert (task.status, task.assignee_id) == ("assigned", lawyer.id)
    assert task.assignments[-1].assigned_by_id == boss.id
    with pytest.raises(WorkflowError, match="уже назначил другой пользователь"):
        t.assign_task(db.session, task.id, specialist("lawyer"), boss)


def test_manual_assignment_checks_role_district_and_account(app_ctx):
    """Is a coordinator refused (in Russian) when giving a task to the wrong role,
    another district's worker or a disabled account?"""
    boss = coordinator()
    here = f.district()
    task = new_task("district_worker", here, assignee=None)
    task_id = task.id
    wrong = [
        specialist("psychologist", (here,)),
        specialist("district_worker", (f.district(),)),
        specialist("district_worker", (here,), account_active=False),
    ]
    db.session.flush()
    for staff in wrong:
        with pytest.raises(WorkflowError, match="не может получить задачу") as refused:
            t.assign_task(db.session, task_id, staff, boss)
        assert refused.value.field == "staff"


def test_only_the_coordinator_assigns(app_ctx):
    """Is a specialist refused when trying to hand out a task?"""
    task = new_task("lawyer")
    lawyer = specialist("lawyer")
    with pytest.raises(WorkflowError, match="руководитель"):
        t.assign_task(db.session, task.id, lawyer, account(lawyer))


def test_reassignment_keeps_the_history_and_needs_a_reason(app_ctx):
    """Does reassigning with a reason move the task and keep both assignments in the history?"""
    boss = coordinator()
    first = specialist()
    task = new_task()
    second = specialist()
    with pytest.raises(WorkflowError, match="причину"):
        t.reassign_task(db.session, task.id, second, boss, "  ")
    t.reassign_task(db.session, task.id, second, boss, "Болезнь специалиста", task.version)
    history = db.session.scalars(
        select(TaskAssignment).where(TaskAssignment.task_id == task.id).order_by(TaskAssignment.id)
    ).all()
    assert [(h.staff_id, h.reason) for h in history] == [
        (first.id, t.AUTO_REASON),
        (second.id, "Болезнь специалиста"),
    ]
    assert (task.assignee_id, task.status) == (second.id, "assigned")


def test_reassignment_from_a_stale_page_is_refused(app_ctx):
    """Is a reassignment made from a page older than the task's last change refused?"""
    boss = coordinator()
    specialist()
    task = new_task()
    stale = task.version
    t.reassign_task(db.session, task.id, specialist(), boss, "Отпуск", stale)
    with pytest.raises(WorkflowError, match="другой пользователь"):
        t.reassign_task(db.session, task.id, specialist(), boss, "Отпуск", stale)


# --- the lifecycle ------------------------------------------------------------------------


def test_full_lifecycle_and_refused_transitions(app_ctx):
    """new → assigned → in_progress → done, with every wrong step refused in Russian."""
    boss = coordinator()
    task = new_task("nurse")
    nurse = specialist("nurse")
    user = account(nurse)
    with pytest.raises(WorkflowError, match="другого специалиста"):
        t.complete_task(db.session, task.id, user, "Сделано", TODAY)  # not yet theirs
    t.assign_task(db.session, task.id, nurse, boss)
    with pytest.raises(WorkflowError, match="другого специалиста"):
        t.start_task(db.session, task.id, account(specialist("nurse")))
    t.start_task(db.session, task.id, user)
    assert task.status == "in_progress"
    with pytest.raises(WorkflowError, match="только назначенную"):
        t.start_task(db.session, task.id, user)
    with pytest.raises(WorkflowError, match="результат") as empty:
        t.complete_task(db.session, task.id, user, " ", TODAY)
    assert empty.value.field == "result"
    t.complete_task(db.session, task.id, user, "Ребёнок сопровождён в поликлинику", TODAY)
    assert (task.status, task.result) == ("done", "Ребёнок сопровождён в поликлинику")
    assert task.closed_at is not None
    for step in (
        lambda: t.start_task(db.session, task.id, user),
        lambda: t.complete_task(db.session, task.id, user, "ещё раз", TODAY),
        lambda: t.cancel_task(db.session, task.id, boss, "не нужна"),
        lambda: t.reassign_task(db.session, task.id, specialist("nurse"), boss, "отпуск"),
    ):
        with pytest.raises(WorkflowError, match="уже выполнена"):
            step()


def test_complete_in_one_step_from_assigned(app_ctx):
    """Can the assignee record the result and close an assigned task in one step,
    and does the plan activity behind it become done with that result?"""
    psychologist = specialist()
    case = active_case()
    plan = f.support_plan(case, status="approved")
    activity = f.plan_activity(plan)
    task = t.create_task(
        db.session,
        family_id=case.family_id,
        case_id=case.id,
        activity_id=activity.id,
        title="Консультация психолога",
        role="psychologist",
        due_date=TODAY,
        today=TODAY,
    )
    assert activity.specialist_id == psychologist.id
    t.complete_task(db.session, task.id, account(psychologist), "Консультация проведена", TODAY)
    assert (activity.status, activity.result, activity.done_on) == (
        "done",
        "Консультация проведена",
        TODAY,
    )


def test_cancel_needs_a_reason_and_the_coordinator(app_ctx):
    """Is cancelling refused without a reason or by a specialist, and recorded with it?"""
    boss = coordinator()
    psychologist = specialist()
    task = new_task()
    with pytest.raises(WorkflowError, match="руководитель"):
        t.cancel_task(db.session, task.id, account(psychologist), "не нужна")
    with pytest.raises(WorkflowError, match="причину"):
        t.cancel_task(db.session, task.id, boss, "")
    t.cancel_task(db.session, task.id, boss, "семья отказалась")
    assert (task.status, task.result) == ("cancelled", "Отменена: семья отказалась")


def test_visit_task_records_the_visit_and_the_next_one(app_ctx):
    """Does completing a home-visit task require and record the visit (date, findings,
    next visit), and give the same worker a task for the next visit?"""
    area = f.district()
    worker = specialist("district_worker", (area,))
    case = active_case(area, lead=worker)
    task = t.create_task(
        db.session,
        family_id=case.family_id,
        case_id=case.id,
        title="Домашнее визитирование (патронаж) семьи",
        role="district_worker",
        due_date=TODAY,
        today=TODAY,
    )
    user = account(worker)
    with pytest.raises(WorkflowError, match="дату визита"):
        t.complete_task(db.session, task.id, user, "Визит проведён", TODAY)
    future = t.VisitRecord(TODAY + dt.timedelta(days=1), "Условия удовлетворительные")
    with pytest.raises(WorkflowError, match="в будущем"):
        t.complete_task(db.session, task.id, user, "Визит проведён", TODAY, future)
    visit = t.VisitRecord(TODAY, "Условия удовлетворительные", TODAY + dt.timedelta(days=14))
    t.complete_task(db.session, task.id, user, "Визит проведён", TODAY, visit)
    recorded = db.session.scalar(select(Visit).where(Visit.case_id == case.id))
    assert (recorded.visited_on, recorded.findings, recorded.staff_id) == (
        TODAY,
        "Условия удовлетворительные",
        worker.id,
    )
    follow_up = db.session.scalar(select(Task).where(Task.id != task.id))
    assert (follow_up.assignee_id, follow_up.due_date, follow_up.status) == (
        worker.id,
        TODAY + dt.timedelta(days=14),
        "assigned",
    )


def test_overdue_is_a_fact_of_the_dates(app_ctx):
    """Is a task overdue exactly when it is open and its due date has passed, in SQL too?"""
    psychologist = specialist()
    fam = f.family()
    yesterday = TODAY - dt.timedelta(days=1)
    late = f.task(fam, status="assigned", assignee=psychologist, due_date=yesterday)
    f.task(fam, status="assigned", assignee=psychologist, due_date=TODAY)
    f.task(
        fam,
        status="done",
        assignee=psychologist,
        due_date=yesterday,
        closed_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )
    overdue = db.session.scalars(select(Task.id).where(t.is_overdue(TODAY))).all()
    assert overdue == [late.id]
    assert late.is_overdue(TODAY) and not late.is_overdue(yesterday)


# --- two coordinators at once (PostgreSQL) ----------------------------------------------------


def test_two_coordinators_assigning_the_same_task_at_once(app):
    """When two coordinators (two connections) assign the same new task at the same
    moment to different specialists, does exactly one win, the other get a clear
    Russian refusal, and the task end with one assignee and one history row?"""
    import threading

    from sqlalchemy.orm import Session

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks need PostgreSQL")
        bosses = [coordinator().id, coordinator().id]
        task_id = new_task("lawyer").id
        lawyers = [specialist("lawyer").id, specialist("lawyer").id]
        db.session.commit()
        engine = db.engine
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def coordinator_clicks(boss_id, lawyer_id):
        from models import Staff

        with app.app_context(), Session(engine) as session:
            boss, lawyer = session.get(User, boss_id), session.get(Staff, lawyer_id)
            barrier.wait()
            try:
                t.assign_task(session, task_id, lawyer, boss)
                session.commit()
                outcomes.append("won")
            except WorkflowError as refused:
                session.rollback()
                outcomes.append(str(refused))

    threads = [
        threading.Thread(target=coordinator_clicks, args=pair)
        for pair in zip(bosses, lawyers, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("won") == 1, outcomes
    refusal = next(o for o in outcomes if o != "won")
    assert refusal.startswith("Задачу уже назначил другой пользователь: исполнитель —")
    with app.app_context():
        task = db.session.get(Task, task_id)
        history = db.session.scalars(
            select(TaskAssignment).where(TaskAssignment.task_id == task_id)
        ).all()
        assert task.status == "assigned" and len(history) == 1
        assert history[0].staff_id == task.assignee_id
