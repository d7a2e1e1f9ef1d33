"""The referral list and the pilot report (issue 14) on a generated region, on SQLite and
PostgreSQL (run by hand, not by pytest).

    python tests/bench/bench_pilot.py --families 20000 [--databases sqlite,postgresql]

For each database a new one is migrated and loaded by this tree (`flask seed --families
N`: families, cases, referrals of the active cases, events with their families and
children, volunteers, the budget), then the panel is served in-process (Flask's test
client: the application's own time, no HTTP server) and the pages are timed as the
coordinator and as the district worker of the largest district: the referral list, the
pilot report for the year so far (its twelve tables) and its .xlsx. Median and p95 over
--requests requests after a warm-up; the figures are printed and added to
tests/bench/RESULTS.md. The PostgreSQL database is created on BENCH_DATABASE_URL's server
and dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = HERE / "RESULTS.md"
SERVER_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


@contextlib.contextmanager
def database(kind: str, folder: Path):
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    from sqlalchemy import create_engine, make_url, text

    server = make_url(SERVER_URL)
    name = f"opora_bench_pilot_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def signed_in(app, username: str, password: str):
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data()).group(1).decode()
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    if response.status_code != 302:
        sys.exit(f"cannot sign in as {username}")
    return client


def timed(client, path: str, count: int) -> tuple[float, float, int]:
    client.get(path)  # warm-up
    times, status = [], 200
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code if response.status_code != 200 else status
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, status


def measure(kind: str, families: int, requests: int, folder: Path) -> tuple[dict, dict]:
    import flask_migrate
    from sqlalchemy import func, select

    from app import create_app
    from models import Event, EventAttendance, Family, Referral, User, db
    from models.reference import staff_district
    from seed import scale
    from seed.reference import load_reference

    with database(kind, folder) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            flask_migrate.upgrade(directory=str(ROOT / "models" / "migrations"))
            load_reference()
            started = time.monotonic()
            scale.load_scale(families)
            loaded = time.monotonic() - started
            counts = {
                "referrals": db.session.scalar(select(func.count()).select_from(Referral)),
                "events": db.session.scalar(select(func.count()).select_from(Event)),
                "attendances": db.session.scalar(select(func.count()).select_from(EventAttendance)),
                "load_s": round(loaded),
            }
            worker = db.session.execute(
                select(User.username)
                .join(staff_district, staff_district.c.staff_id == User.staff_id)
                .join(Family, Family.district_id == staff_district.c.district_id)
                .where(User.role == "district_worker")
                .group_by(User.username)
                .order_by(func.count().desc())
                .limit(1)
            ).scalar_one()
            coordinator = db.session.scalar(
                select(User.username).where(User.role == "coordinator").limit(1)
            )
            db.session.remove()
        today = dt.date.today()
        period = f"date_from={today.replace(month=1, day=1)}&date_to={today}"
        pages = {
            "Направления партнёрам, стр. 1": "/referral/",
            "Отчёт «Ход пилотного проекта» за год": f"/reports/pilot/?{period}",
            "Он же, .xlsx": f"/reports/pilot/xlsx?{period}",
        }
        figures = {}
        for who, username in (("координатор", coordinator), ("участковый", worker)):
            client = signed_in(app, username, scale.SCALE_PASSWORD)
            for title, path in pages.items():
                figures[(title, who)] = timed(client, path, requests)
                print(kind, title, who, *(f"{v:.0f}" for v in figures[(title, who)][:2]))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return figures, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.databases.split(","):
            results[kind] = measure(kind, args.families, args.requests, Path(folder))
    load = os.getloadavg()[0]
    lines = [
        f"## Pilot report and referrals benchmark (`tests/bench/bench_pilot.py`) — "
        f"{dt.date.today():%Y-%m-%d}, {args.families:,} families, load average {load:.0f}",
        "",
        "In-process (Flask test client: the application's time without an HTTP server), "
        f"median / p95 over {args.requests} requests after a warm-up, ms.",
        "",
        "| страница | кто | " + " | ".join(results) + " |",
        "|---|---|" + "---|" * len(results),
    ]
    keys = next(iter(results.values()))[0]
    for title, who in keys:
        cells = []
        for figures, _counts in results.values():
            median, p95, status = figures[(title, who)]
            cells.append(f"{median:.0f} / {p95:.0f}" + ("" if status == 200 else f" ({status})"))
        lines.append(f"| {title} | {who} | " + " | ".join(cells) + " |")
    lines.append("")
    for kind, (_figures, counts) in results.items():
        lines.append(
            f"{kind}: loaded in {counts['load_s']} s; {counts['referrals']:,} referrals, "
            f"{counts['events']:,} events, {counts['attendances']:,} family attendances."
        )
    text = "\n".join(lines)
    print(text)
    previous = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    RESULTS.write_text(previous.rstrip() + "\n\n" + text + "\n")


if __name__ == "__main__":
    main()
