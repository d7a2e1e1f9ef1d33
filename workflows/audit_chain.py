"""The audit trail's hash chain: proof that no audit row was changed, removed or slipped in.

Each sealed audit row gets a link in audit_seal: HMAC-SHA256, under a key that is not in the
database (OPORA_AUDIT_KEY), of the row's values, the id of the row before it and that row's
link. `flask audit verify` recomputes the chain from the first row; a superuser who edits,
deletes or inserts a row cannot recompute the links after it without the key.

Writers are untouched: they only INSERT audit rows, as before, and never wait for the chain.
The sealer (`flask audit seal`, run by the tick) links rows in id order after the newest link.
Sealers queue on one advisory lock (only sealers take it). Ids are taken from a sequence and
committed out of order, so the sealer never links past an id that an open transaction may
still commit: it reads the sequence, then waits until every transaction that had an xid at
that moment has ended (writers get their xid before their audit id: models/audit.py). A
transaction open longer than the settle timeout postpones sealing to the next run. On SQLite
writes are serialised: a committed row never gets an id below one committed before it.

What the chain cannot prove: a row changed before it was sealed (the window is the time to
the next seal), and the newest rows removed together with their links. For the latter keep
the head that seal and verify print somewhere else (the tick's log) and pass it back to
`verify --expect-head`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from models.audit import AuditRecord, AuditSeal

CHAIN_VERSION = "opora-audit-v1"
GENESIS = bytes(32)  # the «link» before the first row
# Any constant the application owns; «opora seal» in ASCII.
SEAL_LOCK_KEY = 0x6F706F72_7365616C
SETTLE_TIMEOUT = 10.0  # seconds the sealer waits for open transactions
BATCH = 2000  # rows linked per transaction
MIN_KEY_LENGTH = 32
SQLITE_BUSY_RETRIES = 100  # × 50 ms

RECORD = AuditRecord.__table__
SEAL = AuditSeal.__table__


class ChainKeyError(RuntimeError):
    """The chain's key is missing or unusable; the message is for the operator."""


def audit_key(instance: Path, production: bool, configured: str | None = None) -> bytes:
    """The chain's key: `configured` or OPORA_AUDIT_KEY; in development a key kept in
    instance/audit_key (made on first use, readable by its owner only)."""
    key = configured or os.environ.get("OPORA_AUDIT_KEY")
    if not key:
        if production:
            raise ChainKeyError(
                "OPORA_AUDIT_KEY не задан: журнал аудита нельзя запечатать или проверить."
            )
        path = Path(instance) / "audit_key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
        key = path.read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ChainKeyError(
            f"OPORA_AUDIT_KEY короче {MIN_KEY_LENGTH} знаков: задайте, например, "
            "вывод `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    return key.encode()


def key_id(key: bytes) -> str:
    """A fingerprint of the key stored with each link: tells «another key» from «changed»."""
    return hmac.new(key, b"opora-audit-key-id", hashlib.sha256).hexdigest()[:16]


def _canonical(row: Row[Any], prev_id: int | None) -> bytes:
    at = row.at
    if at.tzinfo is not None:  # PostgreSQL answers in the session's zone; SQLite keeps UTC
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    values = [
        CHAIN_VERSION,
        prev_id,
        row.id,
        at.isoformat(timespec="microseconds"),
        row.user_id,
        row.username,
        row.ip,
        row.action,
        row.table_name,
        row.row_id,
        row.changes,
    ]
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def link(key: bytes, prev_hash: bytes, prev_id: int | None, row: Row[Any]) -> bytes:
    """The link of `row`: HMAC-SHA256 of the link before it, its id and the row's values."""
    return hmac.new(key, prev_hash + _canonical(row, prev_id), hashlib.sha256).digest()


@dataclass(frozen=True)
class Head:
    """The newest link: keep «id:hash» outside the database to catch a cut-off tail."""

    audit_id: int
    hash: str

    def __str__(self) -> str:
        return f"{self.audit_id}:{self.hash}"

    @classmethod
    def parse(cls, value: str) -> Head:
        audit_id, _, digest = value.strip().partition(":")
        if not audit_id.isdigit() or len(digest) != 64:
            raise ValueError("Голова цепочки задаётся как «номер:хеш» (как её печатает verify).")
        return cls(int(audit_id), digest.lower())


def head(connection: Connection) -> Head | None:
    """The newest link of the chain, or None before the first seal."""
    row = connection.execute(
        select(SEAL.c.audit_id, SEAL.c.hash).order_by(SEAL.c.audit_id.desc()).limit(1)
    ).first()
    return Head(row.audit_id, row.hash) if row else None


# --- sealing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealResult:
    sealed: int
    head: Head | None
    settled: bool = True  # False: an open transaction outlived the settle timeout


# The transactions running in this database: each holds the lock on its own xid (taken
# when the xid is assigned); prepared ones are listed apart. Only these can add audit rows.
RUNNING_HERE = text(
    """
    SELECT l.transactionid::text::bigint FROM pg_locks AS l JOIN pg_stat_activity AS a
        ON a.pid = l.pid
    WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
        AND a.datname = current_database()
    UNION
    SELECT transaction::text::bigint FROM pg_prepared_xacts
    WHERE database = current_database()
    """
)
STILL_RUNNING = text(
    "SELECT count(*) FROM unnest(CAST(:xids AS bigint[])) AS x"
    " WHERE pg_xact_status(x::text::xid8) = 'in progress'"
)


def _full_xid(xid: int, reference: int) -> int:
    """A 32-bit xid as a 64-bit one, taken as the nearer of older or newer than `reference`
    (64-bit): a running xid is never 2^31 transactions away, as PostgreSQL itself assumes."""
    behind = ((reference & 0xFFFFFFFF) - xid) % (1 << 32)
    return reference - behind if behind < 1 << 31 else reference + (1 << 32) - behind


def settled_horizon(connection: Connection, timeout: float = SETTLE_TIMEOUT) -> int | None:
    """PostgreSQL: the highest audit id below which no open transaction can still commit a
    row, or None when such a transaction stays open longer than `timeout` seconds.

    The sequence is read first; then the sealer takes an xid of its own in a transaction it
    commits at once. Every id up to the sequence's value was taken by a transaction whose xid
    is older than that one (writers get their xid before their id), so once none of the
    transactions of this database with an older xid is still running, all of them have
    committed or rolled back. Readers have no xid, and transactions of other databases on the
    server cannot write here: neither delays this. (A snapshot's xmax cannot mark «older»:
    it is the newest finished xid + 1, and a transaction begun after that one is running
    but not listed in the snapshot.)"""
    high = connection.execute(
        text(
            "SELECT pg_sequence_last_value(pg_get_serial_sequence('audit_record', 'id')::regclass)"
        )
    ).scalar()
    mine = int(connection.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())
    connection.commit()
    try:
        older = [
            full
            for (xid,) in connection.execute(RUNNING_HERE)
            if (full := _full_xid(xid, mine)) < mine
        ]
        deadline = time.monotonic() + timeout
        while older and connection.execute(STILL_RUNNING, {"xids": older}).scalar():
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
        return high or 0
    finally:
        connection.rollback()


def seal_batch(
    connection: Connection, key: bytes, horizon: int | None = None, limit: int = BATCH
) -> int:
    """Link up to `limit` unsealed rows after the head (and not above `horizon`) inside the
    caller's transaction; returns how many. On PostgreSQL it first takes the sealers' lock,
    which no writer ever takes."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(SEAL_LOCK_KEY)))
    last = head(connection)
    query = select(RECORD).order_by(RECORD.c.id).limit(limit)
    if last is not None:
        query = query.where(RECORD.c.id > last.audit_id)
    if horizon is not None:
        query = query.where(RECORD.c.id <= horizon)
    rows = connection.execute(query).all()
    if not rows:
        return 0
    prev_hash = bytes.fromhex(last.hash) if last else GENESIS
    prev_id = last.audit_id if last else None
    fingerprint, now, links = key_id(key), dt.datetime.now(dt.UTC), []
    for row in rows:
        prev_hash = link(key, prev_hash, prev_id, row)
        links.append(
            {
                "audit_id": row.id,
                "prev_id": prev_id,
                "hash": prev_hash.hex(),
                "key_id": fingerprint,
                "sealed_at": now,
            }
        )
        prev_id = row.id
    connection.execute(insert(SEAL), links)
    return len(links)


def seal(
    engine: Engine, key: bytes, settle_timeout: float = SETTLE_TIMEOUT, batch: int = BATCH
) -> SealResult:
    """Link every settled unsealed audit row to the chain, `batch` rows per transaction.
    Safe to run on several servers at once; never blocks a writer."""
    sealed, conflicts, busy = 0, 0, 0
    with engine.connect() as connection:
        horizon = None
        if connection.dialect.name == "postgresql":
            horizon = settled_horizon(connection, settle_timeout)
            if horizon is None:
                return SealResult(0, head(connection), settled=False)
        while True:
            try:
                with connection.begin():
                    count = seal_batch(connection, key, horizon, batch)
            except IntegrityError:
                # SQLite: another sealer linked the same rows first (PostgreSQL's lock
                # prevents that). Start again from the new head.
                conflicts += 1
                if conflicts > 3:
                    raise
                continue
            except OperationalError as error:
                # SQLite answers «database is locked» at once, without waiting, when the
                # sealer's read would have to wait on a writer's commit: try again shortly.
                busy += 1
                if connection.dialect.name != "sqlite" or busy > SQLITE_BUSY_RETRIES:
                    raise
                if "locked" not in str(error):
                    raise
                time.sleep(0.05)
                continue
            sealed += count
            if count < batch:
                break
        last = head(connection)
        connection.rollback()
    return SealResult(sealed, last)


# --- verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int  # sealed rows whose link was recomputed
    unsealed: int  # rows after the head, not sealed yet
    head: Head | None
    problem: str | None = None  # in Russian, for the operator; names the row
    audit_id: int | None = None  # the row at the first broken link


def _merged(connection: Connection) -> Iterator[tuple[int, Row[Any] | None, Row[Any] | None]]:
    """(id, row or None, link or None) in id order over both tables."""
    options = {"stream_results": True, "yield_per": 2000}
    rows = iter(connection.execution_options(**options).execute(select(RECORD).order_by("id")))
    links = iter(connection.execution_options(**options).execute(select(SEAL).order_by("audit_id")))
    row, seal_row = next(rows, None), next(links, None)
    while row is not None or seal_row is not None:
        if seal_row is None or (row is not None and row.id < seal_row.audit_id):
            assert row is not None  # the loop runs while one of the two is left
            yield row.id, row, None
            row = next(rows, None)
        elif row is None or seal_row.audit_id < row.id:
            yield seal_row.audit_id, None, seal_row
            seal_row = next(links, None)
        else:
            yield row.id, row, seal_row
            row, seal_row = next(rows, None), next(links, None)


def _link_problem(
    key: bytes,
    fingerprint: str,
    prev_hash: bytes,
    prev_id: int | None,
    row: Row[Any] | None,
    seal_row: Row[Any],
    expect_head: Head | None,
) -> tuple[int, str] | None:
    """What is wrong with one link, given the link checked before it (`prev_hash` of row
    `prev_id`): (the row to name, the problem in Russian), or None if the link holds —
    the row is there, the link points at the row before it, is sealed with this key, its
    hash matches the row, and it is the head kept outside if that is this row."""
    audit_id = seal_row.audit_id
    if row is None:
        return audit_id, f"Запись журнала № {audit_id} удалена: её печать осталась, записи нет."
    if seal_row.prev_id != prev_id:
        if seal_row.prev_id is not None and (prev_id is None or seal_row.prev_id > prev_id):
            return (
                seal_row.prev_id,
                f"Запись журнала № {seal_row.prev_id} удалена вместе с печатью: "
                f"запись № {audit_id} ссылается на неё как на предыдущую.",
            )
        return (
            audit_id,
            f"Цепочка разорвана у записи журнала № {audit_id}: её печать ссылается "
            f"на запись № {seal_row.prev_id}, а перед ней в журнале запись № {prev_id}.",
        )
    if seal_row.key_id != fingerprint:
        return (
            audit_id,
            f"Запись журнала № {audit_id} запечатана другим ключом: OPORA_AUDIT_KEY "
            "не тот, которым журнал запечатывали (или печать подделана).",
        )
    expected = link(key, prev_hash, prev_id, row).hex()
    if not hmac.compare_digest(expected, seal_row.hash):
        return (
            audit_id,
            f"Запись журнала № {audit_id} изменена после запечатывания "
            "(или подделана её печать): хеш не сходится.",
        )
    if (
        expect_head is not None
        and audit_id == expect_head.audit_id
        and seal_row.hash != expect_head.hash
    ):
        return (
            audit_id,
            f"Печать записи журнала № {audit_id} не та, что была сохранена как "
            "голова цепочки: журнал переписан.",
        )
    return None


def verify(engine: Engine, key: bytes, expect_head: Head | None = None) -> Verdict:
    """Recompute the chain from the first row; the verdict names the first broken link: a
    changed row, a removed one, one inserted among sealed rows, or a head kept outside that
    the chain no longer reaches."""
    fingerprint = key_id(key)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # both tables from one snapshot
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        last = head(connection)
        checked, unsealed, seen_expected = 0, 0, False
        prev_hash, prev_id = GENESIS, None

        def broken(audit_id: int, problem: str) -> Verdict:
            return Verdict(False, checked, unsealed, last, problem, audit_id)

        for audit_id, row, seal_row in _merged(connection):
            if seal_row is None:
                if last is not None and audit_id < last.audit_id:
                    return broken(
                        audit_id,
                        f"Запись журнала № {audit_id} вставлена в уже запечатанную часть "
                        "журнала: у неё нет печати.",
                    )
                unsealed += 1
                continue
            problem = _link_problem(
                key, fingerprint, prev_hash, prev_id, row, seal_row, expect_head
            )
            if problem is not None:
                return broken(*problem)
            if expect_head is not None and audit_id == expect_head.audit_id:
                seen_expected = True
            prev_hash, prev_id = bytes.fromhex(seal_row.hash), audit_id
            checked += 1
        if expect_head is not None and not seen_expected:
            return broken(
                expect_head.audit_id,
                f"Запись журнала № {expect_head.audit_id}, сохранённая как голова цепочки, "
                "больше не в цепочке: конец журнала срезан.",
            )
    return Verdict(True, checked, unsealed, last)
