"""Task lists as plain rows, without HTTP: «Мои задачи» by due date, a specialist's open tasks.

Each test builds its own specialists and tasks and calls workflows/task_lists.py as the
pages do. TODAY (workflow_factories) is a Monday.
"""

from __future__ import annotations

import datetime as dt

import factories as f
from sqlalchemy import select
from workflow_factories import TODAY, active_case, specialist

from models import User, db
from workflows import task_lists


def account(staff) -> User:
    return db.session.scalar(select(User).where(User.staff_id == staff.id))


def titles(rows) -> list[str]:
    return [row.title for row in rows]


def test_my_tasks_are_grouped_by_due_date(app_ctx):
    """Are the user's open tasks grouped as overdue, today, by Sunday of this week and
    later, earliest first, with done and cancelled tasks left out?"""
    assert TODAY.weekday() == 0
    me = specialist()
    case = active_case()
    for title, days in (("Вчера", -1), ("Сегодня", 0), ("Воскресенье", 6), ("Понедельник", 7)):
        f.task(
            case.family,
            case,
            title=title,
            status="assigned",
            assignee=me,
            due_date=TODAY + dt.timedelta(days),
        )
    f.task(case.family, case, title="Раньше", status="in_progress", assignee=me, due_date=TODAY)
    for status in ("done", "cancelled"):
        f.task(
            case.family,
            case,
            title=status,
            status=status,
            assignee=me,
            due_date=TODAY,
            closed_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        )
    db.session.flush()
    groups = task_lists.my_tasks(db.session, account(me), TODAY)
    assert list(groups) == list(task_lists.MY_TASK_GROUPS)
    assert {key: titles(rows) for key, rows in groups.items()} == {
        "overdue": ["Вчера"],
        "today": ["Сегодня", "Раньше"],
        "week": ["Воскресенье"],
        "later": ["Понедельник"],
    }


def test_my_tasks_leave_out_a_colleagues_tasks(app_ctx):
    """Does «Мои задачи» hold only the user's own tasks, not a colleague's of the same role?"""
    me, colleague = specialist(last_name="Моя"), specialist(last_name="Чужая")
    case = active_case()
    f.task(case.family, case, title="Моя", status="assigned", assignee=me, due_date=TODAY)
    f.task(case.family, case, title="Чужая", status="assigned", assignee=colleague, due_date=TODAY)
    db.session.flush()
    groups = task_lists.my_tasks(db.session, account(me), TODAY)
    assert titles(groups["today"]) == ["Моя"]


def test_an_account_without_a_staff_member_has_no_tasks(app_ctx):
    """Does an account that is no staff member (the admin's) get empty groups, not an error?"""
    admin = f.user("admin", staff_id=None)
    db.session.flush()
    groups = task_lists.my_tasks(db.session, admin, TODAY)
    assert all(rows == [] for rows in groups.values())


def test_task_rows_carry_what_a_list_shows(app_ctx):
    """Is a row plain data — the family's surname, the case, overdue as of a day —
    rather than a database object that loads more when a page reads it?"""
    me = specialist()
    case = active_case()
    task = f.task(
        case.family, case, status="assigned", assignee=me, due_date=TODAY - dt.timedelta(1)
    )
    db.session.flush()
    (row,) = task_lists.open_tasks_of(db.session, account(me), me.id)
    assert isinstance(row, task_lists.TaskRow)
    assert (row.id, row.case_id, row.family_surname) == (task.id, case.id, case.family.surname)
    assert row.is_overdue(TODAY) and not row.is_overdue(row.due_date)


def test_open_tasks_of_a_colleague_pass_the_row_scope(app_ctx):
    """Does a specialist looking at a colleague's open tasks see none of them from cases
    the specialist has nothing to do with?"""
    me, colleague = specialist(last_name="Моя"), specialist(last_name="Чужая")
    case = active_case()
    f.task(case.family, case, status="assigned", assignee=colleague)
    coordinator = f.user("coordinator")
    db.session.flush()
    assert task_lists.open_tasks_of(db.session, account(me), colleague.id) == []
    assert len(task_lists.open_tasks_of(db.session, coordinator, colleague.id)) == 1
