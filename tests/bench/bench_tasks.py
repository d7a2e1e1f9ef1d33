"""How long do auto-assignment, «Мои задачи» and the board's figures take at regional scale?

A script, not a test:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python tests/bench/bench_tasks.py

It creates a throwaway database, fills it with STAFF specialists, FAMILIES families with
active cases and TASKS tasks (a third of them open, some overdue) with plain INSERTs, then times
each query (best of five runs) and prints the figures. Nothing is asserted.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import throwaway_database
from sqlalchemy import func, insert, select

from app import create_app
from models import Case, District, Family, Person, Staff, Task, User, db
from models.reference import staff_district
from workflows import tasks as t

STAFF = 200
FAMILIES = 20_000
TASKS = 200_000
TODAY = dt.date(2025, 6, 1)
ROLES = ("district_worker", "psychologist", "social_pedagogue", "social_worker", "lawyer", "nurse")


def fill() -> None:
    rng = random.Random(7)
    db.session.execute(insert(District), [{"name": f"Участок {i}"} for i in range(1, 41)])
    staff = [
        {
            "last_name": f"Сотрудник{i}",
            "first_name": "Анна",
            "position": "специалист",
            "role": ROLES[i % len(ROLES)],
            "active": i % 17 != 0,
        }
        for i in range(STAFF)
    ]
    db.session.execute(insert(Staff), staff)
    staff_ids = db.session.scalars(select(Staff.id).order_by(Staff.id)).all()
    roles = dict(db.session.execute(select(Staff.id, Staff.role)).all())
    db.session.execute(
        insert(User),
        [
            {
                "username": f"u{sid}",
                "password_hash": "x",
                "role": roles[sid],
                "staff_id": sid,
                "active": sid % 13 != 0,
            }
            for sid in staff_ids
        ],
    )
    db.session.execute(
        insert(staff_district),
        [{"staff_id": sid, "district_id": 1 + sid % 40} for sid in staff_ids],
    )
    db.session.execute(
        insert(Family),
        [
            {
                "surname": f"Семья{i}",
                "district_id": 1 + i % 40,
                "address": "ул. Ленина",
                "identified_by": "self",
                "status": "registered",
            }
            for i in range(FAMILIES)
        ],
    )
    family_ids = db.session.scalars(select(Family.id).order_by(Family.id)).all()
    db.session.execute(
        insert(Person),
        [
            {
                "family_id": fid,
                "last_name": "Мать",
                "first_name": "Анна",
                "birth_date": dt.date(1985, 1, 1),
                "sex": "f",
                "relation": "mother",
                "disability_status": "none",
            }
            for fid in family_ids
        ],
    )
    mothers = dict(db.session.execute(select(Person.family_id, Person.id)).all())
    db.session.execute(
        insert(Case),
        [
            {
                "family_id": fid,
                "applicant_id": mothers[fid],
                "application_date": dt.date(2025, 1, 10),
                "start_date": TODAY - dt.timedelta(days=rng.randint(0, 170)),
                "planned_end_date": None,
                "status": "active",
                "lead_worker_id": rng.choice(staff_ids),
            }
            for fid in family_ids
        ],
    )
    db.session.execute(
        Case.__table__.update().values(planned_end_date=Case.start_date + dt.timedelta(days=180))
    )
    rows = []
    for _ in range(TASKS):
        sid = rng.choice(staff_ids)
        status = rng.choices(("assigned", "in_progress", "done"), (2, 1, 6))[0]
        rows.append(
            {
                "family_id": rng.choice(family_ids),
                "title": "Задача",
                "role": roles[sid],
                "assignee_id": sid,
                "status": status,
                "due_date": TODAY + dt.timedelta(days=rng.randint(-60, 60)),
                "closed_at": dt.datetime(2025, 5, 1, tzinfo=dt.UTC) if status == "done" else None,
            }
        )
    db.session.execute(insert(Task), rows)
    db.session.commit()


def best(label: str, run, repeat: int = 5) -> None:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(f"{label:<55} {min(times) * 1000:8.1f} ms")


def main() -> None:
    with throwaway_database(Path("/tmp/opora-bench-tasks.sqlite3")) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            start = time.perf_counter()
            fill()
            if db.engine.dialect.name == "postgresql":
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
            print(
                f"{db.engine.dialect.name}: {STAFF} staff, {FAMILIES} active cases, "
                f"{TASKS} tasks (filled in {time.perf_counter() - start:.0f} s)"
            )
            someone = db.session.scalar(select(Staff.id).where(Staff.role == "psychologist"))
            best(
                "pick_assignee (district worker, one district)",
                lambda: t.pick_assignee(db.session, "district_worker", 5, TODAY),
            )
            best(
                "pick_assignee (psychologist, whole centre)",
                lambda: t.pick_assignee(db.session, "psychologist", 5, TODAY),
            )
            best(
                "workload of every specialist (board)",
                lambda: db.session.execute(
                    t.workload(TODAY, select(Staff.id).where(Staff.active.is_(True)))
                ).all(),
            )
            best(
                "one specialist's open tasks («Мои задачи»)",
                lambda: db.session.scalars(
                    select(Task)
                    .where(Task.assignee_id == someone, t.is_open())
                    .order_by(Task.due_date)
                ).all(),
            )
            best(
                "cases ending within 30/14/7 days and past (board)",
                lambda: db.session.execute(
                    select(
                        *(
                            func.count().filter(
                                Case.planned_end_date.between(TODAY, TODAY + dt.timedelta(n))
                            )
                            for n in (30, 14, 7)
                        ),
                        func.count().filter(Case.planned_end_date < TODAY),
                    ).where(Case.status == "active")
                ).one(),
            )
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
