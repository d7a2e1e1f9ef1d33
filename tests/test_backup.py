"""Backup and restore: nothing is lost, nothing leaks."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, func, select

from models import District, db
from models.audit import record_event
from workflows.backup import backup, newest_audit_id, restore


def _districts(app):
    with app.app_context():
        return sorted(db.session.scalars(select(District.name)))


def test_backup_then_restore_gives_the_same_data(app, runner, tmp_path):
    """Does `backup` then `restore` bring back exactly what was backed up?"""
    with app.app_context():
        db.session.add_all([District(name="Участок № 1"), District(name="Участок № 2")])
        db.session.commit()
    path = tmp_path / "opora.backup"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert path.stat().st_size > 0
    before = _districts(app)

    with app.app_context():
        db.session.add(District(name="Участок № 3"))
        db.session.delete(db.session.scalar(select(District).where(District.name == "Участок № 1")))
        db.session.commit()
        db.session.remove()
    assert _districts(app) != before

    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert _districts(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(District)) == 2


def test_restore_refuses_a_missing_file(runner, tmp_path):
    """Does restore refuse a path that does not exist, changing nothing?"""
    result = runner.invoke(args=["restore", str(tmp_path / "nope"), "--yes"])
    assert result.exit_code != 0


# --- files only their owner reads; no password in argv; nothing lost by a restore -----------

FAKE_TOOL = '''#!{python}
"""A stand-in for {name}: records how it was called, then does what the test needs."""
import json, os, stat, sys
from pathlib import Path

passfile = os.environ.get("PGPASSFILE")
record = {{
    "tool": "{name}",
    "argv": sys.argv,
    "PGPASSWORD": os.environ.get("PGPASSWORD"),
    "passfile": passfile,
    "passfile_mode": stat.S_IMODE(os.stat(passfile).st_mode) if passfile else None,
    "passfile_text": Path(passfile).read_text() if passfile else None,
    "files": sorted(p.name for p in Path({watch!r}).iterdir()),
}}
with open({log!r}, "a") as log:
    log.write(json.dumps(record) + "\\n")
if "--data-only" in sys.argv:
    print("SET client_encoding = 'UTF8';")
    print("COPY public.audit_record (id, at, user_id, username, ip, action) FROM stdin;")
    for audit_id in (3, 17, 9):
        print(f"{{audit_id}}\\t2026-01-01 10:00:00+00\\t\\\\N\\tadmin\\t\\\\N\\tview")
    print("\\\\.")
elif "{name}" == "pg_dump":
    sys.stdout.write("FAKE DUMP")
sys.exit(int(os.environ.get("FAKE_{upper}_EXIT", "0")))
'''
PASSWORD = "pa:ss\\wo rd"


@pytest.fixture
def fake_pg_tools(tmp_path, monkeypatch):
    """pg_dump and pg_restore stand-ins first on PATH; returns the list of their calls."""
    bin_dir, watch = tmp_path / "bin", tmp_path / "backups"
    bin_dir.mkdir()
    watch.mkdir()
    log = tmp_path / "calls.jsonl"
    for name in ("pg_dump", "pg_restore"):
        tool = bin_dir / name
        tool.write_text(
            FAKE_TOOL.format(
                python=sys.executable, name=name, upper=name.upper(), watch=str(watch), log=str(log)
            )
        )
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PGPASSWORD", "inherited-secret")

    def calls() -> list[dict]:
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    return watch, calls


def _pg_engine():
    url = URL.create(
        "postgresql+psycopg", "opora", PASSWORD, "db.example", 5433, "opora", {"sslmode": "require"}
    )
    return create_engine(url)


def _mode(path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def test_backup_files_are_readable_by_their_owner_only(app, runner, tmp_path):
    """Is a backup written 0600 — also over an older, world-readable file — with no
    half-written file left beside it?"""
    path = tmp_path / "opora.backup"
    path.write_text("old")
    path.chmod(0o644)
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert _mode(path) == 0o600
    assert path.read_bytes() != b"old"
    # beside it only the local document store's files, as private
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "opora.backup",
        "opora.backup.documents.tar",
    ]
    assert _mode(tmp_path / "opora.backup.documents.tar") == 0o600


def test_pg_dump_gets_the_password_from_a_private_passfile_not_argv(fake_pg_tools):
    """Does pg_dump get the connection without the password in its arguments, the password in
    a 0600 passfile (removed afterwards) instead of the inherited PGPASSWORD, and its output
    in a 0600 file?"""
    watch, calls = fake_pg_tools
    path = watch / "opora.dump"
    backup(_pg_engine(), path)
    (call,) = calls()
    assert not any("pa:ss" in arg or "wo rd" in arg for arg in call["argv"]), call["argv"]
    assert "--dbname=postgresql://opora@db.example:5433/opora?sslmode=require" in call["argv"]
    assert call["PGPASSWORD"] is None
    assert call["passfile_mode"] == 0o600
    assert call["passfile_text"] == "*:*:*:*:pa\\:ss\\\\wo rd\n"
    assert not Path(call["passfile"]).exists()
    assert path.read_text() == "FAKE DUMP" and _mode(path) == 0o600


def test_restore_writes_the_safety_backup_before_replacing_anything(fake_pg_tools, monkeypatch):
    """Does restore run pg_dump into the safety file (complete, 0600) before pg_restore
    starts, keep the password out of both tools' arguments — and replace nothing when the
    safety backup fails?"""
    watch, calls = fake_pg_tools
    source, safety = watch / "opora.dump", watch / "opora.before-restore.dump"
    source.write_text("BACKUP")
    restore(_pg_engine(), source, safety)
    dump, replace = calls()
    assert (dump["tool"], replace["tool"]) == ("pg_dump", "pg_restore")
    assert safety.name in replace["files"]
    assert not any(name.endswith(".partial") for name in replace["files"])
    assert str(source) in replace["argv"] and "--single-transaction" in replace["argv"]
    for call in (dump, replace):
        assert not any("pa:ss" in arg for arg in call["argv"]), call["argv"]
        assert call["passfile_mode"] == 0o600 and call["PGPASSWORD"] is None
    assert safety.read_text() == "FAKE DUMP" and _mode(safety) == 0o600

    monkeypatch.setenv("FAKE_PG_DUMP_EXIT", "1")
    with pytest.raises(subprocess.CalledProcessError):
        restore(_pg_engine(), source, watch / "second.dump")
    assert [c["tool"] for c in calls()] == ["pg_dump", "pg_restore", "pg_dump"]
    assert not (watch / "second.dump").exists()
    with pytest.raises(ValueError):
        restore(_pg_engine(), source, source)


def test_the_newest_audit_row_is_read_from_a_dump_without_a_server(fake_pg_tools):
    """Is the backup's newest audit id taken from pg_restore's listing of its audit data?"""
    watch, calls = fake_pg_tools
    (watch / "opora.dump").write_text("BACKUP")
    assert newest_audit_id(_pg_engine(), watch / "opora.dump") == 17
    (call,) = calls()
    assert "--data-only" in call["argv"] and "--table=audit_record" in call["argv"]


def test_restore_says_what_it_discards_and_keeps_it_in_the_safety_backup(app, runner, tmp_path):
    """Does restore say how many audit rows and which table rows written since the backup it
    discards, write a 0600 safety backup of them, and does restoring that safety backup bring
    them all back?"""
    with app.app_context():
        db.session.add_all([District(name="Участок № 1"), District(name="Участок № 2")])
        db.session.commit()
    path = tmp_path / "opora.backup"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    before = _districts(app)
    with app.app_context():
        db.session.add_all([District(name="Участок № 3"), District(name="Участок № 4")])
        db.session.scalar(select(District).where(District.name == "Участок № 1")).territory = "Юг"
        record_event(db.session, "view", "district", 1)
        db.session.commit()
        db.session.remove()
    after = _districts(app)

    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert "в журнале аудита базы 4 записи" in result.output
    assert "Из них созданы, изменены или удалены 3 строки: district — 3." in result.output
    assert _districts(app) == before
    (safety,) = tmp_path.glob("opora.before-restore-*.backup")
    assert f"Страховочная копия заменённых данных: {safety}" in result.output
    assert _mode(safety) == 0o600

    result = runner.invoke(
        args=["restore", str(safety), "--yes", "--safety-backup", str(tmp_path / "again.backup")]
    )
    assert result.exit_code == 0, result.output
    assert "После этой копии в базе ничего не записано" in result.output
    assert _districts(app) == after


def test_restore_asks_before_replacing_and_a_no_changes_nothing(app, runner, tmp_path):
    """Without --yes, does restore show what it discards, ask, and on «no» change nothing and
    write no safety backup?"""
    with app.app_context():
        db.session.add(District(name="Участок № 1"))
        db.session.commit()
    path = tmp_path / "opora.backup"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    with app.app_context():
        db.session.add(District(name="Участок № 2"))
        db.session.commit()
        db.session.remove()
    current = _districts(app)
    result = runner.invoke(args=["restore", str(path)], input="n\n")
    assert result.exit_code != 0
    assert "district — 1" in result.output and "Продолжить?" in result.output
    assert _districts(app) == current
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "opora.backup",
        "opora.backup.documents.tar",
    ]
