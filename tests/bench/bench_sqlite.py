"""The embedded default beside production: every page of bench_pages.PAGES on SQLite and on
PostgreSQL, the same tree and the same generated region, interleaved in one run (run by
hand, not by pytest).

    python tests/bench/bench_sqlite.py --postgresql NAME --sqlite PATH [--requests 20]

NAME is a database on BENCH_DATABASE_URL's server and PATH a SQLite file, each loaded by
`flask seed --families N` (the same N: the generator is seeded, so the two hold the same
region) and migrated by this tree; the sign-ins add their sessions, nothing else is
written. One gunicorn worker serves each; each page's requests alternate between the two
(PostgreSQL, SQLite, PostgreSQL…), so a shared machine's load falls on both alike.
Printed and added to tests/bench/RESULTS.md: median and p95 of each side, the ratio of
the medians (issue 18: every page within 3×) and each server's CPU per request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_pages import (  # noqa: E402
    PAGES,
    ROOT,
    SERVER_URL,
    VENV_BIN,
    Browser,
    cpu_seconds,
    fill,
    machine,
    percentile,
    psql_url,
)
from bench_peers import Server  # noqa: E402  (one gunicorn worker, started and awaited)
from bench_search import PASSWORD  # noqa: E402  (the generated accounts' password)

RESULTS = HERE / "RESULTS.md"
LIMIT = 3.0  # SQLite's median at most this many times PostgreSQL's (issue 18)


class Side:
    """One database: its gunicorn worker, its users signed in, its data's names."""

    def __init__(self, label: str, database_url: str):
        self.label = label
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-secret",
            "PYTHONPATH": str(ROOT),
        }
        # bench_names imports the app in this process: one database at a time.
        self.names = _names_in_child(database_url)
        self.server = Server(VENV_BIN, "app:create_app()", ROOT, env, "/healthz")
        self.base = self.server.base
        self.browsers = {}
        for who in sorted({who for _title, who, _url in PAGES}):
            self.browsers[who] = Browser(self.base)
            self.browsers[who].login(self.names[who], PASSWORD)

    def pids(self) -> list[int]:
        return self.server.workers()

    def stop(self) -> None:
        self.server.stop()


def _names_in_child(database_url: str) -> dict:
    """bench_names of one database, computed in a child process (the app's engine and
    models are process-wide)."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_pages; "
        "print(json.dumps(bench_pages.bench_names(sys.argv[2], "
        "{'DATABASE_URL': sys.argv[2], 'SECRET_KEY': 'bench-secret'})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(HERE), database_url],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    import json

    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgresql", required=True)
    parser.add_argument("--sqlite", required=True, type=Path)
    parser.add_argument("--requests", type=int, default=20)
    options = parser.parse_args()
    sides = [
        Side("PostgreSQL", psql_url(SERVER_URL, options.postgresql)),
        Side("SQLite", f"sqlite:///{options.sqlite.resolve()}"),
    ]
    load_before = os.getloadavg()
    lines = [
        "| страница | кто | PostgreSQL | SQLite | SQLite / PostgreSQL | CPU PG | CPU SQLite | ≤ 3× |",
        "|---|---|---|---|---|---|---|---|",
    ]
    over = []
    try:
        for title, who, url in PAGES:
            times: dict[str, list[float]] = {side.label: [] for side in sides}
            cpu: dict[str, float] = dict.fromkeys(times, 0.0)
            statuses = set()
            for side in sides:  # warm-up
                for _ in range(2):
                    status, _ = side.browsers[who].get(fill(url, side.names))
                    statuses.add(status)
            if statuses != {200}:
                lines.append(f"| {title} | {who} | MISSING {sorted(statuses)} | | | | | |")
                print(f"!!! {title}: {sorted(statuses)}")
                continue
            for _ in range(options.requests):
                for side in sides:
                    path = fill(url, side.names)
                    pids = side.pids()
                    before = cpu_seconds(pids)
                    started = time.perf_counter()
                    side.browsers[who].get(path)
                    times[side.label].append((time.perf_counter() - started) * 1000)
                    cpu[side.label] += cpu_seconds(pids) - before
            pg, lite = times["PostgreSQL"], times["SQLite"]
            ratio = statistics.median(lite) / statistics.median(pg)
            if ratio > LIMIT:
                over.append(title)
            lines.append(
                f"| {title} | {who} | {statistics.median(pg):.1f} / {percentile(pg, 0.95):.1f} "
                f"| {statistics.median(lite):.1f} / {percentile(lite, 0.95):.1f} | {ratio:.2f} "
                f"| {cpu['PostgreSQL'] * 1000 / options.requests:.1f} "
                f"| {cpu['SQLite'] * 1000 / options.requests:.1f} "
                f"| {'да' if ratio <= LIMIT else 'НЕТ'} |"
            )
            print(lines[-1])
    finally:
        for side in sides:
            side.stop()
    load_after = os.getloadavg()
    section = [
        f"## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — SQLite рядом с PostgreSQL "
        f"(`tests/bench/bench_sqlite.py`)",
        "",
        f"Одно дерево, один сгенерированный регион в двух базах (PostgreSQL `{options.postgresql}`, "
        f"SQLite `{options.sqlite.name}`); по одному gunicorn-воркеру; запросы по очереди "
        f"(PostgreSQL, SQLite, …), {options.requests} на страницу после прогрева. Средняя "
        f"загрузка {load_before[0]:.1f} → {load_after[0]:.1f}. {machine()}. Медиана / p95, мс; "
        "CPU — время CPU воркера на запрос, мс. Цель: SQLite не медленнее PostgreSQL "
        "больше чем в 3 раза на каждой странице.",
        "",
        *lines,
        "",
        ("Все страницы в пределах 3×." if not over else "Больше 3×: " + ", ".join(over) + "."),
        "",
    ]
    previous = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    head, _, rest = previous.partition("\n## ")
    rest = f"## {rest}" if rest else ""
    RESULTS.write_text(head.rstrip("\n") + "\n\n" + "\n".join(section) + "\n" + rest)
    print("\n".join(section))


if __name__ == "__main__":
    main()
