"""What does the audit hash chain cost the panel's writes, and how fast do seal and verify go?

A script, not a test:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python tests/bench/bench_audit.py
    python tests/bench/bench_audit.py            # SQLite

It creates a throwaway database and times:
1. WRITES audited writes (a family's surname changed and committed: one UPDATE and its audit
   row), with the chain's id default (xid first, then nextval) and without it (plain nextval),
   in alternating rounds; on SQLite the chain adds nothing to a write, both rows say so;
2. the same writes from WRITERS threads at once, with and without a sealer sealing all the
   time beside them (per-write latency: a writer that waited on the sealer would show here);
3. seal and verify of ROWS audit rows.
Nothing is asserted; the figures are printed.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datetime as dt

from conftest import throwaway_database
from sqlalchemy import insert, select, text
from sqlalchemy.exc import OperationalError

from app import create_app
from models import AuditRecord, District, Family, db
from workflows.audit_chain import seal, verify

WRITES = 2000  # per variant, in ROUNDS rounds
ROUNDS = 4
WRITERS = 4
WRITES_PER_WRITER = 300
ROWS = 100_000
KEY = b"bench-key-" + b"b" * 32

CHAIN_DEFAULT = "audit_record_next_id()"
PLAIN_DEFAULT = "nextval('audit_record_id_seq')"


def set_id_default(expression: str) -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(f"ALTER TABLE audit_record ALTER COLUMN id SET DEFAULT {expression}")
        )
        db.session.commit()


def families(count: int) -> list[int]:
    district = District(name=f"Участок {time.monotonic_ns()}")
    db.session.add(district)
    db.session.flush()
    rows = [
        {
            "surname": f"Семья{i}",
            "district_id": district.id,
            "address": "ул. Ленина",
            "identified_by": "self",
            "status": "registered",
        }
        for i in range(count)
    ]
    db.session.execute(insert(Family), rows)
    db.session.commit()
    return list(db.session.scalars(select(Family.id).where(Family.district_id == district.id)))


RETRIES = [0]  # SQLite's «database is locked» answered to a writer, tried again


def audited_writes(app, family_ids: list[int], count: int) -> list[float]:
    """`count` audited writes, one commit each; the seconds each took (with its retries)."""
    timings = []
    with app.app_context():
        for number in range(count):
            started = time.perf_counter()
            while True:
                try:
                    family = db.session.get(Family, family_ids[number % len(family_ids)])
                    family.surname = f"Семья-{number}-{time.monotonic_ns()}"
                    db.session.commit()
                    break
                except OperationalError:
                    db.session.rollback()
                    RETRIES[0] += 1
                    time.sleep(0.01)
            timings.append(time.perf_counter() - started)
        db.session.remove()
    return timings


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95)]


def bench_single_writer(app, family_ids) -> None:
    results: dict[str, list[float]] = {"с цепочкой": [], "без цепочки": []}
    per_round = WRITES // ROUNDS
    for _round in range(ROUNDS):
        for label, default in (("с цепочкой", CHAIN_DEFAULT), ("без цепочки", PLAIN_DEFAULT)):
            with app.app_context():
                set_id_default(default)
            results[label] += audited_writes(app, family_ids, per_round)
    with app.app_context():
        set_id_default(CHAIN_DEFAULT)
    print(f"\n1. Одна запись с аудитом, один писатель, {WRITES} записей на вариант")
    print("| вариант | медиана, мс | p95, мс | записей в секунду |")
    print("|---|---|---|---|")
    for label, timings in results.items():
        rate = len(timings) / sum(timings)
        print(f"| {label} | {ms(statistics.median(timings))} | {ms(p95(timings))} | {rate:.0f} |")


def writers_run(app, family_ids, with_sealer: bool) -> tuple[list[float], int]:
    """WRITERS threads of audited writes, a sealer sealing without pause beside them or
    not; every write's seconds and how many rows the sealer sealed meanwhile."""
    stop, sealed, timings, lock = threading.Event(), [0], [], threading.Lock()

    def sealer():
        with app.app_context():
            while not stop.is_set():
                sealed[0] += seal(db.engine, KEY, settle_timeout=2.0).sealed

    def writer(index: int):
        mine = family_ids[index::WRITERS]  # no two writers change one family
        result = audited_writes(app, mine, WRITES_PER_WRITER)
        with lock:
            timings.extend(result)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    background = threading.Thread(target=sealer) if with_sealer else None
    for thread in ([background] if background else []) + threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    if background:
        background.join()
    return timings, sealed[0]


def bench_writers_beside_a_sealer(app, family_ids) -> None:
    print(f"\n2. {WRITERS} писателя сразу по {WRITES_PER_WRITER} записей; печать рядом или нет")
    print("| рядом | медиана, мс | p95, мс | max, мс | запечатано за прогон | повторов (SQLite) |")
    print("|---|---|---|---|---|---|")
    for with_sealer in (False, True):
        RETRIES[0] = 0
        timings, sealed = writers_run(app, family_ids, with_sealer)
        label = "печать без перерыва" if with_sealer else "нет"
        print(
            f"| {label} | {ms(statistics.median(timings))} | {ms(p95(timings))} | "
            f"{ms(max(timings))} | {sealed} | {RETRIES[0]} |"
        )


def bench_seal_and_verify(app) -> None:
    with app.app_context():
        seal(db.engine, KEY)  # what the writes above left
        now = dt.datetime.now(dt.UTC)
        for start in range(0, ROWS, 10_000):
            db.session.execute(
                insert(AuditRecord),
                [
                    {
                        "at": now,
                        "username": "bench",
                        "action": "update",
                        "table_name": "family",
                        "row_id": str(i),
                        "changes": {"surname": {"old": f"Было{i}", "new": f"Стало{i}"}},
                    }
                    for i in range(start, start + 10_000)
                ],
            )
            db.session.commit()
        started = time.perf_counter()
        result = seal(db.engine, KEY)
        sealing = time.perf_counter() - started
        started = time.perf_counter()
        verdict = verify(db.engine, KEY)
        checking = time.perf_counter() - started
    print(f"\n3. Печать и проверка {ROWS} записей журнала")
    print("| действие | записей | секунд | записей в секунду |")
    print("|---|---|---|---|")
    print(f"| seal | {result.sealed} | {sealing:.2f} | {result.sealed / sealing:.0f} |")
    print(f"| verify | {verdict.checked} | {checking:.2f} | {verdict.checked / checking:.0f} |")
    assert verdict.ok, verdict.problem


def main() -> None:
    with throwaway_database(Path("/tmp") / f"bench_audit_{time.monotonic_ns()}.sqlite3") as url:
        config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"}
        if url.startswith("sqlite"):  # SQLite's writers queue on its one lock: let them wait
            config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 60}}
        app = create_app(config)
        with app.app_context():
            db.create_all()
            family_ids = families(400)
            dialect = db.engine.dialect.name
        print(f"# Аудит: цена цепочки ({dialect})")
        try:
            bench_single_writer(app, family_ids)
            bench_writers_beside_a_sealer(app, family_ids)
            bench_seal_and_verify(app)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


if __name__ == "__main__":
    main()
