"""The coordinator's board as plain data, without HTTP: unassigned tasks and who may take
them, the specialists' load, cases near or past their end.

Each test builds its own world and calls workflows/board.py as the page does.
"""

from __future__ import annotations

import datetime as dt

import factories as f
from sqlalchemy import select
from workflow_factories import TODAY, active_case, specialist

from models import User, db
from workflows import board

CLOSED = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def coordinator() -> User:
    return f.user("coordinator")


def account(staff) -> User:
    return db.session.scalar(select(User).where(User.staff_id == staff.id))


def test_unassigned_tasks_are_counted_by_role_most_urgent_first(app_ctx, monkeypatch):
    """Are unassigned tasks counted per role, and does the board list only the most
    urgent UNASSIGNED_SHOWN of each, earliest due first?"""
    monkeypatch.setattr(board, "UNASSIGNED_SHOWN", 2)
    family = f.family()
    for days in (3, 1, 2):
        f.task(family, title=f"Через {days}", due_date=TODAY + dt.timedelta(days))
    f.task(family, title="Юрист", role="lawyer")
    f.task(family, title="Назначенная", status="assigned", assignee=specialist())
    db.session.flush()
    seen = board.board(db.session, coordinator(), TODAY)
    assert seen.unassigned_counts == {"lawyer": 1, "psychologist": 3}
    assert [row.task.title for row in seen.unassigned["psychologist"]] == ["Через 1", "Через 2"]


def test_candidates_are_the_least_loaded_who_may_take_the_task(app_ctx, monkeypatch):
    """Are a task's candidates the specialists of its role, least loaded first, cut to
    CANDIDATES_SHOWN — and for a district-bound role only those of the family's district?"""
    monkeypatch.setattr(board, "CANDIDATES_SHOWN", 2)
    busy, free, middle = (
        specialist(last_name=name) for name in ("Занятая", "Свободная", "Средняя")
    )
    family = f.family()
    for staff, count in ((busy, 3), (middle, 1)):
        for _ in range(count):
            f.task(family, status="assigned", assignee=staff, due_date=TODAY)
    ours, theirs = f.district(), f.district()
    worker = specialist("district_worker", (ours,), last_name="Участковая")
    specialist("district_worker", (theirs,), last_name="Соседняя")
    f.task(family, title="Психологу")
    f.task(f.family(ours), title="Участковому", role="district_worker")
    db.session.flush()
    seen = board.board(db.session, coordinator(), TODAY)
    (psychologists,) = seen.unassigned["psychologist"]
    assert [c.id for c in psychologists.candidates] == [free.id, middle.id]
    (workers,) = seen.unassigned["district_worker"]
    assert [c.id for c in workers.candidates] == [worker.id]


def test_load_lists_each_role_most_overdue_first(app_ctx):
    """Does the workload table list each role's specialists with their open and overdue
    counts, the most overdue first?"""
    calm, late = specialist(last_name="Спокойная"), specialist(last_name="Опаздывающая")
    family = f.family()
    f.task(family, status="assigned", assignee=calm, due_date=TODAY + dt.timedelta(5))
    for days in (-2, 1):
        f.task(family, status="assigned", assignee=late, due_date=TODAY + dt.timedelta(days))
    db.session.flush()
    load = board.board(db.session, coordinator(), TODAY).load["psychologist"]
    assert [(row.id, row.open, row.overdue) for row in load] == [(late.id, 2, 1), (calm.id, 1, 0)]
    assert load[0].name == late.full_name


def test_ending_cases_are_counted_by_window_and_listed_earliest_first(app_ctx, monkeypatch):
    """Are active cases counted as ending within 30, 14 and 7 days and past their end,
    closed and archived cases left out, and each list cut to ENDING_SHOWN?"""
    monkeypatch.setattr(board, "ENDING_SHOWN", 2)
    lead = specialist("district_worker", last_name="Ведущая")
    ends = {days: active_case(planned_end_date=TODAY + dt.timedelta(days)) for days in (20, 5, 10)}
    ends[-3] = active_case(planned_end_date=TODAY - dt.timedelta(3), lead=lead)
    active_case(planned_end_date=TODAY + dt.timedelta(40))
    active_case(
        planned_end_date=TODAY + dt.timedelta(2),
        status="closed",
        closure_reason="goal_achieved",
        closed_on=TODAY,
    )
    active_case(planned_end_date=TODAY + dt.timedelta(3), archived_at=dt.datetime.now(dt.UTC))
    db.session.flush()
    seen = board.board(db.session, coordinator(), TODAY)
    assert seen.ending_counts == {"d30": 3, "d14": 2, "d7": 1, "past": 1}
    assert [row.id for row in seen.ending] == [ends[5].id, ends[10].id]
    (past,) = seen.past
    assert (past.id, past.lead_worker, past.family_surname) == (
        ends[-3].id,
        lead.full_name,
        ends[-3].family.surname,
    )
    assert seen.ending[0].lead_worker is None


def test_the_board_passes_the_row_scope(app_ctx):
    """Does a district worker's board count only the unassigned tasks and ending cases
    of the cases they may see?"""
    ours, theirs = f.district(), f.district()
    worker = specialist("district_worker", (ours,))
    mine = active_case(ours, planned_end_date=TODAY + dt.timedelta(5))
    other = active_case(theirs, planned_end_date=TODAY + dt.timedelta(5))
    f.task(mine.family, mine, title="Наша")
    f.task(other.family, other, title="Чужая")
    db.session.flush()
    seen = board.board(db.session, account(worker), TODAY)
    assert seen.unassigned_counts == {"psychologist": 1}
    assert [row.id for row in seen.ending] == [mine.id]


def test_a_chosen_specialist_is_named_with_their_open_tasks(app_ctx):
    """Does choosing a specialist give their name and open tasks, and an unknown id
    nothing rather than an error?"""
    staff = specialist(last_name="Выбранная")
    family = f.family()
    f.task(family, title="Открытая", status="assigned", assignee=staff)
    f.task(family, title="Сделанная", status="done", assignee=staff, closed_at=CLOSED)
    db.session.flush()
    chosen = board.staff_tasks(db.session, coordinator(), staff.id)
    assert chosen.name == staff.full_name
    assert [row.title for row in chosen.tasks] == ["Открытая"]
    assert board.staff_tasks(db.session, coordinator(), staff.id + 1000) is None
