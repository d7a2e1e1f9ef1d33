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


def test_work_done_today_and_this_week_by_whom_and_for_which_family(app_ctx):
    """Does the board list the tasks done today and earlier this week (latest first, with
    the doer and the family), count each specialist's, and leave out last week's, the
    cancelled and those out of the user's scope?"""
    wednesday = TODAY + dt.timedelta(days=2)  # TODAY is a Monday
    at = lambda day, hour: dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)  # noqa: E731
    ours, theirs = f.district(), f.district()
    worker = specialist("district_worker", (ours,), last_name="Участковая")
    other = specialist("psychologist", last_name="Психолог")
    family, far = f.family(ours, surname="Ближние"), f.family(theirs, surname="Дальние")
    f.task(family, title="Сегодня", status="done", assignee=worker, closed_at=at(wednesday, 9))
    f.task(family, title="Понедельник", status="done", assignee=worker, closed_at=at(TODAY, 9))
    f.task(family, title="Вторник", status="done", assignee=other, closed_at=at(TODAY, 12))
    f.task(far, title="Чужая", status="done", assignee=other, closed_at=at(wednesday, 8))
    f.task(family, title="Прошлая неделя", status="done", assignee=worker, closed_at=CLOSED)
    f.task(family, title="Отменена", status="cancelled", closed_at=at(wednesday, 7))
    db.session.flush()
    seen = board.done(db.session, coordinator(), wednesday)
    assert [(t.title, t.doer, t.family_surname) for t in seen.today] == [
        ("Сегодня", "Участковая Анна Сергеевна", "Ближние"),
        ("Чужая", "Психолог Анна Сергеевна", "Дальние"),
    ]
    assert [t.title for t in seen.week] == ["Вторник", "Понедельник"]
    assert {(c.name.split()[0], c.today, c.week) for c in seen.counts} == {
        ("Участковая", 1, 2),
        ("Психолог", 1, 2),
    }
    assert (seen.today_total, seen.week_total) == (2, 4)
    # A district worker sees only the work done for the families of their district.
    scoped = board.done(db.session, account(worker), wednesday)
    assert "Чужая" not in [t.title for t in scoped.today]


def test_an_empty_reassignment_list_says_why(app_ctx):
    """When nobody may take a task over, does the board say of each colleague why: no
    login account, not in the family's district, not working?"""
    ours, theirs = f.district(name="Северный"), f.district()
    holder = specialist("district_worker", (ours,), last_name="Держит")
    specialist("district_worker", (theirs,), last_name="Соседняя")
    specialist("district_worker", (ours,), active=False, last_name="Ушедшая")
    specialist("district_worker", (ours,), account_active=False, last_name="Отключённая")
    f.staff("district_worker", districts=(ours,), last_name="Безучётки")
    db.session.flush()
    lines = board.nobody_to_take(db.session, "district_worker", ours.id, holder.id)
    text = "\n".join(lines)
    assert "не прикреплены к участку «Северный»: Соседняя" in text
    assert "нет учётной записи для входа: Безучётки" in text
    assert "больше не работают или в архиве: Ушедшая" in text
    assert "учётная запись отключена или другой роли: Отключённая" in text
    assert "Держит" not in text
    assert board.nobody_to_take(db.session, "lawyer", ours.id, None) == [
        "В центре нет других сотрудников с ролью «юрист»."
    ]


def test_the_board_page_shows_work_done_and_why_nobody_can_take_over(app):
    """Does the board page list today's done task with its doer and the per-specialist
    counts, and a task's page say why its reassignment list is empty?"""
    from conftest import make_user, signed_in

    with app.app_context():
        area = f.district(name="Южный")
        worker = specialist("district_worker", (area,), last_name="Участковая")
        family = f.family(area, surname="Ближние")
        done = f.task(
            family,
            title="Визит проведён",
            status="done",
            assignee=worker,
            closed_at=dt.datetime.now(dt.UTC),
        )
        held = f.task(
            family, title="Ждёт", role="district_worker", status="assigned", assignee=worker
        )
        make_user("coordinator", username="boss")
        db.session.commit()
        done_id, held_id = done.id, held.id
    client = signed_in(app, "boss")
    page = client.get("/board/").get_data(as_text=True)
    assert f'id="done-task-{done_id}"' in page and "Участковая Анна Сергеевна" in page
    assert 'id="done-counts"' in page
    task_page = client.get(f"/board/task/{held_id}").get_data(as_text=True)
    assert 'id="nobody-to-take"' in task_page
    assert "В центре нет других сотрудников с ролью «участковый социальный работник»." in task_page
