"""Are the kept report parts always what a fresh count gives?

The pilot's tables, the workload report, the board's load and the home page's months are
kept in `kept_figures` with the change counts (`figure_tally`) of the tables they read;
triggers count every change. Each test changes the data one way (the ORM, plain SQL, a
change committed while a part was being counted) and compares what the pages read with a
count made from scratch.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import factories as f
import pytest
from sqlalchemy import select, text, update

from models import AuditRecord, Family, KeptFigures, Task, db
from models.base import utcnow
from models.figures import counted_tables
from models.reference import staff_district
from workflows import board, dashboard, kept, reports

PARAMS = reports.Params(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
TODAY = dt.date(2025, 3, 10)
MIGRATION = Path(__file__).parents[1] / "models/migrations/versions/0025_kept.py"


def _counted(session, key, count, encode=None, decode=None):
    return count()


def fresh(monkeypatch, read):
    """What `read()` gives with nothing kept: every part counted from scratch."""
    with monkeypatch.context() as m:
        for module in (reports, board, dashboard):
            m.setattr(module, "kept", _counted)
        return read()


def pages(user):
    """What the pilot and workload reports, the board and the home page's charts show."""
    result = {
        "pilot": reports.pilot_report(db.session, user, PARAMS).tables,
        "workload": reports.workload_report(db.session, user, PARAMS, TODAY).tables,
        "months": dashboard.cases_by_month(db.session, user, TODAY),
        "loans": dashboard.loans_by_type(db.session, user),
        "board": board.board(db.session, user, TODAY),
    }
    db.session.commit()
    return result


def keys() -> set[str]:
    return {key.split(":")[0] for key in db.session.scalars(select(KeptFigures.key))}


@pytest.fixture
def world(app_ctx):
    """Districts A and B; in A a family with a case, a visit, a task, a loan; a family in B;
    the coordinator and A's district worker."""
    a, b = f.district(name="Участок А"), f.district(name="Участок Б")
    worker = f.user("district_worker", f.staff("district_worker", districts=[a]))
    psychologist = f.staff("psychologist", districts=[a, b])
    f.user("psychologist", psychologist)
    coordinator = f.user("coordinator")
    fa = f.family(a, surname="Алексеевы")
    mother = f.person(fa, "mother")
    child = f.person(fa, "child", birth_date=dt.date(2015, 4, 1))
    case = f.case(fa, mother, lead_worker=worker.staff)
    visit = f.visit(case, worker.staff, visited_on=dt.date(2025, 2, 5))
    task = f.task(fa, case, assignee=psychologist, status="assigned", due_date=dt.date(2025, 4, 1))
    loan = f.loan(f.equipment_unit(), fa, child)
    fb = f.family(b, surname="Борисовы")
    f.case(fb, f.person(fb, "mother"))
    db.session.commit()
    return {
        "coordinator": coordinator,
        "worker": worker,
        "b": b.id,
        "visit": visit.id,
        "task": task.id,
        "loan": loan.id,
        "case": case.id,
        "psychologist": psychologist.id,
    }


def test_each_part_is_kept_and_then_read_without_counting(world, monkeypatch):
    """After one showing, are the pages drawn again without counting anything?"""
    shown = pages(world["coordinator"])
    assert keys() >= {
        *(f"pilot.{part}" for part in ("main", "council", "channels", "events", "referrals")),
        "workload",
        "board.load",
        "board.ending",
        "board.done",
        "home.cases_by_month",
        "home.loans_by_type",
    }

    def counting(*_args, **_kw):
        raise AssertionError("counted although nothing changed")

    for module, name in (
        (reports, "pilot_main"),
        (reports, "workload_table"),
        (board, "staff_load"),
        (dashboard, "count_cases_by_month"),
        (dashboard, "count_loans_by_type"),
    ):
        monkeypatch.setattr(module, name, counting)
    assert pages(world["coordinator"]) == shown


def test_what_is_kept_equals_a_fresh_count(world, monkeypatch):
    """Do the kept reports show the numbers a count from scratch gives, for every role?"""
    for who in ("coordinator", "worker"):
        pages(world[who])  # counted and kept
        assert pages(world[who]) == fresh(monkeypatch, lambda w=who: pages(world[w]))


def _visit_moved_out_of_the_period(w):
    db.session.execute(
        text("UPDATE visit SET visited_on = :day WHERE id = :id"),
        {"day": dt.date(2024, 6, 1), "id": w["visit"]},
    )


def _task_overdue(w):
    db.session.execute(
        text("UPDATE task SET due_date = :day WHERE id = :id"),
        {"day": dt.date(2025, 3, 1), "id": w["task"]},
    )


def _case_archived(w):
    db.session.execute(
        text("UPDATE support_case SET archived_at = CURRENT_TIMESTAMP WHERE id = :id"),
        {"id": w["case"]},
    )


def _loan_archived(w):
    db.session.execute(
        text("UPDATE loan SET archived_at = CURRENT_TIMESTAMP WHERE id = :id"), {"id": w["loan"]}
    )


def _new_task_through_the_orm(w):
    fb = db.session.scalar(select(Family).where(Family.surname == "Борисовы"))
    f.task(fb, assignee_id=w["psychologist"], status="in_progress")


def _task_done_through_the_orm(w):
    task = db.session.get(Task, w["task"])
    task.status, task.closed_at = "done", utcnow()


def _case_ending_soon(w):
    db.session.execute(
        text("UPDATE support_case SET planned_end_date = :day WHERE id = :id"),
        {"day": TODAY + dt.timedelta(days=5), "id": w["case"]},
    )


def _staff_renamed(w):
    db.session.execute(
        text("UPDATE staff SET last_name = 'Петрова' WHERE id = :id"), {"id": w["psychologist"]}
    )


CHANGES = {
    "a visit moved out of the period (plain SQL)": _visit_moved_out_of_the_period,
    "a task now overdue (plain SQL)": _task_overdue,
    "a case archived (plain SQL)": _case_archived,
    "a loan archived (plain SQL)": _loan_archived,
    "a new task (ORM)": _new_task_through_the_orm,
    "a task done (ORM)": _task_done_through_the_orm,
    "a case ending soon (plain SQL)": _case_ending_soon,
    "a specialist renamed (plain SQL)": _staff_renamed,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_is_counted_again(world, monkeypatch, change):
    """After a change by any path, do the pages show the new figures, never the kept ones?"""
    before = pages(world["coordinator"])
    CHANGES[change](world)
    db.session.commit()
    now = fresh(monkeypatch, lambda: pages(world["coordinator"]))
    assert now != before, "the change should change a figure"
    assert pages(world["coordinator"]) == now
    assert pages(world["coordinator"]) == now  # and kept again


def test_a_row_scope_change_is_counted_again(world, monkeypatch):
    """When the district worker is given district B, does their kept report count B too?"""
    worker = world["worker"]
    before = pages(worker)
    db.session.execute(
        staff_district.insert().values(staff_id=worker.staff_id, district_id=world["b"])
    )
    db.session.commit()
    now = fresh(monkeypatch, lambda: pages(worker))
    assert now != before
    assert pages(worker) == now


def test_a_kept_row_of_old_counts_is_never_shown(world):
    """A row kept at counts that are no longer the tables' is counted again, not shown."""
    pages(world["coordinator"])
    _task_overdue(world)
    db.session.commit()
    # The parts that read `task` now hold a fake at their old counts: none may show it.
    db.session.execute(
        update(KeptFigures)
        .where(KeptFigures.versions.isnot(None))
        .where(
            KeptFigures.key.like("workload:%")
            | KeptFigures.key.like("board.load:%")
            | KeptFigures.key.like("board.done:%")
        )
        .values(figures=[["Подделка", 1, 2, 3, 4]])
    )
    db.session.commit()
    workload = reports.workload_report(db.session, world["coordinator"], PARAMS, TODAY)
    assert "Подделка" not in str(workload.tables)
    load = board.centre_load(db.session, TODAY)
    assert all(row.name != "Подделка" for row in load)
    assert board.board(db.session, world["coordinator"], TODAY).done.counts == []


def test_a_change_committed_while_counting_is_counted_next_time(world, monkeypatch):
    """A part counted while a change commits is kept at the counts read before it ran:
    is it counted again on the next read?"""
    user = world["coordinator"]
    counted = reports.workload_table

    def counting_while_a_task_changes(*args):
        table = counted(*args)
        _task_overdue(world)  # committed with the part: after the counts were read
        return table

    monkeypatch.setattr(reports, "workload_table", counting_while_a_task_changes)
    during = reports.workload_report(db.session, user, PARAMS, TODAY).tables
    db.session.commit()
    monkeypatch.setattr(reports, "workload_table", counted)
    after = reports.workload_report(db.session, user, PARAMS, TODAY).tables
    assert after != during
    assert after == fresh(
        monkeypatch, lambda: reports.workload_report(db.session, user, PARAMS, TODAY).tables
    )


def test_a_part_reading_an_uncounted_table_is_not_kept(world):
    """A part that reads a table whose changes nobody counts (or plain text SQL) is counted
    every time, never kept."""
    audited = kept.kept(db.session, "test.audit", lambda: db.session.scalar(select(AuditRecord.id)))
    texted = kept.kept(db.session, "test.text", lambda: db.session.scalar(text("SELECT 1")))
    counted = kept.kept(db.session, "test.tasks", lambda: db.session.scalar(select(Task.id)))
    db.session.commit()
    assert audited is not None  # the world's changes are audited
    assert (texted, counted) == (1, world["task"])
    assert keys() == {"test.tasks"}


def test_a_change_open_in_another_transaction_while_counting(world):
    """A part counted while another user's change is not yet committed (PostgreSQL: they
    run at once): once that commits, is the part counted again?"""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two writers at once need PostgreSQL")
    with db.engine.connect() as other:
        change = other.begin()
        other.execute(
            text("UPDATE task SET due_date = :day WHERE id = :id"),
            {"day": dt.date(2025, 3, 1), "id": world["task"]},
        )
        during = board.centre_load(db.session, TODAY)
        db.session.commit()
        change.commit()
    assert sum(row.overdue for row in during) == 0
    assert sum(row.overdue for row in board.centre_load(db.session, TODAY)) == 1


def test_every_table_of_the_models_is_counted_by_its_trigger(app_ctx):
    """Does every table a part may read have its trigger, and does migration 0025_kept list
    the same tables (a new table needs its trigger in its own migration)?"""
    spec = importlib.util.spec_from_file_location("kept_migration", MIGRATION)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    models = set(counted_tables(db.metadata.tables))
    assert kept.triggered_tables(db.session) == models
    assert set(migration.TABLES) == models
