"""Backup and restore of the whole database: SQLite's online backup, pg_dump on PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine


def _libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} не найден: установите клиент PostgreSQL (postgresql-client).")
    return path


def _sqlite_file(engine: Engine) -> str:
    database = engine.url.database
    assert database is not None  # a SQLite URL without a file is an in-memory database
    return database


def backup(engine: Engine, path: Path) -> None:
    """Write a consistent copy of the database to `path` while it is in use."""
    path = Path(path)
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(_sqlite_file(engine)) as source, sqlite3.connect(path) as target:
            source.backup(target)
        return
    subprocess.run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            f"--file={path}",
            _libpq_url(engine),
        ],
        check=True,
    )


def restore(engine: Engine, path: Path) -> None:
    """Replace the database's contents with the backup at `path`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Нет файла резервной копии: {path}")
    engine.dispose()  # no pooled connection may hold the old contents
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(path) as source, sqlite3.connect(_sqlite_file(engine)) as target:
            source.backup(target)
        return
    subprocess.run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq_url(engine)}",
            str(path),
        ],
        check=True,
    )
