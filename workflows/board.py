"""The coordinator's board as plain data: unassigned tasks by role with who may take
each, every specialist's load, and cases near or past the end of their term.

A centre has thousands of specialists and cases at national scale, so each part is a
few aggregate queries whatever the number of rows, and each list shows the most
urgent few (the task, case and workload lists hold the rest).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple, cast

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from models import ROLE, Case, District, Family, Staff, Task, User
from models.base import full_name
from models.live import active_for_new_work
from models.reference import staff_district
from models.roles import district_bound, roles_that
from models.terms import CASE_END_WINDOWS

from .dates import centre_zone
from .kept import kept, scope_key
from .scope import where_visible
from .task_lists import TaskRow, open_tasks_of, task_rows
from .tasks import eligible_staff, eligible_staff_of, workload

# Days before the planned end at which the board counts a case as ending.
# Unassigned tasks shown per role, and cases of each end list, most urgent first.
UNASSIGNED_SHOWN = 15
ENDING_SHOWN = 10
# Candidates offered for an unassigned task, least loaded first (its page offers all).
CANDIDATES_SHOWN = 10
# Tasks done this week listed on the board, the latest first (the task table holds all).
DONE_SHOWN = 30
# Names given per reason when nobody can take a task over.
NAMES_SHOWN = 5


class Load(NamedTuple):
    """A specialist who may take tasks, with their open and overdue task counts."""

    id: int
    name: str
    role: str
    open: int
    overdue: int


class Unassigned(NamedTuple):
    """An unassigned task and the specialists who may take it, least loaded first."""

    task: TaskRow
    candidates: list[Load]


class EndingCase(NamedTuple):
    """An active case as the end-of-term lists show it."""

    id: int
    family_surname: str
    lead_worker: str | None
    planned_end_date: dt.date


class StaffTasks(NamedTuple):
    """A specialist chosen on the board, with their open tasks."""

    name: str
    tasks: list[TaskRow]


class DoneTask(NamedTuple):
    """A task done, as the board's «Выполнено» lists show it."""

    id: int
    title: str
    closed_at: dt.datetime  # in the centre's zone
    family_surname: str
    case_id: int | None
    doer: str | None


class DoneCount(NamedTuple):
    """How many tasks a specialist has done today and this week."""

    id: int
    name: str
    role: str
    today: int
    week: int


@dataclass(frozen=True)
class Done:
    """The work done today and this week (since Monday) within the user's scope."""

    today: list[DoneTask]
    week: list[DoneTask]  # this week before today
    counts: list[DoneCount]  # per specialist, most done this week first
    today_total: int
    week_total: int


@dataclass(frozen=True)
class Board:
    """What the board shows on `today` to one user."""

    today: dt.date
    unassigned_counts: dict[str, int]  # role → unassigned tasks, in role order
    unassigned: dict[str, list[Unassigned]]  # role → its most urgent unassigned tasks
    load: dict[str, list[Load]]  # role → its specialists, most overdue first
    ending_counts: dict[str, int]  # "d30", "d14", "d7" (CASE_END_WINDOWS) and "past"
    ending: list[EndingCase]  # ending within CASE_END_WINDOWS[0] days, earliest first
    past: list[EndingCase]  # past their planned end, earliest first
    done: Done


def staff_load(
    session: Session, today: dt.date, role: str | None = None, district_id: int | None = None
) -> list[Load]:
    """The Load of the staff who may take tasks: all of them in role and name order, or
    those who may take a task of `role` for a family of `district_id`, least loaded first."""
    if role is None:
        staff_ids = select(Staff.id).where(
            active_for_new_work(Staff), Staff.role.in_(roles_that("takes_activities"))
        )
    else:
        staff_ids = eligible_staff(role, district_id)
    load = workload(today, staff_ids).subquery()
    query = select(
        Staff.id,
        Staff.last_name,
        Staff.first_name,
        Staff.middle_name,
        Staff.role,
        load.c.open,
        load.c.overdue,
    ).join(load, load.c.id == Staff.id)
    if role is None:
        query = query.order_by(Staff.role, Staff.last_name, Staff.first_name, Staff.id)
    else:
        query = query.order_by(load.c.open, load.c.overdue, Staff.id)
    return [
        Load(staff_id, full_name(last, first, middle), staff_role, int(open_), int(overdue))
        for staff_id, last, first, middle, staff_role, open_, overdue in session.execute(query)
    ]


def _unassigned(
    session: Session, user: User, loads: list[Load]
) -> tuple[dict[str, int], dict[str, list[Unassigned]]]:
    """Unassigned tasks counted by role, and each role's most urgent ones with their
    candidates: one query for the candidates of all of them."""
    counts = dict(
        session.execute(
            select(Task.role, func.count())
            .where(Task.status == "new", where_visible(Task, user))
            .group_by(Task.role)
            .order_by(Task.role)
        ).all()
    )
    urgent = {
        role: task_rows(
            session, user, Task.status == "new", Task.role == role, limit=UNASSIGNED_SHOWN
        )
        for role in counts
    }
    # Each role's specialists least loaded first, once: a task's candidates are the first
    # CANDIDATES_SHOWN of them who may take it (not a sort of all of them per task).
    ranked: dict[str, list[Load]] = {}
    for row in sorted(loads, key=lambda row: (row.open, row.overdue, row.id)):
        ranked.setdefault(row.role, []).append(row)
    keys = {(task.role, task.district_id) for tasks in urgent.values() for task in tasks}
    candidates = {
        key: list(
            islice((row for row in ranked.get(key[0], ()) if row.id in eligible), CANDIDATES_SHOWN)
        )
        for key, eligible in eligible_staff_of(session, keys).items()
    }
    unassigned = {
        role: [Unassigned(task, candidates[task.role, task.district_id]) for task in tasks]
        for role, tasks in urgent.items()
    }
    return counts, unassigned


def _ending(
    session: Session, user: User, today: dt.date
) -> tuple[dict[str, int], list[EndingCase], list[EndingCase]]:
    """Active cases counted by CASE_END_WINDOWS and past their end, and the earliest of those
    ending soon and of those past."""
    soon = today + dt.timedelta(days=CASE_END_WINDOWS[0])
    active = and_(
        Case.status == "active",
        Case.archived_at.is_(None),
        Case.planned_end_date <= soon,  # the windows and the lists end there
        where_visible(Case, user),
    )
    counts = session.execute(
        select(
            *(
                func.count()
                .filter(Case.planned_end_date.between(today, today + dt.timedelta(days=n)))
                .label(f"d{n}")
                for n in CASE_END_WINDOWS
            ),
            func.count().filter(Case.planned_end_date < today).label("past"),
        ).where(active)
    ).one()
    lists = []
    for window in (Case.planned_end_date.between(today, soon), Case.planned_end_date < today):
        rows = session.execute(
            select(
                Case.id,
                Family.surname,
                Case.lead_worker_id,
                Staff.last_name,
                Staff.first_name,
                Staff.middle_name,
                Case.planned_end_date,
            )
            .join(Family, Family.id == Case.family_id)
            .outerjoin(Staff, Staff.id == Case.lead_worker_id)
            .where(active, window)
            .order_by(Case.planned_end_date, Case.id)
            .limit(ENDING_SHOWN)
        )
        lists.append(
            [
                EndingCase(
                    case_id,
                    surname,
                    None if lead_id is None else full_name(last, first, middle),
                    cast(dt.date, end),  # not NULL: the window compares it
                )
                for case_id, surname, lead_id, last, first, middle, end in rows
            ]
        )
    ending, past = lists
    return dict(counts._mapping), ending, past


def centre_load(session: Session, today: dt.date) -> list[Load]:
    """`staff_load` of every specialist who may take tasks, kept (workflows/kept.py) until
    the tasks or the staff change."""
    return kept(
        session,
        f"board.load:{today}",
        lambda: staff_load(session, today),
        encode=lambda loads: [list(load) for load in loads],
        decode=lambda loads: [Load(*load) for load in loads],
    )


def board(session: Session, user: User, today: dt.date) -> Board:
    """The board as `user` sees it on `today` (their row scope for tasks and cases)."""
    loads = centre_load(session, today)
    counts, unassigned = _unassigned(session, user, loads)
    by_role: dict[str, list[Load]] = {}
    for row in sorted(loads, key=lambda row: (row.role, -row.overdue, -row.open, row.name)):
        by_role.setdefault(row.role, []).append(row)
    ending_counts, ending, past = kept(
        session,
        f"board.ending:{scope_key(user)}:{today}",
        lambda: _ending(session, user, today),
        encode=_ending_json,
        decode=_ending_of,
    )
    finished = kept(
        session,
        f"board.done:{scope_key(user)}:{today}",
        lambda: done(session, user, today),
        encode=_done_json,
        decode=_done_of,
    )
    return Board(today, counts, unassigned, by_role, ending_counts, ending, past, finished)


# The kept forms of the board's parts (workflows/kept.py): JSON, dates as ISO text.
Ending = tuple[dict[str, int], list[EndingCase], list[EndingCase]]


def _ending_json(part: Ending) -> list[Any]:
    counts, ending, past = part
    return [
        counts,
        *(
            [[*case[:3], case.planned_end_date.isoformat()] for case in cases]
            for cases in (ending, past)
        ),
    ]


def _ending_of(kept_part: list[Any]) -> Ending:
    counts, ending, past = kept_part
    cases = [
        [EndingCase(i, surname, lead, dt.date.fromisoformat(end)) for i, surname, lead, end in rows]
        for rows in (ending, past)
    ]
    return counts, cases[0], cases[1]


def _done_json(part: Done) -> dict[str, Any]:
    def tasks(rows: list[DoneTask]) -> list[list[Any]]:
        return [[*row[:2], row.closed_at.isoformat(), *row[3:]] for row in rows]

    return {
        "today": tasks(part.today),
        "week": tasks(part.week),
        "counts": [list(row) for row in part.counts],
        "today_total": part.today_total,
        "week_total": part.week_total,
    }


def _done_of(kept_part: dict[str, Any]) -> Done:
    def tasks(rows: list[list[Any]]) -> list[DoneTask]:
        return [
            DoneTask(i, title, dt.datetime.fromisoformat(at), *rest) for i, title, at, *rest in rows
        ]

    return Done(
        tasks(kept_part["today"]),
        tasks(kept_part["week"]),
        [DoneCount(*row) for row in kept_part["counts"]],
        kept_part["today_total"],
        kept_part["week_total"],
    )


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in the centre's zone, in UTC, as the timestamps are stored."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=centre_zone()).astimezone(dt.UTC)


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:  # SQLite gives back the stored UTC without its zone
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(centre_zone())


def done(session: Session, user: User, today: dt.date) -> Done:
    """What was done today and this week, by whom, for which family: two queries."""
    day_start = _day_start(today)
    week_start = _day_start(today - dt.timedelta(days=today.weekday()))
    finished = and_(Task.status == "done", Task.closed_at >= week_start, where_visible(Task, user))
    rows = session.execute(
        select(
            Task.id,
            Task.title,
            Task.closed_at,
            Family.surname,
            Task.case_id,
            Staff.last_name,
            Staff.first_name,
            Staff.middle_name,
        )
        .join(Family, Family.id == Task.family_id)
        .outerjoin(Staff, Staff.id == Task.assignee_id)
        .where(finished)
        .order_by(Task.closed_at.desc(), Task.id.desc())
        .limit(DONE_SHOWN)
    )
    lists: dict[bool, list[DoneTask]] = {True: [], False: []}
    for task_id, title, closed_at, surname, case_id, last, first, middle in rows:
        moment = _local(cast(dt.datetime, closed_at))  # a done task has it (a CHECK)
        doer = full_name(last, first, middle) if last else None
        lists[moment.date() >= today].append(
            DoneTask(task_id, title, moment, surname, case_id, doer)
        )
    today_count = func.count().filter(Task.closed_at >= day_start)
    counted = session.execute(
        select(
            Staff.id,
            Staff.last_name,
            Staff.first_name,
            Staff.middle_name,
            Staff.role,
            today_count,
            func.count(),
        )
        .join(Staff, Staff.id == Task.assignee_id)
        .where(finished)
        .group_by(Staff.id, Staff.last_name, Staff.first_name, Staff.middle_name, Staff.role)
        .order_by(func.count().desc(), Staff.last_name, Staff.id)
    ).all()
    counts = [
        DoneCount(staff_id, full_name(last, first, middle), role, int(n_today), int(n_week))
        for staff_id, last, first, middle, role, n_today, n_week in counted
    ]
    return Done(
        lists[True],
        lists[False],
        counts,
        sum(row.today for row in counts),
        sum(row.week for row in counts),
    )


def nobody_to_take(
    session: Session, role: str, district_id: int | None, assignee_id: int | None
) -> list[str]:
    """Why nobody (but the assignee) may take a task of `role` for a family of
    `district_id`: one line per reason, naming the staff it holds for; one query."""
    in_district = exists().where(
        staff_district.c.staff_id == Staff.id, staff_district.c.district_id == district_id
    )
    rows = session.execute(
        select(
            Staff.last_name,
            Staff.first_name,
            Staff.middle_name,
            active_for_new_work(Staff),
            User.id,
            and_(User.active.is_(True), User.role == Staff.role),
            in_district,
        )
        .outerjoin(User, User.staff_id == Staff.id)
        .where(Staff.role == role, Staff.id != (assignee_id or 0))
        .order_by(Staff.last_name, Staff.first_name, Staff.id)
    ).all()
    label = ROLE.label(role)
    if not rows:
        return [f"В центре нет других сотрудников с ролью «{label}»."]
    district = session.get(District, district_id) if district_id else None
    place = f"участку «{district.name}»" if district else "участку семьи"
    reasons = {
        "gone": "больше не работают или в архиве",
        "no_account": "нет учётной записи для входа",
        "account_off": "учётная запись отключена или другой роли",
        "elsewhere": f"не прикреплены к {place}",
    }
    names: dict[str, list[str]] = {key: [] for key in reasons}
    for last, first, middle, live, user_id, account_on, here in rows:
        if not live:
            key = "gone"
        elif not user_id:  # no account (the outer join found none)
            key = "no_account"
        elif not account_on:
            key = "account_off"
        elif district_bound(role) and not here:
            key = "elsewhere"
        else:
            continue
        names[key].append(full_name(last, first, middle))
    return [
        f"{reasons[key]}: {', '.join(found[:NAMES_SHOWN])}"
        + (f" и ещё {len(found) - NAMES_SHOWN}" if len(found) > NAMES_SHOWN else "")
        for key, found in names.items()
        if found
    ]


def staff_tasks(session: Session, user: User, staff_id: int) -> StaffTasks | None:
    """A specialist's name and the open tasks of theirs `user` may see; None when there
    is no such staff member."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        return None
    return StaffTasks(staff.full_name, open_tasks_of(session, user, staff_id))
