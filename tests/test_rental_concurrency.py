"""Races at the rental desk on PostgreSQL: twenty clerks at once, each on its own
connection, never lend one unit twice — the row lock decides, the partial unique
index backs it, and every loser is told in Russian why.

SQLite has no row locks (it serialises whole writes), so these run on PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
import threading

import factories as f
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from models import EquipmentUnit, Loan, Person, Reservation, User, db
from workflows import rental
from workflows.errors import WorkflowError

THREADS = 20
TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def pg_engine(app):
    """An engine with a connection for every thread (the app's pool is smaller)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks are a PostgreSQL matter (set DATABASE_URL)")
        url = db.engine.url
    engine = create_engine(url, pool_size=THREADS + 2, max_overflow=0)
    yield engine
    engine.dispose()


def race(engine, attempt) -> list[str]:
    """Run attempt(session, i) in THREADS threads released at the same instant;
    'ok' for each that committed, the Russian message for each refused."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = [""] * THREADS

    def run(i: int) -> None:
        with Session(engine) as session:
            session.connection()  # hold a connection of its own before the start
            barrier.wait()
            try:
                attempt(session, i)
                session.commit()
                outcomes[i] = "ok"
            except WorkflowError as refusal:
                session.rollback()
                outcomes[i] = str(refusal)
            except Exception as exc:  # reported in the outcomes, not swallowed
                session.rollback()
                outcomes[i] = f"unexpected {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _families(count: int) -> list[int]:
    children = []
    for n in range(count):
        fam = f.family(surname=f"Семья{n}")
        children.append(f.person(fam, "child").id)
    return children


def test_twenty_clerks_lend_one_unit_to_twenty_families(app, pg_engine):
    """Do 20 simultaneous lendings of one unit to 20 families leave exactly one loan,
    the other 19 refused with «уже выдана»?"""
    with app.app_context():
        unit_id = f.equipment_unit().id
        children = _families(THREADS)
        clerk_id = f.user("rental_clerk").id
        db.session.commit()

    def lend(session: Session, i: int) -> None:
        unit = session.get(EquipmentUnit, unit_id)
        child = session.get(Person, children[i])
        rental.lend_unit(session, unit, child, session.get(User, clerk_id), TODAY)

    outcomes = race(pg_engine, lend)
    assert outcomes.count("ok") == 1, outcomes
    refusals = [o for o in outcomes if o != "ok"]
    assert all(o == rental.ALREADY_LENT for o in refusals), refusals
    with app.app_context():
        loans = db.session.scalars(select(Loan).where(Loan.unit_id == unit_id)).all()
        assert len(loans) == 1
        assert db.session.get(EquipmentUnit, unit_id).status == "on_loan"


def test_twenty_families_take_the_last_unit_of_a_type_from_the_queue(app, pg_engine):
    """Do 20 clerks serving 20 queue places at once, for a type with one free unit
    left, give out exactly one loan — the others told that no unit is free?"""
    with app.app_context():
        kind = f.equipment_type(name="Вертикализатор")
        f.equipment_unit(kind, status="on_loan")  # already out (its loan is not needed here)
        last = f.equipment_unit(kind)
        children = _families(THREADS)
        places = [
            f.reservation(
                db.session.get(Person, c).family, db.session.get(Person, c), kind, priority="3"
            ).id
            for c in children
        ]
        clerk_id = f.user("rental_clerk").id
        db.session.commit()
        last_id = last.id

    def serve(session: Session, i: int) -> None:
        place = session.get(Reservation, places[i])
        rental.lend_from_queue(session, place, session.get(User, clerk_id), TODAY)

    outcomes = race(pg_engine, serve)
    assert outcomes.count("ok") == 1, outcomes
    refusals = {o for o in outcomes if o != "ok"}
    assert refusals == {"Свободных единиц вида «Вертикализатор» нет: все уже выданы."}, refusals
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Loan)) == 1
        assert db.session.get(EquipmentUnit, last_id).status == "on_loan"
        served = db.session.scalars(
            select(Reservation).where(Reservation.status == "fulfilled")
        ).all()
        assert len(served) == 1


def test_twenty_offers_of_one_unit_at_once_make_one_offer(app, pg_engine):
    """Do 20 servers offering the free units of a type at once (the scheduler on
    several machines) offer the one free unit to exactly one family?"""
    with app.app_context():
        kind = f.equipment_type(name="Ходунки")
        unit_id = f.equipment_unit(kind).id
        children = _families(3)
        for c in children:
            child = db.session.get(Person, c)
            f.reservation(child.family, child, kind, priority="3")
        db.session.commit()
        kind_id = kind.id

    outcomes = race(pg_engine, lambda session, i: rental.offer_available(session, kind_id, TODAY))
    assert all(o == "ok" for o in outcomes), outcomes
    with app.app_context():
        offered = db.session.scalars(
            select(Reservation).where(Reservation.status == "offered")
        ).all()
        assert [r.offered_unit_id for r in offered] == [unit_id]


def test_database_refuses_a_second_open_loan_when_the_check_is_bypassed(app, pg_engine):
    """With the workflow and its lock bypassed — two raw inserts from two connections —
    does PostgreSQL's partial unique index still allow only one open loan?"""
    with app.app_context():
        unit_id = f.equipment_unit().id
        children = [db.session.get(Person, c) for c in _families(2)]
        rows = [(c.family_id, c.id) for c in children]
        db.session.commit()
    outcomes = []
    for family_id, child_id in rows:
        with Session(pg_engine) as session:
            session.add(
                Loan(
                    unit_id=unit_id,
                    family_id=family_id,
                    child_id=child_id,
                    issued_on=TODAY,
                    due_on=TODAY + dt.timedelta(days=30),
                )
            )
            try:
                session.commit()
                outcomes.append("ok")
            except Exception as exc:
                outcomes.append(type(exc).__name__)
    assert outcomes == ["ok", "IntegrityError"]
