"""Opora side by side with the peers of ../shared/bench-peers (run by hand, not by pytest).

    python tests/bench/bench_peers.py --opora NAME [--peers DIR] [--peers-venv DIR]
        [--requests 30] [--rounds 3] [--reload]

`--opora NAME` is a database on BENCH_DATABASE_URL's server loaded by `flask seed
--families N` and migrated by this tree. The peers' register (`peer_<N>`) is loaded by
the peers' own loader (load.py) with the same number of families, then given Opora's
surnames person by person (the loader's 30 surnames would make every search match
thousands) and the indexes of the peers' README; it is kept for the next run (`--reload`
loads it again). Three servers, one gunicorn worker each: Opora (this tree, signed in as
the coordinator), the plain Flask-Admin scaffold and the bare keyset floor, both from the
peers' folder and venv (Django's admin is left out: it never came near either). Each
scenario's requests go to the three in turn (Opora, scaffold, floor, Opora…), so a
shared machine's load falls on all alike: the ratios are the figures, not the absolute
milliseconds; the load average is recorded with each round. CPU per list page: the
workers' user+system time over a scenario's requests (/proc), per request. Results are
printed and added to tests/bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_pages import (  # noqa: E402
    SERVER_URL,
    Browser,
    cpu_seconds,
    free_port,
    machine,
    percentile,
    psql_url,
    sql,
    worker_pids,
)
from bench_search import PASSWORD, ROOT  # noqa: E402

RESULTS = HERE / "RESULTS.md"
VENV_BIN = Path(sys.executable).parent
PEER_INDEXES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ON person (last_name, id)",
    "CREATE INDEX ON person USING gin (last_name gin_trgm_ops)",
    "CREATE INDEX ON person USING gin (snils gin_trgm_ops)",
    "CREATE INDEX ON family USING gin (address gin_trgm_ops)",
    "CREATE INDEX ON person (disability)",
    "ANALYZE",
)

# (scenario, Opora's path, the scaffold's, the floor's or None, requests' share of N).
# {common}: Opora's commonest surname (feminine form), {rare}: the rarest surname,
# {person}: a person's id.
SCENARIOS = [
    ("Люди: список, стр. 1 (по фамилии)", "/person/", "/admin/person/", "/person/", 1),
    ("Люди: стр. 4000 по номеру", "/person/?page=3999", "/admin/person/?page=3999", None, 1),
    ("Люди: частая фамилия", "/person/?search={common}", "/admin/person/?search={common}",
     "/person/?q={common}", 1),
    ("Люди: редкая фамилия", "/person/?search={rare}", "/admin/person/?search={rare}",
     "/person/?q={rare}", 1),
    ("Люди: фильтр «ребёнок-инвалид»", "/person/?flt0_disability_status_equals=disabled",
     "/admin/person/?flt0_9=disabled", None, 1),
    ("Семьи: список, стр. 1", "/family/", "/admin/family/", None, 1),
    ("Человек: правка", "/person/edit/?id={person}", "/admin/person/edit/?id={person}", None, 0.2),
]  # fmt: skip
CPU_SCENARIO = SCENARIOS[0][0]


class Server:
    """A gunicorn of one worker: `app` in `cwd` run by `python_bin`'s venv."""

    def __init__(self, bin_dir: Path, app: str, cwd: Path, env: dict, health: str):
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{self.port}",
             "--timeout", "600", app],
            env=env, cwd=cwd, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + health, timeout=5)
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        sys.exit(f"{app} did not start")

    def workers(self) -> list[int]:
        return worker_pids(self.process.pid)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def dsn(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return (
        f"host={parts.hostname} port={parts.port or 5432} user={parts.username or 'postgres'} "
        f"dbname={parts.path.lstrip('/')}"
    )


def load_peer(server_url: str, opora_url: str, name: str, peers: Path, venv: Path) -> float:
    """The peers' register of Opora's size and surnames; seconds it took."""
    families = sql(opora_url, "SELECT count(*) FROM family")[0][0]
    started = time.monotonic()
    sql(server_url, f'DROP DATABASE IF EXISTS "{name}"', autocommit=True)
    sql(server_url, f'CREATE DATABASE "{name}"', autocommit=True)
    peer_url = psql_url(server_url, name)
    subprocess.run(
        [str(venv / "bin" / "python"), "load.py", dsn(peer_url), str(families)],
        cwd=peers,
        check=True,
    )
    import psycopg

    with psycopg.connect(opora_url) as opora, psycopg.connect(peer_url) as peer:
        surnames = opora.execute("SELECT last_name FROM person ORDER BY id").fetchall()
        peer.execute("CREATE TEMP TABLE surname (id integer PRIMARY KEY, last_name text)")
        with peer.cursor().copy("COPY surname (id, last_name) FROM STDIN") as copy:
            for number, (surname,) in enumerate(surnames, start=1):
                copy.write_row((number, surname))
        peer.execute(
            "UPDATE person SET last_name = surname.last_name FROM surname "
            "WHERE surname.id = person.id"
        )
    for statement in PEER_INDEXES:
        sql(peer_url, statement, autocommit=True)
    sql(peer_url, "VACUUM ANALYZE", autocommit=True)
    return time.monotonic() - started


def words(opora_url: str) -> dict:
    common = sql(
        opora_url,
        "SELECT last_name FROM person WHERE sex = 'f' GROUP BY last_name "
        "ORDER BY count(*) DESC LIMIT 1",
    )[0][0]
    rare = sql(
        opora_url,
        "SELECT last_name FROM person GROUP BY last_name ORDER BY count(*), last_name LIMIT 1",
    )[0][0]
    person = sql(opora_url, "SELECT min(id) FROM person WHERE archived_at IS NULL")[0][0]
    user = sql(
        opora_url, "SELECT username FROM user_account WHERE role = 'coordinator' ORDER BY id"
    )[0][0]
    return {"common": common, "rare": rare, "person": person, "user": user}


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def run_round(servers: dict, browsers: dict, names: dict, requests: int) -> dict:
    figures = {}
    for title, *paths, share in SCENARIOS:
        count = max(3, round(requests * share))
        sides = {
            side: path.format(**{k: urllib.parse.quote(str(v)) for k, v in names.items()})
            for side, path in zip(servers, paths, strict=True)
            if path is not None
        }
        times: dict[str, list[float]] = {side: [] for side in sides}
        status = {side: browsers[side].get(path)[0] for side, path in sides.items()}
        cpu_before = {side: cpu_seconds(servers[side].workers()) for side in sides}
        for _ in range(count):
            for side, path in sides.items():
                started = time.perf_counter()
                browsers[side].get(path)
                times[side].append((time.perf_counter() - started) * 1000)
        cpu = {
            side: (cpu_seconds(servers[side].workers()) - cpu_before[side]) * 1000 / count
            for side in sides
        }
        figures[title] = {
            side: (statistics.median(times[side]), percentile(times[side], 0.95), cpu[side])
            if status[side] == 200
            else status[side]
            for side in sides
        }
        print(title, figures[title], flush=True)
    return figures


def cell(value) -> str:
    if value is None:
        return "—"
    return f"{value[0]:.0f} / {value[1]:.0f}" if isinstance(value, tuple) else f"MISSING ({value})"


def share(row: dict, side: str, index: int = 0) -> str:
    opora, other = row.get("opora"), row.get(side)
    if isinstance(opora, tuple) and isinstance(other, tuple) and other[index]:
        return f"{opora[index] / other[index]:.2f}"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--opora", required=True, help="a loaded, migrated Opora database")
    parser.add_argument("--peers", type=Path, default=ROOT.parent.parent / "shared/bench-peers")
    parser.add_argument("--peers-venv", type=Path, default=Path.home() / ".cache" / "opora-peers")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reload", action="store_true", help="load the peers' register anew")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL", SERVER_URL)
    opora_url = psql_url(server_url, args.opora)
    families = sql(opora_url, "SELECT count(*) FROM family")[0][0]
    persons = sql(opora_url, "SELECT count(*) FROM person")[0][0]
    peer_name = f"peer_{families}"
    exists = sql(server_url, f"SELECT 1 FROM pg_database WHERE datname = '{peer_name}'")  # noqa: S608 (a number)
    loaded = None
    if args.reload or not exists:
        loaded = load_peer(server_url, opora_url, peer_name, args.peers, args.peers_venv)
        print(f"peers' register loaded in {loaded:.0f} s", flush=True)
    peer_url = psql_url(server_url, peer_name)
    peer_persons = sql(peer_url, "SELECT count(*) FROM person")[0][0]
    names = words(opora_url)
    peers_bin = args.peers_venv / "bin"
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    servers = {
        "opora": Server(
            VENV_BIN, "app:create_app()", ROOT,
            {**base_env, "DATABASE_URL": opora_url, "SECRET_KEY": "bench", "PYTHONPATH": str(ROOT)},
            "/healthz",
        ),
        "scaffold": Server(
            peers_bin, "flask_admin_peer:app", args.peers,
            {**base_env, "PEER_DB": "postgresql+psycopg" + peer_url.removeprefix("postgresql")},
            "/admin/",
        ),
        "floor": Server(
            peers_bin, "floor_app:app", args.peers, {**base_env, "FLOOR_DSN": dsn(peer_url)},
            "/person/",
        ),
    }  # fmt: skip
    rounds = []
    try:
        browsers = {side: Browser(server.base) for side, server in servers.items()}
        browsers["opora"].login(names["user"], PASSWORD)
        for number in range(args.rounds):
            before = load_average()
            figures = run_round(servers, browsers, names, args.requests)
            rounds.append((before, load_average(), figures))
            print(f"round {number + 1}: load {before} → {load_average()}", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {stamp} — бок о бок с соседями (`tests/bench/bench_peers.py`), {families:,} семей",
        "",
        f"Опора: {families:,} семей, {persons:,} человек (PostgreSQL, `flask seed --families`); "
        f"соседи: их `load.py` на те же {families:,} семей ({peer_persons:,} человек), фамилии "
        "Опоры перенесены построчно, индексы из README соседей"
        + (f" (загрузка {loaded:.0f} с)" if loaded else "")
        + ". Один gunicorn-воркер у каждого; запросы по кругу (Опора, Flask-Admin, пол, …). "
        f"Частая фамилия — «{names['common']}», редкая — «{names['rare']}». {machine()}. "
        "Медиана / p95, мс; «CPU» — время CPU воркера на запрос, мс. Смотреть на отношения: "
        "абсолютные числа зависят от нагрузки (она указана для каждого круга).",
        "",
    ]
    for number, (before, after, figures) in enumerate(rounds, start=1):
        lines += [
            f"### Круг {number} (средняя загрузка {before} → {after})",
            "",
            "| сценарий | Опора | Flask-Admin | пол | Опора / Flask-Admin | Опора / пол "
            "| CPU Опоры | CPU пола | CPU Опора / пол |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for title, row in figures.items():
            cpu_opora = row["opora"][2] if isinstance(row.get("opora"), tuple) else None
            cpu_floor = row["floor"][2] if isinstance(row.get("floor"), tuple) else None
            lines.append(
                f"| {title} | {cell(row.get('opora'))} | {cell(row.get('scaffold'))} "
                f"| {cell(row.get('floor'))} | {share(row, 'scaffold')} | {share(row, 'floor')} "
                f"| {'' if cpu_opora is None else f'{cpu_opora:.1f}'} "
                f"| {'' if cpu_floor is None else f'{cpu_floor:.1f}'} "
                f"| {share(row, 'floor', 2)} |"
            )
        lines.append("")
    text = "\n".join(lines)
    print(text)
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write("\n" + text)


if __name__ == "__main__":
    main()
