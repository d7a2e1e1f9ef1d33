"""Page latency of the panel on the regional data set (run by hand, not by pytest).

    python tests/bench/bench_pages.py            # a throwaway database, loaded and dropped

It creates a PostgreSQL database on the server of BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, loads the data set
(`flask seed --scale regional`, or `--families N`), starts the panel under
gunicorn, signs in as a district worker (full row scope of the largest
district), the coordinator and the busiest specialist, and times every page of
the table PAGES: median and p95 over --requests requests after a warm-up. It
times the families' Excel export with the worker's peak RSS next to a bare
xlsxwriter constant_memory loop over the same rows (the floor). A page that
answers anything but 200 is reported as MISSING. The figures are printed and
added to tests/bench/RESULTS.md with the date and the machine.

--keep keeps the database (its name is printed); --reuse NAME benchmarks an
existing loaded database without loading it again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
VENV_BIN = Path(sys.executable).parent
SERVER_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Issue 18's targets: a region on PostgreSQL (median and p95, ms) and from 1,000,000
# families a country (p95 only).
NATIONAL = 1_000_000
TARGETS = {"regional": (30, 60), "national": (None, 100)}


def targets(families: int) -> tuple[int | None, int]:
    return TARGETS["national" if families >= NATIONAL else "regional"]


def target_text(families: int) -> str:
    median, p95 = targets(families)
    return (f"медиана ≤ {median} мс, " if median else "") + f"p95 ≤ {p95} мс"


# (what is measured, who asks, URL). {names} are filled from the loaded data.
PAGES: list[tuple[str, str, str]] = [
    ("Семьи, стр. 1", "worker", "{panel}family/"),
    ("Семьи, стр. 1", "coordinator", "{panel}family/"),
    ("Семьи, последняя стр. участка", "worker", "{panel}family/?page={worker_last_page}"),
    ("Семьи, стр. 1000 («Далее»)", "coordinator", "{panel}family/?page=999&after={deep_cursor}"),
    ("Семьи, стр. 1000 (номер)", "coordinator", "{panel}family/?page=999"),
    ("Члены семей по фамилии", "worker", "{panel}person/?sort=0"),
    ("Члены семей по фамилии", "coordinator", "{panel}person/?sort=0"),
    ("Поиск по фамилии (члены семей)", "worker", "{panel}person/?search={surname}"),
    ("Поиск по фамилии (члены семей)", "coordinator", "{panel}person/?search={surname}"),
    ("Поиск по фамилии (семьи)", "coordinator", "{panel}family/?search={surname}"),
    ("Фильтр: участок и малоимущие", "coordinator", "{panel}family/?{district_filter}"),
    ("Фильтр: малоимущие", "worker", "{panel}family/?{category_filter}"),
    ("Страница семьи (члены, случаи, выдачи)", "worker", "{panel}family/details/?id={family_id}"),
    (
        "Страница семьи (члены, случаи, выдачи)",
        "coordinator",
        "{panel}family/details/?id={family_id}",
    ),
    ("Страница случая", "coordinator", "{panel}case/details/?id={case_id}"),
    ("Новое обращение: поиск «Иванов»", "coordinator", "{panel}intake/?surname={intake_surname}"),
    (
        "Прокат: выдача, ребёнок по фамилии",
        "clerk",
        "{panel}rental_desk/lend/{unit_id}/?q={surname}",
    ),
    ("Прокат: очередь, семья по фамилии", "clerk", "{panel}rental_desk/queue/?q={surname}"),
    (
        "Выбор семьи в форме (ajax)",
        "coordinator",
        "{panel}case/ajax/lookup/?name=family&query={surname}",
    ),
    (
        "Выбор человека в форме (ajax)",
        "coordinator",
        "{panel}consent/ajax/lookup/?name=person&query={surname}",
    ),
    ("Случаи сопровождения", "coordinator", "{panel}case/"),
    ("Задачи", "coordinator", "{panel}task/"),
    ("Выдачи", "coordinator", "{panel}loan/"),
    ("Направления партнёрам", "coordinator", "{panel}referral/"),
    ("Направления партнёрам", "worker", "{panel}referral/"),
    ("Мероприятия проекта", "coordinator", "{panel}event/"),
    # Pages other branches build (missing until the merge).
    ("«Мои задачи» занятого специалиста", "specialist", "{panel}my_tasks/"),
    ("Доска координатора", "coordinator", "{panel}board/"),
    ("Главная (дашборд)", "coordinator", "{panel}"),
    ("Главная (дашборд)", "worker", "{panel}"),
    ("Отчёт: пилот", "coordinator", "{panel}reports/pilot/"),
    ("Отчёт: пилот", "worker", "{panel}reports/pilot/"),
    ("Отчёт: регион", "coordinator", "{panel}reports/regional/"),
    ("Отчёт: соглашения", "coordinator", "{panel}reports/agreements/"),
    ("Отчёт: прокат", "coordinator", "{panel}reports/rental/"),
    ("Отчёт: нагрузка", "coordinator", "{panel}reports/workload/"),
    ("Координационный совет: заседания", "worker", "{panel}council/"),
    ("Координационный совет: заседания", "coordinator", "{panel}council/"),
    ("Заседание совета (участники, случаи, решения)", "worker", "{panel}council/{meeting_id}"),
    ("Протокол заседания", "coordinator", "{panel}council/{meeting_id}/protocol"),
]
EXPORT_URL = "{panel}family/export/xlsx/"


def run(args: list[str], env: dict) -> str:
    result = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def psql_url(url: str, database: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))


def sql(url: str, query: str, autocommit: bool = False):
    import psycopg

    with psycopg.connect(url, autocommit=autocommit) as conn:
        cursor = conn.execute(query)
        return cursor.fetchall() if cursor.description else None


class Browser:
    """A signed-in user: cookies and the CSRF token of the sign-in form."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=600) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def login(self, username: str, password: str) -> None:
        _, page = self.get("/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        data = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf_token": token}
        ).encode()
        with self.opener.open(self.base + "/login", data=data, timeout=60) as response:
            if "/login" in response.url:
                sys.exit(f"cannot sign in as {username}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_pids(master: int) -> list[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the gunicorn workers so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def fill(url: str, names: dict) -> str:
    return url.format(**names)


def bench_names(database_url: str, app_env: dict) -> dict:
    """Users and URL parts taken from the loaded data."""
    sys.path.insert(0, str(ROOT))
    os.environ.update(app_env)
    from sqlalchemy import func, select

    from admin_views.paging import encode_cursor
    from app import create_app
    from models import (
        Case,
        CouncilMeeting,
        District,
        EquipmentUnit,
        Family,
        Loan,
        Person,
        Task,
        User,
        db,
    )
    from models.reference import staff_district

    app = create_app()
    # The contract's URLs say /admin/…; the panel's root is wherever the Admin is mounted.
    names: dict = {"panel": app.extensions["admin"][0].url.rstrip("/") + "/"}
    with app.test_request_context():
        session = db.session
        # The district worker of the largest district: the heaviest row scope.
        worker = session.execute(
            select(User.username, staff_district.c.district_id, func.count())
            .join(staff_district, staff_district.c.staff_id == User.staff_id)
            .join(Family, Family.district_id == staff_district.c.district_id)
            .where(User.role == "district_worker", Family.archived_at.is_(None))
            .group_by(User.username, staff_district.c.district_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        names["worker"], district_id, district_families = worker
        names["families"] = session.scalar(
            select(func.count()).select_from(Family).where(Family.archived_at.is_(None))
        )
        # The worker's district's latest council meeting (the generator holds one a month).
        names["meeting_id"] = session.scalar(
            select(CouncilMeeting.id)
            .where(CouncilMeeting.district_id == district_id)
            .order_by(CouncilMeeting.held_on.desc())
            .limit(1)
        )
        names["worker_last_page"] = max(0, (district_families - 1) // 25)
        specialist = session.execute(
            select(User.username, func.count())
            .join(Task, Task.assignee_id == User.staff_id)
            .where(Task.status.in_(("assigned", "in_progress")))
            .where(User.role != "district_worker")
            .group_by(User.username)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        names["specialist"], names["specialist_tasks"] = specialist
        names["coordinator"] = session.scalar(
            select(User.username).where(User.role == "coordinator").order_by(User.id).limit(1)
        )
        # The «Далее» link of page 999 of the coordinator's family list.
        last = session.execute(
            select(Family.surname, Family.id)
            .where(Family.archived_at.is_(None))
            .order_by(Family.surname, Family.id)
            .offset(999 * 25 - 1)
            .limit(1)
        ).one()
        names["deep_cursor"] = encode_cursor(
            "family::0", [Family.__table__.c.surname, Family.__table__.c.id], last
        )
        names["surname"] = urllib.parse.quote(
            session.scalar(
                select(Person.last_name)
                .group_by(Person.last_name)
                .order_by(func.count().desc())
                .limit(1)
            )[:5].lower()
        )
        view = next(
            v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "family"
        )
        args = {}
        for index, flt in enumerate(view._filters):
            label, operation = str(flt.name), str(flt.operation())
            if label == "Участок" and operation == "равно":
                args.setdefault("district", view.get_filter_arg(index, flt))
            if label == "Малоимущая" and operation == "равно":
                args.setdefault("low", view.get_filter_arg(index, flt))
        district_name = session.get(District, district_id).name
        names["district_filter"] = urllib.parse.urlencode(
            [(f"flt0_{args['district']}", district_name), (f"flt1_{args['low']}", "1")]
        )
        names["category_filter"] = urllib.parse.urlencode([(f"flt0_{args['low']}", "1")])
        in_district = (Family.district_id == district_id, Family.archived_at.is_(None))
        names["family_id"] = session.scalar(
            select(Family.id)
            .where(*in_district, Family.id.in_(select(Case.family_id)))
            .where(Family.id.in_(select(Loan.family_id)))
            .limit(1)
        ) or session.scalar(select(Family.id).where(*in_district).limit(1))
        # The family's open case; the clerk; a free unit to lend; the intake's surname.
        names["case_id"] = session.scalar(
            select(Case.id)
            .where(Case.family_id == names["family_id"], Case.status != "closed")
            .order_by(Case.id)
            .limit(1)
        ) or session.scalar(select(Case.id).where(Case.status != "closed").order_by(Case.id))
        names["clerk"] = session.scalar(
            select(User.username).where(User.role == "rental_clerk").order_by(User.id).limit(1)
        )
        names["unit_id"] = session.scalar(
            select(EquipmentUnit.id)
            .where(EquipmentUnit.status == "available", EquipmentUnit.archived_at.is_(None))
            .order_by(EquipmentUnit.id)
            .limit(1)
        )
        names["intake_surname"] = urllib.parse.quote("Иванов")
        db.session.remove()
        db.engine.dispose()
    return names


def xlsx_floor(database_url: str) -> tuple[float, int]:
    """Seconds a bare xlsxwriter constant_memory loop takes for the families' list rows."""
    import psycopg
    import xlsxwriter

    started = time.monotonic()
    rows = 0
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as target:
        book = xlsxwriter.Workbook(
            target.name, {"constant_memory": True, "strings_to_formulas": False}
        )
        sheet = book.add_worksheet()
        with psycopg.connect(database_url) as conn, conn.cursor(name="floor") as cursor:
            cursor.itersize = 5000
            cursor.execute(
                "SELECT f.surname, f.address, d.name, f.is_large, f.is_low_income, "
                "f.is_single_parent, f.is_foster, f.is_dangerous, f.status, f.phone "
                "FROM family f JOIN district d ON d.id = f.district_id "
                "WHERE f.archived_at IS NULL ORDER BY f.surname, f.id"
            )
            for row in cursor:
                for col, value in enumerate(row):
                    sheet.write(rows, col, value)
                rows += 1
        book.close()
    return time.monotonic() - started, rows


def measure(browser: Browser, path: str, count: int, pids: list[int]):
    """(status, latencies in ms, server CPU ms per request) of `count` requests after a warm-up.

    The server's CPU time per request does not grow when other processes share
    the machine; the latency does.
    """
    status, _ = browser.get(path)
    if status != 200:
        return status, [], 0.0
    for _ in range(2):
        browser.get(path)
    times = []
    cpu_before = cpu_seconds(pids)
    for _ in range(count):
        started = time.perf_counter()
        status, _ = browser.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return status, times, (cpu_seconds(pids) - cpu_before) * 1000 / count


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().split()[1]
    postgres = subprocess.run(
        ["psql", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"{platform.node()}: {os.cpu_count()} CPU ({cpu}), {int(memory) // 1024 // 1024} GB RAM, "
        f"Python {platform.python_version()}, {postgres}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=76_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse")
    options = parser.parse_args()

    database = options.reuse or f"opora_bench_{os.getpid()}"
    database_url = psql_url(SERVER_URL, database)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret",
        "PYTHONPATH": str(ROOT),
    }
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    if not options.reuse:
        sql(SERVER_URL, f'CREATE DATABASE "{database}"', autocommit=True)
    gunicorn = None
    try:
        loading = "набор загружен ранее (--reuse)"
        if not options.reuse:
            run([*flask, "db", "upgrade"], env)
            started = time.monotonic()
            print(run([*flask, "seed", "--families", str(options.families)], env))
            loading = f"загрузка набора {time.monotonic() - started:.0f} с"
            print(loading)
        names = bench_names(database_url, env)
        families = names["families"]  # as loaded (with --reuse, not the --families default)
        from seed.scale import SCALE_PASSWORD

        port = free_port()
        gunicorn = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-w", str(options.workers), "-b", f"127.0.0.1:{port}",
             "--timeout", "600", "app:create_app()"],
            env=env, cwd=ROOT, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        browsers = {}
        for who in ("worker", "coordinator", "specialist", "clerk"):
            browsers[who] = Browser(base)
            browsers[who].login(names[who], SCALE_PASSWORD)

        lines = [
            "| страница | кто | URL | медиана, мс | p95, мс | CPU сервера, мс | цель |",
            "|---|---|---|---|---|---|---|",
        ]
        missing = []
        for title, who, url in PAGES:
            path = fill(url, names)
            status, times, cpu = measure(
                browsers[who], path, options.requests, worker_pids(gunicorn.pid)
            )
            shown = url.replace("{panel}", names["panel"])
            if status != 200:
                missing.append(f"{shown} ({status})")
                lines.append(f"| {title} | {who} | `{shown}` | MISSING ({status}) | | | |")
                print(f"!!! MISSING {status}: {title} {path}")
                continue
            median, p95 = statistics.median(times), percentile(times, 0.95)
            target_median, target_p95 = targets(families)
            ok = (target_median is None or median <= target_median) and p95 <= target_p95
            lines.append(
                f"| {title} | {who} | `{shown}` | {median:.1f} | {p95:.1f} | {cpu:.1f} | "
                f"{'да' if ok else 'НЕТ'} |"
            )
            print(
                f"{title:40} {who:12} median {median:6.1f} ms  p95 {p95:6.1f} ms  cpu {cpu:5.1f} ms"
            )

        floor, floor_rows = xlsx_floor(database_url)
        pids = worker_pids(gunicorn.pid)
        before = {pid: peak_rss_mb(pid) for pid in pids}
        started = time.monotonic()
        export_path = fill(EXPORT_URL, names)
        status, body = browsers["coordinator"].get(export_path)
        export_seconds = time.monotonic() - started
        after = {pid: peak_rss_mb(pid) for pid in worker_pids(gunicorn.pid)}
        if status == 200 and body[:2] == b"PK":  # an .xlsx is a zip file
            export = (
                f"Экспорт семей в Excel (`{export_path}`): {export_seconds:.1f} с, "
                f"{len(body) / 1e6:.1f} МБ; пиковый RSS воркера {max(after.values()):.0f} МБ "
                f"(до экспорта {max(before.values()):.0f} МБ); "
                f"голый цикл xlsxwriter constant_memory по тем же {floor_rows:,} строкам: "
                f"{floor:.1f} с (отношение {export_seconds / floor:.2f})."
            )
        else:
            missing.append(f"{export_path} ({status})")
            export = (
                f"Экспорт семей в Excel (`{export_path}`): MISSING ({status}, не файл Excel). "
                f"Голый цикл xlsxwriter constant_memory по {floor_rows:,} строкам: {floor:.1f} с."
            )
        print(export)
        if missing:
            print("!!! MISSING PAGES: " + ", ".join(missing))

        section = [
            f"## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — {families:,} семей",
            "",
            f"Машина: {machine()}; средняя загрузка перед замером {os.getloadavg()[0]:.1f}. "
            f"gunicorn, {options.workers} sync workers; "
            f"{options.requests} запросов на страницу после прогрева; цель: "
            f"{target_text(families)}. Участковый `{names['worker']}` "
            f"(участок из {names['worker_last_page'] * 25 + 25} семей максимум), специалист "
            f"`{names['specialist']}` ({names['specialist_tasks']} открытых задач); {loading}.",
            "",
            *lines,
            "",
            export,
            "",
        ]
        previous = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
        head, _, rest = previous.partition("\n## ")
        rest = f"## {rest}" if rest else ""
        RESULTS.write_text(head.rstrip() + "\n\n" + "\n".join(section) + "\n" + rest)
        print(f"written to {RESULTS}")
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            gunicorn.wait(timeout=30)
        if options.keep or options.reuse:
            print(f"database kept: {database}")
        else:
            sql(SERVER_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', autocommit=True)


if __name__ == "__main__":
    main()
