"""Does the hash chain prove that no audit row was changed, removed or slipped in?

`flask audit seal` links each audit row to the one before it (HMAC-SHA256 under a key kept
outside the database); `flask audit verify` recomputes the chain and names the first broken
link. The tampering here is what a superuser could do: on PostgreSQL with the triggers
switched off (session_replication_role = replica), on SQLite plainly.
"""

from __future__ import annotations

import os
import stat
import threading
import time

import factories as f
import pytest
from sqlalchemy import func, insert, select, text

from models import AuditRecord, db
from models.audit import Actor, AuditSeal, record_event
from workflows import audit_chain
from workflows.audit_chain import ChainKeyError, Head, audit_key, seal, seal_batch, verify

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
TESTER = Actor(None, "tester", "10.0.0.1")

postgres_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"),
    reason="concurrent transactions and sequence order are a PostgreSQL matter",
)


def events(app, count: int) -> list[int]:
    """`count` new audit rows (openings of families); their ids."""
    with app.app_context():
        before = db.session.scalar(select(func.max(AuditRecord.id))) or 0
        for number in range(count):
            record_event(db.session, "view", "family", number, actor=TESTER)
        db.session.commit()
        return list(
            db.session.scalars(
                select(AuditRecord.id).where(AuditRecord.id > before).order_by(AuditRecord.id)
            )
        )


def tamper(app, *statements: str) -> None:
    """Run `statements` as a superuser bent on rewriting history would."""
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            connection.execute(text(statement))


def sealed(app, **options) -> audit_chain.SealResult:
    with app.app_context():
        return seal(db.engine, KEY, **options)


def verdict(app, key: bytes = KEY, expect_head: Head | None = None) -> audit_chain.Verdict:
    with app.app_context():
        return verify(db.engine, key, expect_head)


def broken_at(app, audit_id: int, words: str, **options) -> None:
    result = verdict(app, **options)
    assert not result.ok
    assert result.audit_id == audit_id, result.problem
    assert f"№ {audit_id}" in result.problem and words in result.problem, result.problem


# --- seal and verify --------------------------------------------------------------------------


def test_seal_then_verify_holds_and_sealing_again_adds_only_new_rows(app):
    """Does seal link every row, verify accept the chain, a second seal link nothing, and rows
    written later stay «not sealed yet» until the next seal links them after the head?"""
    first = events(app, 5)
    result = sealed(app)
    assert (result.sealed, result.settled) == (5, True)
    assert result.head.audit_id == first[-1]
    assert sealed(app).sealed == 0
    ok = verdict(app)
    assert (ok.ok, ok.checked, ok.unsealed, ok.head) == (True, 5, 0, result.head)

    later = events(app, 3)
    assert verdict(app).unsealed == 3 and verdict(app).ok
    result = sealed(app, batch=2)  # three transactions of at most two rows
    assert result.sealed == 3 and result.head.audit_id == later[-1]
    ok = verdict(app, expect_head=Head(first[-1], sealed_head(app, first[-1])))
    assert (ok.ok, ok.checked, ok.unsealed) == (True, 8, 0)


def sealed_head(app, audit_id: int) -> str:
    with app.app_context():
        return db.session.get(AuditSeal, audit_id).hash


def test_rows_written_by_the_panel_hook_are_sealed_too(app):
    """Do the rows of the after_flush hook (a family created and changed, with JSON changes
    and a timestamp) verify after sealing?"""
    with app.app_context():
        family = f.family(surname="Звеньевы")
        db.session.commit()
        family.surname = "Цепочкины"
        db.session.commit()
    assert sealed(app).sealed >= 2
    assert verdict(app).ok


@pytest.mark.parametrize(
    "change",
    [
        "username = 'someone else'",
        "action = 'login'",
        """changes = '{"surname": {"old": "А", "new": "Б"}}'""",
        "row_id = '999'",
        "at = at + interval '1 second'",
    ],
)
def test_a_changed_row_is_named(app, change):
    """Does changing any value of a sealed row — who, what, which row, the details, when —
    make verify fail naming that row?"""
    ids = events(app, 5)
    sealed(app)
    target = ids[2]
    if "interval" in change:
        with app.app_context():
            if db.engine.dialect.name == "sqlite":
                change = "at = datetime(at, '+1 second')"
    tamper(app, f"UPDATE audit_record SET {change} WHERE id = {target}")  # noqa: S608
    broken_at(app, target, "изменена")


def test_a_changed_link_is_named(app):
    """Does rewriting a stored link (without the key, any other hash) fail at that row?"""
    ids = events(app, 4)
    sealed(app)
    tamper(app, f"UPDATE audit_seal SET hash = '{'0' * 64}' WHERE audit_id = {ids[1]}")  # noqa: S608
    broken_at(app, ids[1], "изменена")


@pytest.mark.parametrize("with_its_seal", [True, False])
@pytest.mark.parametrize("which", [0, 2])
def test_a_removed_row_is_named(app, with_its_seal, which):
    """Does deleting a sealed row — the first or one in the middle, with or without its link
    — make verify fail naming the removed row?"""
    ids = events(app, 5)
    sealed(app)
    target = ids[which]
    statements = [f"DELETE FROM audit_record WHERE id = {target}"]  # noqa: S608
    if with_its_seal:
        statements.append(f"DELETE FROM audit_seal WHERE audit_id = {target}")  # noqa: S608
    tamper(app, *statements)
    broken_at(app, target, "удалена")


def test_a_row_inserted_among_sealed_rows_is_named(app):
    """Does a row slipped into a gap of the sealed range (an id a rolled-back writer left
    unused) make verify fail naming it — without a link, and with a made-up one?"""
    ids = events(app, 5)
    tamper(app, f"DELETE FROM audit_record WHERE id = {ids[2]}")  # noqa: S608 - the unused id
    assert sealed(app).sealed == 4
    assert verdict(app).ok
    forged = (
        "INSERT INTO audit_record (id, at, username, action, table_name, row_id) "  # noqa: S608
        f"VALUES ({ids[2]}, '2026-01-01 10:00:00', 'forged', 'login', NULL, NULL)"
    )
    tamper(app, forged)
    broken_at(app, ids[2], "вставлена")

    tamper(
        app,
        "INSERT INTO audit_seal (audit_id, prev_id, hash, key_id, sealed_at) "  # noqa: S608
        f"VALUES ({ids[2]}, {ids[1]}, '{'a' * 64}', '{audit_chain.key_id(KEY)}', "
        "'2026-01-01 10:00:00')",
    )
    result = verdict(app)
    assert not result.ok and result.audit_id in (ids[2], ids[3]), result.problem


def test_a_cut_off_tail_is_caught_by_the_head_kept_outside(app):
    """Removing the newest rows with their links leaves a shorter chain that holds; does the
    head printed earlier and kept outside catch it?"""
    ids = events(app, 5)
    kept = sealed(app).head
    tamper(
        app,
        f"DELETE FROM audit_seal WHERE audit_id >= {ids[3]}",  # noqa: S608
        f"DELETE FROM audit_record WHERE id >= {ids[3]}",  # noqa: S608
    )
    assert verdict(app).ok  # the chain alone cannot tell
    broken_at(app, ids[4], "голова цепочки", expect_head=kept)
    forged_head = Head(ids[2], "f" * 64)
    broken_at(app, ids[2], "переписан", expect_head=forged_head)


def test_another_key_is_told_from_a_change(app):
    """Does verify under another key say «another key», not «row changed»?"""
    ids = events(app, 2)
    sealed(app)
    broken_at(app, ids[0], "другим ключом", key=OTHER_KEY)


def test_an_empty_trail_verifies(app):
    """Do seal and verify on an empty trail answer calmly?"""
    assert sealed(app).sealed == 0
    result = verdict(app)
    assert (result.ok, result.checked, result.unsealed, result.head) == (True, 0, 0, None)


# --- the commands -----------------------------------------------------------------------------


def test_audit_commands_seal_verify_and_name_the_broken_row(app, runner, monkeypatch):
    """Do `flask audit seal` and `verify` print the head, does verify accept that head back,
    and exit 1 naming the row once it is changed?"""
    monkeypatch.setenv("OPORA_AUDIT_KEY", "x" * 40)
    ids = events(app, 3)
    result = runner.invoke(args=["audit", "seal"])
    assert result.exit_code == 0, result.output
    assert "Запечатано записей журнала аудита: 3" in result.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Журнал аудита цел: проверено 3 записи с печатью" in result.output
    head = result.output.split("Голова цепочки: ")[1].split()[0]
    assert head.startswith(f"{ids[-1]}:")
    assert runner.invoke(args=["audit", "verify", "--expect-head", head]).exit_code == 0
    assert runner.invoke(args=["audit", "verify", "--expect-head", "nonsense"]).exit_code == 2

    tamper(app, f"UPDATE audit_record SET username = 'x' WHERE id = {ids[1]}")  # noqa: S608
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"Запись журнала № {ids[1]} изменена" in result.output

    monkeypatch.setenv("OPORA_AUDIT_KEY", "short")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "OPORA_AUDIT_KEY короче" in result.output


def test_the_tick_seals(app, runner, monkeypatch):
    """Does `flask tick` seal the rows written so far and print the head?"""
    monkeypatch.setenv("OPORA_AUDIT_KEY", "x" * 40)
    ids = events(app, 2)
    result = runner.invoke(args=["tick", "--date", "2025-03-05"])
    assert result.exit_code == 0, result.output
    assert f"голова цепочки {ids[-1]}:" in result.output
    assert verdict(app, key=b"x" * 40).checked == 2


def test_the_key_comes_from_the_environment_or_a_private_file(tmp_path, monkeypatch):
    """Is the key OPORA_AUDIT_KEY when set; in development a 0600 file made once under
    instance/; refused when missing in production or too short?"""
    monkeypatch.delenv("OPORA_AUDIT_KEY", raising=False)
    made = audit_key(tmp_path, production=False)
    assert stat.S_IMODE((tmp_path / "audit_key").stat().st_mode) == 0o600
    assert audit_key(tmp_path, production=False) == made and len(made) == 64
    with pytest.raises(ChainKeyError, match="не задан"):
        audit_key(tmp_path / "elsewhere", production=True)
    monkeypatch.setenv("OPORA_AUDIT_KEY", "e" * 32)
    assert audit_key(tmp_path, production=True) == b"e" * 32
    with pytest.raises(ChainKeyError, match="короче"):
        audit_key(tmp_path, production=True, configured="short")


# --- PostgreSQL: nothing waits on the sealer, the sealer never passes an open writer ----------


def _write_while_timed(app) -> float:
    """An audited write of the panel's kind (a family and an opening); seconds it took."""
    with app.app_context():
        db.session.execute(text("SET LOCAL statement_timeout = '3s'"))
        started = time.monotonic()
        family = f.family(surname="Неждущие")
        record_event(db.session, "view", "family", family.id, actor=TESTER)
        db.session.commit()
        return time.monotonic() - started


@postgres_only
def test_writers_never_wait_for_an_open_seal_and_sealers_queue(app):
    """While a sealer's transaction is open (its lock held, its links not committed), does an
    audited write go straight through, and does a second sealer wait for the first?"""
    events(app, 3)
    with app.app_context():
        engine = db.engine
    first = engine.connect()
    try:
        transaction = first.begin()
        assert seal_batch(first, KEY) == 3
        assert _write_while_timed(app) < 1.0
        second: list[int] = []

        def second_sealer():
            with engine.connect() as connection, connection.begin():
                second.append(seal_batch(connection, KEY))

        thread = threading.Thread(target=second_sealer)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive() and not second  # queued on the sealers' lock
        transaction.commit()
        thread.join(10)
        assert len(second) == 1 and second[0] >= 2  # the family's rows and the opening
    finally:
        first.close()
    assert verdict(app).ok and verdict(app).checked == 3 + second[0]


@postgres_only
def test_a_row_committed_after_a_newer_one_is_never_passed(app):
    """A writer takes id N and is still open when another commits N+1: does the sealer wait
    (or postpone) instead of sealing N+1, and seal both in id order once N commits?"""
    with app.app_context():
        engine = db.engine
    slow = engine.connect()
    try:
        slow_transaction = slow.begin()
        slow.execute(insert(AuditRecord.__table__).values(action="view", username="slow"))
        later = events(app, 1)
        result = sealed(app, settle_timeout=0.3)
        assert (result.sealed, result.settled) == (0, False)

        done: list[audit_chain.SealResult] = []
        thread = threading.Thread(target=lambda: done.append(sealed(app, settle_timeout=20)))
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive()  # waiting for the open writer
        slow_transaction.commit()
        thread.join(30)
    finally:
        slow.close()
    assert done[0].sealed == 2 and done[0].head.audit_id == later[0]
    result = verdict(app)
    assert (result.ok, result.checked) == (True, 2)


@postgres_only
def test_a_writer_newer_than_every_finished_transaction_is_waited_for(app):
    """V gets its xid, then W gets a newer one and takes audit id N, then V takes N+1 and
    commits: W is running but newer than every finished transaction, so a snapshot's xmax
    does not list it. Does the sealer still refuse to pass N while W is open?"""
    with app.app_context():
        engine = db.engine
        district_id = f.district().id
        db.session.commit()
    older, newer = engine.connect(), engine.connect()
    try:
        older_transaction, newer_transaction = older.begin(), newer.begin()
        older.execute(
            text("UPDATE district SET territory = 'V' WHERE id = :id"), {"id": district_id}
        )
        newer.execute(insert(AuditRecord.__table__).values(action="view", username="W"))
        older.execute(insert(AuditRecord.__table__).values(action="view", username="V"))
        older_transaction.commit()
        result = sealed(app, settle_timeout=0.5)
        assert (result.sealed, result.settled) == (0, False)
        newer_transaction.commit()
    finally:
        older.close()
        newer.close()
    assert sealed(app).settled
    result = verdict(app)
    assert result.ok, result.problem


def test_running_xids_are_read_across_an_epoch():
    """Are the 32-bit xids of pg_locks placed before or after the sealer's 64-bit xid as
    PostgreSQL does (the nearer way round), also across the 2^32 wrap?"""
    mine = (5 << 32) + 10
    assert audit_chain._full_xid(4, mine) == mine - 6
    assert audit_chain._full_xid(30, mine) == mine + 20  # newer: never waited for
    assert audit_chain._full_xid((1 << 32) - 5, mine) == mine - 15  # the epoch before
    assert audit_chain._full_xid(100, 200) == 100
