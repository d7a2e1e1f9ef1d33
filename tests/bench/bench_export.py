"""Benchmark (not a test): export 100,000 families to Excel and record time and peak memory.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python tests/bench/bench_export.py

It creates a throwaway database on that server, bulk-inserts the families
(COPY-speed Core inserts, no audit), then measures, each in a fresh Python
process so that one measurement's memory never counts in another's:

- `export`: the real request `/family/export/xlsx/` through the app, as the
  administrator, the response read to the end (10,000 rows — one district —
  and all 100,000 rows);
- `floor`: a bare xlsxwriter constant_memory loop writing the same number of
  rows of six short strings, the least any streamed export can cost.

Peak RSS is the process's high-water mark (VmHWM); «growth» is that peak minus
the resident size just before the export started. Results go to RESULTS.md
next to this file. Without DATABASE_URL it runs on a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

FAMILIES = int(os.environ.get("BENCH_FAMILIES", "100000"))
DISTRICTS = 10
BATCH = 10_000
EXPORT_SECTION = "## Export benchmark (`tests/bench/bench_export.py`)"


def num(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def vm(field: str) -> int:
    """A field of /proc/self/status in kB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def app_for(url: str):
    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
        }
    )


def populate(url: str) -> None:
    """The schema, one administrator, 10 districts and 100,000 families."""
    from sqlalchemy import insert

    from models import District, Family, Staff, User, db

    app = app_for(url)
    with app.app_context():
        db.create_all()
        staff = Staff(
            last_name="Бенчмарк", first_name="Анна", position="администратор", role="admin"
        )
        db.session.add(staff)
        db.session.flush()
        admin = User(username="bench", role="admin", staff_id=staff.id, active=True)
        admin.set_password("bench-password-1")
        db.session.add(admin)
        db.session.add_all(District(name=f"Участок № {n}") for n in range(1, DISTRICTS + 1))
        db.session.commit()
        districts = [d.id for d in db.session.query(District).order_by(District.id)]
        statuses = ("registered", "supported", "deregistered")
        with db.engine.begin() as conn:
            for start in range(0, FAMILIES, BATCH):
                conn.execute(
                    insert(Family.__table__),
                    [
                        {
                            "surname": f"Семья{n:06d}",
                            "district_id": districts[n % DISTRICTS],
                            "address": f"Великий Новгород, ул. Ломоносова, д. {n % 200 + 1}, кв. {n % 90 + 1}",
                            "phone": f"+7 911 {n % 1000:03d}-{n % 100:02d}-{n % 97:02d}",
                            "is_large": n % 7 == 0,
                            "is_low_income": n % 4 == 0,
                            "is_single_parent": n % 5 == 0,
                            "is_foster": n % 50 == 0,
                            "is_dangerous": n % 200 == 0,
                            "identified_by": "self",
                            "status": statuses[n % 3],
                            "version": 1,
                        }
                        for n in range(start, min(start + BATCH, FAMILIES))
                    ],
                )
        db.session.remove()
        db.engine.dispose()


def measure_export(url: str, query: str, out_path: str) -> dict:
    app = app_for(url)
    client = app.test_client()
    response = client.post("/login", data={"username": "bench", "password": "bench-password-1"})
    assert response.status_code == 302, response.status_code
    # Warm up: imports, templates, compiled queries — and one empty export, so that
    # «growth» is what an export costs, not the first import of xlsxwriter.
    client.get("/family/")
    client.get("/family/export/xlsx/?search=нет-такой-семьи").close()
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark (Linux)
    before = vm("VmRSS")
    started = time.perf_counter()
    response = client.get(f"/family/export/xlsx/{query}", buffered=False)
    assert response.status_code == 200, response.status_code
    size = 0
    with open(out_path, "wb") as out:
        for chunk in response.response:
            out.write(chunk)
            size += len(chunk)
    response.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "before_kb": before, "peak_kb": vm("VmHWM"), "bytes": size}


def measure_floor(rows: int, out_path: str) -> dict:
    import xlsxwriter

    Path("/proc/self/clear_refs").write_text("5")
    before = vm("VmRSS")
    started = time.perf_counter()
    book = xlsxwriter.Workbook(out_path, {"constant_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet()
    for n in range(rows):
        for col, value in enumerate(
            (
                f"Семья{n:06d}",
                f"ул. Ломоносова, д. {n % 200}",
                "Участок № 1",
                "малоимущая",
                "на учёте",
                "+7 911",
            )
        ):
            sheet.write_string(n, col, value)
    book.close()
    seconds = time.perf_counter() - started
    size = os.path.getsize(out_path)
    return {"seconds": seconds, "before_kb": before, "peak_kb": vm("VmHWM"), "bytes": size}


def child(*args: str) -> dict:
    """Run one measurement in a fresh interpreter and return its figures."""
    result = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def data_rows(path: str) -> int:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True).active
    return sum(1 for _ in sheet.iter_rows(min_row=4, values_only=True))


def throwaway(server_url: str):
    from sqlalchemy import create_engine, make_url, text

    server = make_url(server_url)
    name = f"opora_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--export", nargs=3, metavar=("URL", "QUERY", "OUT"))
    parser.add_argument("--floor", nargs=2, metavar=("ROWS", "OUT"))
    args = parser.parse_args()
    if args.export:
        print(json.dumps(measure_export(*args.export)))
        return
    if args.floor:
        print(json.dumps(measure_floor(int(args.floor[0]), args.floor[1])))
        return

    from app import database_url

    tmp = Path(tempfile.mkdtemp(prefix="opora-bench-"))
    if os.environ.get("DATABASE_URL"):
        url, drop = throwaway(database_url())
        engine_name = "PostgreSQL"
    else:
        url, drop = f"sqlite:///{tmp / 'bench.sqlite3'}", lambda: None
        engine_name = "SQLite"
    try:
        started = time.perf_counter()
        populate(url)
        load_seconds = time.perf_counter() - started
        runs = []
        for label, query, rows in (
            (
                "export, one district",
                "?flt0_district_name_equals=Участок № 1",
                FAMILIES // DISTRICTS,
            ),
            ("export, all families", "", FAMILIES),
        ):
            out = str(tmp / f"export-{rows}.xlsx")
            figures = child("--export", url, query, out)
            figures["rows"] = data_rows(out)
            assert figures["rows"] == rows, (label, figures["rows"])
            runs.append((label, figures))
        for rows in (FAMILIES // DISTRICTS, FAMILIES):
            out = str(tmp / f"floor-{rows}.xlsx")
            figures = child("--floor", str(rows), out)
            figures["rows"] = rows
            runs.append((f"floor: bare xlsxwriter constant_memory, {num(rows)} rows", figures))
    finally:
        drop()
    write_results(engine_name, load_seconds, runs)


def write_results(engine_name: str, load_seconds: float, runs) -> None:
    import platform

    lines = [
        EXPORT_SECTION,
        "",
        f"`tests/bench/bench_export.py` on {engine_name}, {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} CPU cores (load average {os.getloadavg()[0]:.1f}), Python "
        f"{platform.python_version()}. {num(FAMILIES)} families bulk-inserted in "
        f"{load_seconds:.1f} s.",
        "Each line is a fresh process; peak is its resident high-water mark, growth is the peak "
        "minus the resident size just before the export began.",
        "",
        "| run | rows | time, s | RSS before, MB | peak RSS, MB | growth, MB | file, MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in runs:
        lines.append(
            f"| {label} | {num(r['rows'])} | {r['seconds']:.1f} | {r['before_kb'] / 1024:.0f} | "
            f"{r['peak_kb'] / 1024:.0f} | {(r['peak_kb'] - r['before_kb']) / 1024:.0f} | "
            f"{r['bytes'] / 1024 / 1024:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    # The page benchmark's sections come first; this one is the file's last, replaced.
    results = HERE / "RESULTS.md"
    previous = results.read_text() if results.exists() else "# Benchmark results\n"
    results.write_text(previous.split(EXPORT_SECTION)[0].rstrip() + "\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
