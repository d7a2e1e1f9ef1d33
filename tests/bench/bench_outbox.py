"""How fast does the outbox's worker deliver, and how much memory does it hold?

A script, not a test:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python tests/bench/bench_outbox.py
    python tests/bench/bench_outbox.py            # SQLite

It creates a throwaway database, puts MESSAGES pending e-mails in the outbox, starts a
real SMTP server (aiosmtpd, port 0, in a thread of this process) and runs the worker
(`workflows.delivery.deliver`) until the outbox is empty: one message, one locked
SELECT … SKIP LOCKED, one send over the kept SMTP connection, one UPDATE and its
audit row, one commit — then again with BATCH messages a transaction. On PostgreSQL
(commits waiting for the disk, as in production) both run again with WORKERS workers.
Printed: throughput and the process's resident memory before the run, at its peak
during it (VmHWM, reset at the start) and after; every message is checked delivered
once. The worker holds one message at a time: its memory does not grow with the outbox.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import throwaway_database
from outbox_servers import smtp_server
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from app import create_app
from models import AuditRecord, District, Family, Message, db
from workflows.delivery import deliver, senders_from

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "10000"))
WORKERS = 2
BATCH = 50  # messages per transaction in the second run of each
DUE = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


def _synchronous(dbapi_connection, _record) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
    dbapi_connection.commit()


def rss_mb(field: str = "VmRSS") -> float:
    """The process's resident memory now (VmRSS) or at its peak since the last
    reset_peak() (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current RSS (Linux 4.0+)


def fill(count: int) -> None:
    db.session.execute(delete(Message))
    district = District(name=f"Участок {time.monotonic_ns()}")
    db.session.add(district)
    db.session.flush()
    family = Family(
        surname="Орловы",
        district_id=district.id,
        address="ул. Ленина",
        identified_by="self",
        status="registered",
        contact_channel="email",
        email="orlovy@example.org",
    )
    db.session.add(family)
    db.session.flush()
    rows = [
        {
            "family_id": family.id,
            "channel": "email",
            "address": f"family{i}@example.org",
            "template_code": "loan_due",
            "event_kind": "loan_due",
            "event_id": i + 1,
            "event_on": dt.date.today() + dt.timedelta(days=3),  # still ahead: it is sent
            "subject": "Скоро срок возврата ТСР",
            "body": "05.01 — срок возврата ТСР (Кресло-коляска детская) в пункт проката КЦСОН. "
            "Если нужно продлить, позвоните в пункт проката.",
            "due_at": DUE,
            "next_attempt_at": DUE,
            "state": "pending",
            "attempts": 0,
            "version": 1,
        }
        for i in range(count)
    ]
    for start in range(0, count, 2000):
        db.session.execute(insert(Message), rows[start : start + 2000])
    db.session.commit()


def run(app, workers: int, batch: int = 1) -> dict:
    with app.app_context():
        fill(MESSAGES)
        audit_before = db.session.scalar(select(func.count()).select_from(AuditRecord))
    with smtp_server(count_only=True) as server:
        config = {"OPORA_SMTP_HOST": "127.0.0.1", "OPORA_SMTP_PORT": server.port}
        rss_before = rss_mb()
        reset_peak()
        tallies = []

        def worker():
            with app.app_context(), Session(db.engine) as session:
                tallies.append(deliver(session, senders_from(config), batch=batch))

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        peak = rss_mb("VmHWM")
        rss_after = rss_mb()
        received = server.count
    with app.app_context():
        sent = db.session.scalar(select(func.count()).where(Message.state == "sent"))
        audit = db.session.scalar(select(func.count()).select_from(AuditRecord)) - audit_before
    assert sent == MESSAGES == received == sum(t.sent for t in tallies), (sent, received)
    return {
        "workers": workers,
        "batch": batch,
        "seconds": elapsed,
        "per_second": MESSAGES / elapsed,
        "peak_mb": peak,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "audit_rows": audit,
    }


def main() -> None:
    with throwaway_database(Path("/tmp") / f"bench_outbox_{os.getpid()}.sqlite3") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                # The throwaway database commits without waiting for the disk; a real
                # one waits: so does the worker here.
                event.listen(db.engine, "connect", _synchronous)
                db.engine.dispose()
            db.create_all()
            dialect = db.engine.dialect.name
        results = [run(app, 1), run(app, 1, BATCH)]
        if dialect == "postgresql":
            results += [run(app, WORKERS), run(app, WORKERS, BATCH)]
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    load = os.getloadavg()[0]
    print(f"{dialect}, {MESSAGES} сообщений, средняя загрузка {load:.1f}")
    print(
        "| база | воркеров | сообщений в транзакции | время, с | сообщений/с | RSS до, МБ | пик RSS, МБ | RSS после, МБ |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {dialect} | {r['workers']} | {r['batch']} | {r['seconds']:.1f} | {r['per_second']:.0f} | "
            f"{r['rss_before']:.0f} | {r['peak_mb']:.0f} | {r['rss_after']:.0f} |"
        )


if __name__ == "__main__":
    main()
