"""Benchmark (not a test): upload and serve a 10 MB scan; time and the worker's memory growth.

    python tests/bench/bench_documents.py            # SQLite, both stores
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python tests/bench/bench_documents.py

The app runs in a worker process of its own (a Werkzeug server on port 0, one thread),
so the client's copy of the file never counts in the worker's memory. For each store
(the local directory, and S3 through moto's server, started here on port 0) and each
size (1 MB, 10 MB, 19 MB), the client signs in, uploads a scan (a PDF head and random
bytes) and downloads it to the end, a chunk at a time. The worker's growth is its peak
resident size during the request (VmHWM, reset before each request through
/proc/PID/clear_refs) minus its resident size just before it; the target is a growth
that does not follow the file's size. Results go to RESULTS.md next to this file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

SIZES_MB = (1, 10, 19)
PASSWORD = "bench-password-1"
SECTION = "## Documents benchmark (`tests/bench/bench_documents.py`)"
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def serve(url: str, documents: str, s3_endpoint: str | None) -> None:
    """The worker: the app on a fresh database with one family and a coordinator."""
    from werkzeug.security import generate_password_hash
    from werkzeug.serving import make_server

    from app import create_app
    from models import District, Family, User, db

    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "OPORA_DOCUMENTS_DIR": documents,
    }
    if s3_endpoint:
        config.update(
            OPORA_S3_ENDPOINT=s3_endpoint,
            OPORA_S3_BUCKET="bench",
            OPORA_S3_ACCESS_KEY="bench",
            OPORA_S3_SECRET_KEY="bench",
        )
    app = create_app(config)
    with app.app_context():
        db.create_all()
        if s3_endpoint:
            app.extensions["document_store"].client.create_bucket(Bucket="bench")
        district = District(name="Участок № 1")
        db.session.add(district)
        db.session.add(
            Family(
                surname="Орловы",
                district=district,
                address="ул. Ломоносова, д. 5",
                identified_by="self",
                status="registered",
            )
        )
        db.session.add(
            User(
                username="bench",
                role="coordinator",
                active=True,
                password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1"),
            )
        )
        db.session.commit()
    server = make_server("127.0.0.1", 0, app)
    print(server.server_port, flush=True)
    server.serve_forever()


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def upload(session, url: str, csrf: str, path: Path) -> None:
    with path.open("rb") as file:
        answer = session.post(
            url,
            data={"csrf_token": csrf, "doc_type": "mse_certificate", "doc_date": ""},
            files={"file": (path.name, file, "application/pdf")},
            allow_redirects=False,
        )
    assert answer.status_code == 302, answer.text[:500]


def download(session, url: str, received) -> None:
    with session.get(url, stream=True) as answer:
        assert answer.status_code == 200
        for chunk in answer.iter_content(64 * 1024):
            received.update(chunk)


def measured(pid: int, action, *args):
    """(seconds, growth in kB, peak in kB) of one request of the worker `pid`."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = status_kb(pid, "VmRSS")
    start = time.perf_counter()
    action(*args)
    seconds = time.perf_counter() - start
    peak = status_kb(pid, "VmHWM")
    return seconds, peak - before, peak


def token(session, url: str) -> str:
    match = CSRF.search(session.get(url).text)
    assert match, url
    return match.group(1) or match.group(2)


def scan(path: Path, megabytes: int) -> None:
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n")
        for _ in range(megabytes):
            out.write(os.urandom(1024 * 1024))
        out.write(b"\n%%EOF\n")


def run_store(kind: str, url: str, work: Path, s3_endpoint: str | None) -> list[tuple]:
    import requests

    worker = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            url,
            str(work / f"documents-{kind}"),
            s3_endpoint or "",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert worker.stdout is not None
        base = f"http://127.0.0.1:{worker.stdout.readline().strip()}"
        session = requests.Session()
        login = token(session, f"{base}/login")
        answer = session.post(
            f"{base}/login", data={"username": "bench", "password": PASSWORD, "csrf_token": login}
        )
        assert answer.ok, answer.status_code
        upload_url = f"{base}/documents/upload/?family=1"
        rows = []
        for megabytes in (0, *SIZES_MB):  # 0: a warm-up, not recorded
            path = work / f"scan-{megabytes}.pdf"
            scan(path, megabytes)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            csrf = token(session, upload_url)

            up_s, up_kb, up_peak = measured(worker.pid, upload, session, upload_url, csrf, path)
            document_id = len(rows) + 1
            received = hashlib.sha256()
            file_url = f"{base}/documents/file/?id={document_id}"
            down_s, down_kb, down_peak = measured(worker.pid, download, session, file_url, received)
            assert received.hexdigest() == digest
            if megabytes:
                rows.append(
                    (kind, megabytes, up_s, up_kb, down_s, down_kb, max(up_peak, down_peak))
                )
            else:
                rows.append(None)
        return [row for row in rows if row is not None]
    finally:
        worker.terminate()
        worker.wait()


def main() -> None:
    from moto.server import ThreadedMotoServer
    from sqlalchemy import create_engine, make_url, text

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        try:
            for kind, endpoint in (("local", None), ("s3", f"http://{host}:{port}")):
                server_url = os.environ.get("DATABASE_URL")
                if server_url:
                    base = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
                    name = f"opora_bench_{uuid.uuid4().hex[:8]}"
                    admin = create_engine(base, isolation_level="AUTOCOMMIT")
                    with admin.connect() as conn:
                        conn.execute(text(f'CREATE DATABASE "{name}"'))
                    url = base.set(database=name).render_as_string(hide_password=False)
                else:
                    url = f"sqlite:///{work / f'bench-{kind}.sqlite3'}"
                try:
                    rows += run_store(kind, url, work, endpoint)
                finally:
                    if server_url:
                        with admin.connect() as conn:
                            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                        admin.dispose()
        finally:
            moto.stop()
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    table = [
        f"{SECTION} — {dt.date.today()}, {database}, loaded 2-core machine",
        "",
        "The worker's growth: its peak resident size during the request minus the size just",
        "before it (the client is another process).",
        "",
        "| store | file, MB | upload, s | upload growth, MB | serve, s | serve growth, MB | worker peak, MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, megabytes, up_s, up_kb, down_s, down_kb, peak_kb in rows:
        table.append(
            f"| {kind} | {megabytes} | {up_s:.2f} | {up_kb / 1024:.1f} | {down_s:.2f} "
            f"| {down_kb / 1024:.1f} | {peak_kb / 1024:.0f} |"
        )
    print("\n".join(table))
    results = HERE / "RESULTS.md"
    text_now = results.read_text(encoding="utf-8")
    block = "\n".join(table) + "\n"
    if SECTION in text_now:
        head, _, rest = text_now.partition(SECTION)
        tail = rest.split("\n## ", 1)
        text_now = head + block + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text_now = text_now.rstrip("\n") + "\n\n" + block
    results.write_text(text_now, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4] or None)
    else:
        main()
