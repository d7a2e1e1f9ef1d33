"""The searches before and after the search keys (issue 18), on SQLite and PostgreSQL,
in one run on one data set (run by hand, not by pytest).

    python tests/bench/bench_search.py --families 76000 [--databases sqlite,postgresql]

For each database: a new database is migrated and loaded (`flask seed --families N`)
by the code of `--before` (a git revision, default `main`, exported with
`git archive` to a temporary folder), served by gunicorn from that code and timed;
then the same database is upgraded by this tree's migrations (0016_search: the keys
are added and back-filled; the time is printed), served from this tree and timed
again. Pages: the person search (district worker, coordinator), the family search,
«Новое обращение»'s family search, the rental desk's child searches (queue, lend) and
the navbar's box (its JSON and its results page: missing before). Each search is
timed with a five-letter beginning of the commonest surname (the old bench's word)
and with its full feminine form. Median and p95 over --requests requests after a
warm-up; the figures are printed and added to tests/bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_pages import (  # noqa: E402  (the neighbour script's helpers)
    SERVER_URL,
    Browser,
    free_port,
    machine,
    percentile,
    psql_url,
    sql,
)

ROOT = HERE.parents[1]
RESULTS = HERE / "RESULTS.md"
VENV_BIN = Path(sys.executable).parent
PASSWORD = "opora-scale-2026"  # seed/scale.py's SCALE_PASSWORD

# (what, who, URL); {word} is the typed text, {unit} a free unit's id.
PAGES = [
    ("Поиск: члены семей", "worker", "/person/?search={word}"),
    ("Поиск: члены семей", "coordinator", "/person/?search={word}"),
    ("Поиск: семьи", "coordinator", "/family/?search={word}"),
    ("Новое обращение: поиск семьи", "coordinator", "/intake/?surname={word}"),
    ("Прокат: очередь, поиск ребёнка", "coordinator", "/rental_desk/queue/?q={word}"),
    ("Прокат: выдача, поиск ребёнка", "clerk", "/rental_desk/lend/{unit}/?q={word}"),
    ("Поиск в шапке (JSON)", "coordinator", "/search/api?q={word}"),
    ("Поиск в шапке (JSON)", "worker", "/search/api?q={word}"),
    ("Поиск в шапке (страница)", "coordinator", "/search/?q={word}"),
]


def export_tree(revision: str, target: Path) -> Path:
    """The files of `revision` in `target` (read from git, the repository untouched)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryFile() as buffer:
        buffer.write(archive)
        buffer.seek(0)
        with tarfile.open(fileobj=buffer) as tar:
            tar.extractall(target, filter="data")
    return target


def flask(tree: Path, env: dict, *args: str) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", *args],
        env={**env, "PYTHONPATH": str(tree)},
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"flask {' '.join(args)} in {tree} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def query(url: str, statement: str):
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(statement).fetchall()
    return sql(url, statement)


def names(url: str) -> dict:
    """Users, a free unit and the words to type, from the loaded data."""
    worker = query(
        url,
        "SELECT u.username, count(*) FROM user_account u JOIN staff_district sd ON sd.staff_id = "
        "u.staff_id JOIN family f ON f.district_id = sd.district_id WHERE u.role = "
        "'district_worker' GROUP BY u.username ORDER BY count(*) DESC LIMIT 1",
    )[0][0]
    users = {
        "worker": worker,
        "coordinator": query(
            url, "SELECT username FROM user_account WHERE role = 'coordinator' ORDER BY id LIMIT 1"
        )[0][0],
        "clerk": query(
            url, "SELECT username FROM user_account WHERE role = 'rental_clerk' ORDER BY id LIMIT 1"
        )[0][0],
    }
    surname = query(
        url,
        "SELECT last_name FROM person WHERE sex = 'f' GROUP BY last_name "
        "ORDER BY count(*) DESC LIMIT 1",
    )[0][0]
    unit = query(
        url,
        "SELECT id FROM equipment_unit WHERE status = 'available' AND archived_at IS NULL "
        "ORDER BY id LIMIT 1",
    )[0][0]
    return {"users": users, "words": [surname[:5].lower(), surname], "unit": unit}


class Server:
    def __init__(self, tree: Path, env: dict, workers: int):
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", "600", "app:create_app()"],
            env={**env, "PYTHONPATH": str(tree)}, cwd=tree, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(150):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        sys.exit("gunicorn did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def timed(browser: Browser, path: str, count: int):
    status, _ = browser.get(path)
    if status != 200:
        return status, []
    browser.get(path)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        status, _ = browser.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return status, times


def measure(tree: Path, env: dict, data: dict, requests: int, workers: int) -> dict:
    server = Server(tree, env, workers)
    try:
        browsers = {}
        for who, username in data["users"].items():
            browsers[who] = Browser(server.base)
            browsers[who].login(username, PASSWORD)
        figures = {}
        for word in data["words"]:
            for title, who, url in PAGES:
                path = url.format(word=urllib.parse.quote(word), unit=data["unit"])
                status, times = timed(browsers[who], path, requests)
                key = (title, who, url, word)
                if status != 200:
                    figures[key] = None
                    print(f"{title:34} {who:11} {word:10} MISSING ({status})")
                    continue
                figures[key] = (statistics.median(times), percentile(times, 0.95))
                print(
                    f"{title:34} {who:11} {word:10} median {figures[key][0]:7.1f} "
                    f"p95 {figures[key][1]:7.1f}"
                )
        return figures
    finally:
        server.stop()


def cell(value) -> str:
    return "—" if value is None else f"{value[0]:.1f} / {value[1]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=76_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before", default="main")
    parser.add_argument("--databases", default="sqlite,postgresql")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="opora-bench-search-"))
    before_tree = export_tree(options.before, work / "before")
    revision = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", options.before],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    sections = []
    for kind in options.databases.split(","):
        if kind == "sqlite":
            url = f"sqlite:///{work / 'bench.sqlite3'}"
            drop = None
        else:
            database = f"opora_bench_search_{os.getpid()}"
            sql(SERVER_URL, f'CREATE DATABASE "{database}"', autocommit=True)
            url = psql_url(SERVER_URL, database)
            drop = database
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret"}
        try:
            started = time.monotonic()
            flask(before_tree, env, "db", "upgrade")
            flask(before_tree, env, "seed", "--families", str(options.families))
            loading = time.monotonic() - started
            data = names(url)
            print(f"== {kind}: loaded in {loading:.0f} s; {data}")
            before = measure(before_tree, env, data, options.requests, options.workers)
            started = time.monotonic()
            flask(ROOT, env, "db", "upgrade")
            upgrade = time.monotonic() - started
            print(f"== {kind}: 0016_search upgrade {upgrade:.0f} s")
            after = measure(ROOT, env, data, options.requests, options.workers)
        finally:
            if drop:
                sql(SERVER_URL, f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)', autocommit=True)
        lines = [
            f"### {'SQLite' if kind == 'sqlite' else 'PostgreSQL'}",
            "",
            f"Загрузка набора кодом `{options.before}` ({revision}) {loading:.0f} с; миграция "
            f"0016_search на нём {upgrade:.0f} с. Медиана / p95, мс.",
            "",
            "| страница | кто | что набрано | до | после | отношение медиан |",
            "|---|---|---|---|---|---|",
        ]
        for key, value in after.items():
            title, who, _url, word = key
            old = before.get(key)
            ratio = f"{value[0] / old[0]:.2f}" if value and old else ""
            lines.append(f"| {title} | {who} | «{word}» | {cell(old)} | {cell(value)} | {ratio} |")
        sections.append("\n".join(lines))
    text = "\n\n".join(
        [
            f"## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — поиск до и после ключей "
            f"(`tests/bench/bench_search.py`), {options.families:,} семей",
            "",
            f"Машина: {machine()}; средняя загрузка {os.getloadavg()[0]:.1f}; gunicorn, "
            f"{options.workers} sync workers; {options.requests} запросов после прогрева.",
            *sections,
        ]
    )
    print(text)
    previous = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    head, _, rest = previous.partition("\n## ")
    rest = f"## {rest}" if rest else ""
    RESULTS.write_text(head.rstrip() + "\n\n" + text + "\n\n" + rest)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
