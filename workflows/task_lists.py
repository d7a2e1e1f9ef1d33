"""Task lists as plain rows: a specialist's open tasks, and «Мои задачи» grouped by due date.

Read models for the pages: each function takes a session, the user who looks (row
scope) and the day, and returns rows that carry what a list shows, nothing lazy.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from models import Family, Task, User
from models.cases import OPEN_TASK_STATUSES

from .scope import where_visible
from .tasks import is_open, step_of

# The groups of «Мои задачи», in the order the page shows them.
MY_TASK_GROUPS = ("overdue", "today", "week", "later")
# A list of tasks stops here; the task table holds the rest.
LIST_LIMIT = 500


class TaskRow(NamedTuple):
    """One task as a list shows it."""

    id: int
    title: str
    status: str
    role: str
    due_date: dt.date
    case_id: int | None
    family_surname: str
    district_id: int | None
    family_id: int
    source_key: str | None
    activity_id: int | None

    @property
    def step(self) -> str | None:
        """The step of the case the task names (workflows.tasks.step_of), if any."""
        return step_of(self.title, self.source_key, self.activity_id)

    def is_overdue(self, today: dt.date) -> bool:
        return self.status in OPEN_TASK_STATUSES and self.due_date < today


def task_rows(
    session: Session, user: User, *where: ColumnElement[bool], limit: int = LIST_LIMIT
) -> list[TaskRow]:
    """The tasks matching `where` that `user` may see, earliest due first."""
    query = (
        select(
            Task.id,
            Task.title,
            Task.status,
            Task.role,
            Task.due_date,
            Task.case_id,
            Family.surname,
            Family.district_id,
            Task.family_id,
            Task.source_key,
            Task.activity_id,
        )
        .join(Family, Family.id == Task.family_id)
        .where(*where, where_visible(Task, user))
        .order_by(Task.due_date, Task.id)
        .limit(limit)
    )
    return [TaskRow(*row) for row in session.execute(query)]


def open_tasks_of(session: Session, user: User, staff_id: int) -> list[TaskRow]:
    """The open tasks assigned to staff member `staff_id` that `user` may see."""
    return task_rows(session, user, Task.assignee_id == staff_id, is_open())


def my_tasks(session: Session, user: User, today: dt.date) -> dict[str, list[TaskRow]]:
    """The user's own open tasks by MY_TASK_GROUPS: overdue, due today, due by Sunday of
    this week, later. An account without a staff member has no tasks."""
    groups: dict[str, list[TaskRow]] = {key: [] for key in MY_TASK_GROUPS}
    if user.staff_id is None:
        return groups
    week_end = today + dt.timedelta(days=6 - today.weekday())
    for task in open_tasks_of(session, user, user.staff_id):
        if task.due_date < today:
            groups["overdue"].append(task)
        elif task.due_date == today:
            groups["today"].append(task)
        elif task.due_date <= week_end:
            groups["week"].append(task)
        else:
            groups["later"].append(task)
    return groups
