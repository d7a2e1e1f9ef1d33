"""Backup and restore of the whole database: SQLite's online backup, pg_dump on PostgreSQL.

Backup files hold everyone's personal data: each is written to a new file only its owner may
read (0600) and moved into place once complete, so a failed backup leaves no half file. The
database password never reaches a child's arguments (which every user of the machine can
read): pg_dump and pg_restore find it in a passfile of their own, 0600, removed afterwards.

A restore replaces everything written since the backup. Before it, `lost_since` tells what
that is, read from the audit trail (every write of the panel, the workflows and the CLI is
in it): the audit rows newer than the newest one in the backup. And `restore` first writes a
safety backup of what it is about to replace.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import URL

from models.audit import AuditRecord

from .storage import KEY, LocalStore

DATA_ACTIONS = ("insert", "update", "delete")


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} не найден: установите клиент PostgreSQL (postgresql-client).")
    return path


def _libpq_url(url: URL) -> str:
    """The connection URL for libpq without the password (that goes to the passfile)."""
    url = url._replace(drivername="postgresql", password=None)
    return url.difference_update_query(["password"]).render_as_string(hide_password=False)


def _passfile_line(password: str) -> str:
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"


@contextlib.contextmanager
def _pg_environment(url: URL) -> Iterator[dict[str, str]]:
    """The child's environment: the password in a temporary 0600 passfile, never in argv."""
    env = dict(os.environ)
    password = url.password or url.query.get("password")
    if not password:
        yield env
        return
    if isinstance(password, tuple):
        password = password[-1]
    fd, name = tempfile.mkstemp(prefix="opora-pgpass-")  # mode 0600, as libpq demands
    try:
        with os.fdopen(fd, "w") as file:
            file.write(_passfile_line(str(password)))
        env["PGPASSFILE"] = name
        env.pop("PGPASSWORD", None)
        yield env
    finally:
        os.unlink(name)


@contextlib.contextmanager
def _private_file(path: Path) -> Iterator[Path]:
    """A new 0600 file beside `path`, moved onto it once the block completes."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _sqlite_file(engine: Engine) -> str:
    database = engine.url.database
    assert database is not None  # a SQLite URL without a file is an in-memory database
    return database


def _sqlite_copy(source_path: str | Path, target_path: str | Path) -> None:
    """SQLite's online backup; both connections closed before the file is moved or used."""
    with (
        contextlib.closing(sqlite3.connect(source_path)) as source,
        contextlib.closing(sqlite3.connect(target_path)) as target,
    ):
        source.backup(target)
        # One file, whatever the source's mode: the copy takes the source's write-ahead
        # log mode (models/base.py), and a reader of a backup in it leaves -wal and -shm
        # files beside it. A live database gets its log mode back at its next connection.
        target.execute("PRAGMA journal_mode = DELETE")


def backup(engine: Engine, path: Path) -> None:
    """Write a consistent copy of the database to `path` (mode 0600) while it is in use."""
    path = Path(path)
    with _private_file(path) as target:
        if engine.dialect.name == "sqlite":
            _sqlite_copy(_sqlite_file(engine), target)
            return
        with _pg_environment(engine.url) as env, target.open("wb") as out:
            subprocess.run(
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    f"--dbname={_libpq_url(engine.url)}",
                ],
                stdout=out,
                env=env,
                check=True,
            )


def safety_backup_path(path: Path, now: dt.datetime | None = None) -> Path:
    """Where restore keeps what it replaces: beside the backup, named by the moment."""
    path = Path(path)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return path.with_name(f"{path.stem}.before-restore-{stamp}{path.suffix or '.backup'}")


def restore(engine: Engine, path: Path, safety: Path) -> None:
    """Replace the database's contents with the backup at `path`, after writing a backup of
    the current contents to `safety`; nothing is replaced if that safety backup fails."""
    path, safety = Path(path), Path(safety)
    if not path.exists():
        raise FileNotFoundError(f"Нет файла резервной копии: {path}")
    if safety.resolve() == path.resolve():
        raise ValueError("Страховочная копия не может заменить восстанавливаемый файл.")
    backup(engine, safety)
    engine.dispose()  # no pooled connection may hold the old contents
    if engine.dialect.name == "sqlite":
        _sqlite_copy(path, _sqlite_file(engine))
        return
    with _pg_environment(engine.url) as env:
        subprocess.run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(engine.url)}",
                str(path),
            ],
            env=env,
            check=True,
        )


# --- the document files of the local store ------------------------------------------------


def documents_archive_path(path: Path) -> Path:
    """Where the backup at `path` keeps the local store's files: beside it, one tar."""
    path = Path(path)
    return path.with_name(f"{path.name}.documents.tar")


def backup_documents(store: LocalStore, archive: Path) -> int:
    """Write every file of the local document store to the tar `archive` (mode 0600,
    moved into place once complete); the number of files."""
    count = 0
    with _private_file(Path(archive)) as target, tarfile.open(target, "w") as tar:
        for key in store.stored_keys():
            tar.add(store.path(key), arcname=key, recursive=False)
            count += 1
    return count


def restore_documents(store: LocalStore, archive: Path, safety: Path) -> int:
    """Replace the local store's files by those of the tar `archive`, after writing the
    current ones to the tar `safety`; nothing is replaced if that fails. Only names the
    store makes are taken from the archive (no path leaves the store)."""
    archive, safety = Path(archive), Path(safety)
    if not archive.exists():
        raise FileNotFoundError(f"Нет архива документов: {archive}")
    backup_documents(store, safety)
    root = store.root
    root.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.restore-"))
    count = 0
    try:
        with tarfile.open(archive, "r") as tar:
            for member in tar.getmembers():
                if not member.isfile() or not KEY.match(member.name):
                    continue
                source = tar.extractfile(member)
                assert source is not None  # a regular file has its data
                target = fresh / member.name
                target.parent.mkdir(mode=0o700, exist_ok=True)
                with source, open(target, "xb") as out:
                    shutil.copyfileobj(source, out)
                os.chmod(target, 0o600)
                count += 1
        old = root.with_name(f".{root.name}.replaced-{os.getpid()}")
        if root.exists():
            os.replace(root, old)
        os.replace(fresh, root)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return count


# --- what a restore discards ------------------------------------------------------------------

COPY_AUDIT = re.compile(r"^COPY (?:\S+\.)?\"?audit_record\"? \(")


def _newest_audit_id_in_sqlite(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as backup_db:
        try:
            return int(
                backup_db.execute("SELECT coalesce(max(id), 0) FROM audit_record").fetchone()[0]
            )
        except sqlite3.DatabaseError:  # not a database of ours, or no audit table
            return 0


def _newest_audit_id_in_dump(path: Path) -> int:
    """The audit table's data as pg_restore prints it (no server involved); its largest id."""
    process = subprocess.Popen(
        [_pg_tool("pg_restore"), "--data-only", "--table=audit_record", "--file=-", str(path)],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    newest, copying = 0, False
    assert process.stdout is not None
    for line in process.stdout:
        if copying:
            if line.startswith("\\."):
                copying = False
            else:
                first = line.split("\t", 1)[0]
                if first.isdigit():
                    newest = max(newest, int(first))
        elif COPY_AUDIT.match(line):
            copying = True
    if process.wait() != 0:
        raise subprocess.CalledProcessError(process.returncode, "pg_restore --data-only")
    return newest


def newest_audit_id(engine: Engine, path: Path) -> int:
    """The id of the newest audit row inside the backup at `path` (0 when it has none)."""
    if engine.dialect.name == "sqlite":
        return _newest_audit_id_in_sqlite(Path(path))
    return _newest_audit_id_in_dump(Path(path))


@dataclass
class Discarded:
    """What the database holds that the backup does not, as the audit trail tells it."""

    backup_newest_id: int
    audit_rows: int = 0  # every audit row newer than the backup (changes, sign-ins, openings)
    newest_at: dt.datetime | None = None
    rows_by_table: dict[str, int] = field(default_factory=dict)  # rows written, per table


def lost_since(engine: Engine, path: Path) -> Discarded:
    """What restoring the backup at `path` would discard: the audit rows newer than the newest
    one in the backup and, among them, how many rows of each table were created, changed or
    deleted (each row counted once)."""
    newest = newest_audit_id(engine, path)
    record = AuditRecord.__table__
    if not inspect(engine).has_table(record.name):  # restoring into an empty database
        return Discarded(newest)
    with engine.connect() as connection:
        total, newest_at = connection.execute(
            select(func.count(), func.max(record.c.at)).where(record.c.id > newest)
        ).one()
        per_table = connection.execute(
            select(record.c.table_name, func.count(record.c.row_id.distinct()))
            .where(record.c.id > newest, record.c.action.in_(DATA_ACTIONS))
            .group_by(record.c.table_name)
            .order_by(record.c.table_name)
        ).all()
    return Discarded(newest, total, newest_at, {name: count for name, count in per_table})
