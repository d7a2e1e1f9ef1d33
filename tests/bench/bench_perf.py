"""Issue 18's pages before and after this tree, interleaved in one run on one data set
(run by hand, not by pytest).

    python tests/bench/bench_perf.py --sqlite PATH [--before main] [--requests 15]
    python tests/bench/bench_perf.py --postgresql NAME [--before main]

`--sqlite PATH` is a database loaded by `flask seed --families N` at the schema of
`--before` (copied twice, never changed: the «after» copy is upgraded by this tree's
migrations, 0024_perf); `--postgresql NAME` a database on BENCH_DATABASE_URL's server,
cloned twice by CREATE DATABASE … TEMPLATE. The code of `--before` (a git revision,
exported with `git archive`) serves the «before» copy, this tree the «after» copy, each by
one gunicorn worker; the requests alternate between the two, request by request, so a
shared machine's load falls on both alike: compare the ratio, not the absolutes. Median
and p95 in ms; the table is printed and added to tests/bench/RESULTS.md with the load
average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_pages import SERVER_URL, Browser, machine, percentile, psql_url, sql  # noqa: E402
from bench_search import PASSWORD, ROOT, Server, export_tree, flask, query  # noqa: E402

RESULTS = HERE / "RESULTS.md"

# (what, who, URL); {word} the commonest feminine surname, {stem} its five letters,
# {unit} a free unit, {case}/{family} the largest family's open case and the family,
# {rental_family} the family with the most loans (the clerk sees it),
# {district} a district's number.
PAGES = [
    ("Люди: список, стр. 1", "coordinator", "/person/"),
    ("Люди: список, стр. 4000 (по номеру)", "coordinator", "/person/?page=3999"),
    ("Семьи: список, стр. 1", "coordinator", "/family/"),
    ("Люди: поиск по фамилии", "coordinator", "/person/?search={word}"),
    ("Семьи: поиск по фамилии", "coordinator", "/family/?search={word}"),
    ("Люди: фильтр «Участок содержит»", "coordinator", "/person/?flt0_district_name_contains={district}"),
    ("Случаи: поиск", "coordinator", "/case/?search={word}"),
    ("Новое обращение: поиск семьи", "coordinator", "/intake/?surname={word}"),
    ("Новое обращение: поиск «Иванов»", "coordinator", "/intake/?surname=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2"),
    ("Прокат: очередь, поиск семьи", "clerk", "/rental_desk/queue/?q={stem}"),
    ("Прокат: выдача, поиск ребёнка", "clerk", "/rental_desk/lend/{unit}/?q={stem}"),
    ("Выбор семьи в форме (ajax)", "coordinator", "/case/ajax/lookup/?name=family&query={stem}"),
    ("Выбор человека в форме (ajax)", "coordinator", "/consent/ajax/lookup/?name=person&query={stem}"),
    ("Карточка случая", "coordinator", "/case/details/?id={case}"),
    ("Карточка семьи", "coordinator", "/family/details/?id={family}"),
    ("Прокат: семья", "clerk", "/rental_desk/family/{rental_family}/"),
]  # fmt: skip


def names(url: str) -> dict:
    users = {
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
    case, family = query(
        url,
        "SELECT c.id, c.family_id FROM support_case c JOIN person p ON p.family_id = c.family_id "
        "WHERE c.status <> 'closed' GROUP BY c.id, c.family_id ORDER BY count(*) DESC, c.id LIMIT 1",
    )[0]
    district = query(url, "SELECT name FROM district ORDER BY id LIMIT 1")[0][0]
    # The desk's family page: a family the clerk sees (one with loans), the most of them.
    rental_family = query(
        url,
        "SELECT family_id FROM loan GROUP BY family_id ORDER BY count(*) DESC, family_id LIMIT 1",
    )[0][0]
    return {
        "users": users,
        "word": surname,
        "stem": surname[:5].lower(),
        "unit": unit,
        "case": case,
        "family": family,
        "rental_family": rental_family,
        "district": district.split()[-1],
    }


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def measure(trees: dict, envs: dict, data: dict, requests: int) -> dict:
    servers = {side: Server(trees[side], envs[side], 1) for side in trees}
    try:
        browsers = {}
        for side, server in servers.items():
            for who, username in data["users"].items():
                browsers[side, who] = Browser(server.base)
                browsers[side, who].login(username, PASSWORD)
        figures = {}
        for title, who, url in PAGES:
            path = url.format(
                **{k: urllib.parse.quote(str(v)) for k, v in data.items() if k != "users"}
            )
            times: dict[str, list[float]] = {side: [] for side in servers}
            status = {}
            for side in servers:  # warm-up, and the status each side answers
                status[side] = browsers[side, who].get(path)[0]
            for _ in range(requests):
                for side in servers:
                    if status[side] != 200:
                        continue
                    started = time.perf_counter()
                    browsers[side, who].get(path)
                    times[side].append((time.perf_counter() - started) * 1000)
            row = {}
            for side in servers:
                row[side] = (
                    (statistics.median(times[side]), percentile(times[side], 0.95))
                    if status[side] == 200
                    else status[side]
                )
            figures[title, who] = row
            print(title, who, row, flush=True)
        return figures
    finally:
        for server in servers.values():
            server.stop()


def cell(value) -> str:
    return f"{value[0]:.1f} / {value[1]:.1f}" if isinstance(value, tuple) else f"MISSING ({value})"


def ratio(row) -> str:
    before, after = row["before"], row["after"]
    if isinstance(before, tuple) and isinstance(after, tuple) and before[0]:
        return f"{after[0] / before[0]:.2f}"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite", type=Path, help="a loaded SQLite database (not changed)")
    where.add_argument("--postgresql", help="a loaded database on BENCH_DATABASE_URL's server")
    parser.add_argument("--before", default="main")
    parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-perf-"))
    server_url = os.environ.get("BENCH_DATABASE_URL", SERVER_URL)
    created = []
    try:
        trees = {"before": export_tree(args.before, work / "before"), "after": ROOT}
        urls = {}
        if args.sqlite:
            for side in trees:
                copy = work / f"{side}.sqlite3"
                shutil.copyfile(args.sqlite, copy)
                urls[side] = f"sqlite:///{copy}"
            kind = "SQLite"
        else:
            for side in trees:
                name = f"{args.postgresql}_{side}"
                sql(server_url, f'DROP DATABASE IF EXISTS "{name}"', autocommit=True)
                sql(
                    server_url,
                    f'CREATE DATABASE "{name}" TEMPLATE "{args.postgresql}"',
                    autocommit=True,
                )
                created.append(name)
                urls[side] = psql_url(server_url, name)
            kind = "PostgreSQL"
        envs = {
            side: {**os.environ, "DATABASE_URL": urls[side], "SECRET_KEY": "bench"}
            for side in trees
        }
        started = time.monotonic()
        flask(ROOT, envs["after"], "db", "upgrade")
        upgrade = time.monotonic() - started
        if not args.sqlite:
            sql(urls["after"], "VACUUM ANALYZE", autocommit=True)
            sql(urls["before"], "VACUUM ANALYZE", autocommit=True)
        data = names(urls["before"])
        families = query(urls["before"], "SELECT count(*) FROM family")[0][0]
        persons = query(urls["before"], "SELECT count(*) FROM person")[0][0]
        load_before = load_average()
        figures = measure(trees, envs, data, args.requests)
        load_after = load_average()
    finally:
        for name in created:
            sql(server_url, f'DROP DATABASE IF EXISTS "{name}"', autocommit=True)
        shutil.rmtree(work, ignore_errors=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {stamp} — до и после (`tests/bench/bench_perf.py`), {kind}, {families:,} семей",
        "",
        f"{families:,} семей, {persons:,} человек; «до» — код `{args.before}`, «после» — эта "
        f"ветка на копии той же базы после её миграций ({upgrade:.0f} с). Запросы по очереди "
        f"(до, после, до, после…), по {args.requests} на страницу после прогрева, один "
        f"gunicorn-воркер на сторону. Средняя загрузка: {load_before} в начале, {load_after} "
        f"в конце. {machine()}. Медиана / p95, мс.",
        "",
        "| страница | кто | до | после | отношение медиан |",
        "|---|---|---|---|---|",
    ]
    for (title, who), row in figures.items():
        lines.append(
            f"| {title} | {who} | {cell(row['before'])} | {cell(row['after'])} | {ratio(row)} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write("\n" + text)


if __name__ == "__main__":
    main()
