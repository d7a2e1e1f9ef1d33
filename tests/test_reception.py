"""Reception (workflows/reception.py) without HTTP: slots, Saturdays, no double booking,
and the races two clerks can run on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import threading

import factories as f
import pytest
from sqlalchemy import func, select

from models import Appointment, Case, Family, Person, Staff, User, db
from workflows import cases as wf
from workflows import reception
from workflows.centre import DEFAULT_HOURS, centre_settings
from workflows.dates import centre_today
from workflows.errors import WorkflowError

MONDAY = dt.date(2026, 11, 16)
SATURDAY = dt.date(2026, 11, 21)
SUNDAY = dt.date(2026, 11, 22)
TODAY = dt.date(2026, 11, 16)


def _book(actor, specialist, starts_at, **kw):
    return reception.book_appointment(
        db.session,
        actor,
        specialist=specialist,
        starts_at=starts_at,
        channel=kw.pop("channel", "phone"),
        purpose=kw.pop("purpose", "Консультация"),
        citizen_name=kw.pop("citizen_name", "Петрова Ольга"),
        today=kw.pop("today", TODAY),
        **kw,
    )


def test_slots_run_half_hourly_saturday_included_sunday_closed():
    """Is a working day 09:00–17:30 in half-hours without the lunch hour, Saturday too,
    and Sunday empty?"""
    slots = reception.day_slots(MONDAY, DEFAULT_HOURS)
    assert slots[0].time() == dt.time(9, 0) and slots[-1].time() == dt.time(17, 30)
    assert len(slots) == 16
    assert dt.time(13, 0) not in {s.time() for s in slots}
    assert dt.time(13, 30) not in {s.time() for s in slots}
    assert reception.day_slots(SATURDAY, DEFAULT_HOURS)
    assert reception.day_slots(SUNDAY, DEFAULT_HOURS) == []


def test_the_lunch_break_and_the_hours_come_from_the_settings(app_ctx):
    """Is a slot in the lunch break refused in Russian, and do the administrator's hours
    move the grid (the day view offers no slot outside them)?"""
    actor = f.user("coordinator")
    lawyer = f.staff("lawyer")
    with pytest.raises(WorkflowError, match="обеденный перерыв") as caught:
        _book(actor, lawyer, dt.datetime.combine(MONDAY, dt.time(13, 30)))
    assert caught.value.field == "starts_at"
    db.session.rollback()
    row = centre_settings(db.session)
    row.opens_at, row.closes_at = dt.time(8, 0), dt.time(17, 0)
    row.lunch_starts_at, row.lunch_ends_at = dt.time(12, 0), dt.time(12, 30)
    db.session.commit()
    times = [s.starts_at.time() for s in reception.day_view(db.session, actor, lawyer, MONDAY)]
    assert times[0] == dt.time(8, 0) and times[-1] == dt.time(16, 30)
    assert dt.time(12, 0) not in times and dt.time(13, 0) in times
    with pytest.raises(WorkflowError, match="с 08:00 до 17:00, перерыв с 12:00 до 12:30"):
        _book(actor, lawyer, dt.datetime.combine(MONDAY, dt.time(17, 0)))
    db.session.rollback()
    assert _book(actor, lawyer, dt.datetime.combine(MONDAY, dt.time(8, 0))).id


def test_booking_a_free_slot_and_refusing_a_busy_one(app_ctx):
    """Is a free Saturday slot booked, and a second booking of it refused in Russian?"""
    actor = f.user("coordinator")
    lawyer = f.staff("lawyer")
    at = dt.datetime.combine(SATURDAY, dt.time(10, 0))
    _book(actor, lawyer, at)
    db.session.commit()
    with pytest.raises(WorkflowError, match="уже есть запись") as caught:
        _book(actor, lawyer, at)
    assert caught.value.field == "starts_at"
    db.session.rollback()
    # Another specialist at the same time is fine.
    _book(actor, f.staff("psychologist"), at)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 2


@pytest.mark.parametrize(
    ("starts_at", "words"),
    [
        (dt.datetime.combine(SUNDAY, dt.time(10, 0)), "воскресенье"),
        (dt.datetime.combine(MONDAY, dt.time(10, 15)), "каждые полчаса"),
        (dt.datetime.combine(MONDAY, dt.time(18, 0)), "до 18:00"),
        (dt.datetime.combine(MONDAY - dt.timedelta(days=1), dt.time(10, 0)), "прошедший"),
    ],
)
def test_slots_off_the_grid_are_refused(app_ctx, starts_at, words):
    """Are Sunday, a quarter past, closing time and a past day refused with a Russian reason?"""
    actor = f.user("coordinator")
    with pytest.raises(WorkflowError, match=words):
        _book(actor, f.staff("lawyer"), starts_at)


def test_booking_needs_a_family_or_a_name_and_an_active_specialist(app_ctx):
    """Is a booking without family and name, or with a specialist who left, refused?"""
    actor = f.user("coordinator")
    at = dt.datetime.combine(MONDAY, dt.time(9, 0))
    with pytest.raises(WorkflowError) as caught:
        _book(actor, f.staff("lawyer"), at, citizen_name="")
    assert caught.value.field == "citizen_name"
    with pytest.raises(WorkflowError) as caught:
        _book(actor, f.staff("lawyer", active=False), at)
    assert caught.value.field == "specialist"


def test_day_view_hides_out_of_scope_appointments(app_ctx):
    """Does a worker see their district's appointment in full and another's only as «busy»?"""
    mine, theirs = f.district(), f.district()
    worker_staff = f.staff("district_worker", districts=[mine])
    worker = f.user("district_worker", staff_row=worker_staff)
    lawyer = f.staff("lawyer")
    own = f.family(mine, surname="Свои")
    other = f.family(theirs, surname="Чужие")
    f.appointment(lawyer, family=own, starts_at=dt.datetime.combine(MONDAY, dt.time(9, 0)))
    f.appointment(lawyer, family=other, starts_at=dt.datetime.combine(MONDAY, dt.time(9, 30)))
    db.session.commit()
    slots = {s.starts_at.time(): s for s in reception.day_view(db.session, worker, lawyer, MONDAY)}
    assert slots[dt.time(9, 0)].appointment.family.surname == "Свои"
    assert slots[dt.time(9, 30)].busy and slots[dt.time(9, 30)].appointment is None
    assert slots[dt.time(10, 0)].free


# --- races (PostgreSQL: the second writer waits for the first, then is refused) --------------------

postgres_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"),
    reason="concurrent writers are a PostgreSQL matter (SQLite has one writer at a time)",
)


def _race(app, work) -> list[str]:
    """Run `work(hold)` in two threads at once; return what each ended with."""
    results: list[str] = []
    barrier = threading.Barrier(2)

    def run(hold: float):
        with app.app_context():
            try:
                barrier.wait()
                work(hold)
                results.append("ok")
            except WorkflowError as error:
                db.session.rollback()
                results.append(str(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(h,)) for h in (0.5, 0.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@postgres_only
def test_two_clerks_booking_one_slot(app):
    """When two clerks book the same slot at once, does one win and the other get the
    «уже есть запись» message, with one appointment stored?"""
    with app.app_context():
        actor_id = f.user("coordinator").id
        lawyer_id = f.staff("lawyer").id
        db.session.commit()
    at = dt.datetime.combine(centre_today() + dt.timedelta(days=1), dt.time(10, 0))
    if at.weekday() == 6:
        at += dt.timedelta(days=1)

    def work(hold):
        _book(
            db.session.get(User, actor_id),
            db.session.get(Staff, lawyer_id),
            at,
            today=centre_today(),
        )
        threading.Event().wait(hold)
        db.session.commit()

    results = _race(app, work)
    assert sorted(results)[0] == "ok" and "уже есть запись" in sorted(results)[1], results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1


@postgres_only
def test_two_users_opening_one_familys_case(app):
    """When two users accept an application of one family at once, is one case opened and
    the other refused with «уже есть открытый случай»?"""
    with app.app_context():
        actor_id = f.user("coordinator").id
        family, mother, _ = f.family_with_members()
        f.consent(family, mother)
        db.session.commit()
        family_id, mother_id = family.id, mother.id

    def work(hold):
        wf.open_case(
            db.session,
            db.session.get(User, actor_id),
            family=db.session.get(Family, family_id),
            applicant=db.session.get(Person, mother_id),
            application_date=centre_today(),
        )
        threading.Event().wait(hold)
        db.session.commit()

    results = _race(app, work)
    assert sorted(results)[0] == "ok" and "открытый случай" in sorted(results)[1], results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_the_plain_table_neither_books_nor_moves_a_slot(app, client, login_as):
    """Is an appointment booked only at reception — no «create» in the plain table, and its
    edit form corrects the purpose but cannot move the slot off the grid or onto Sunday?"""
    login_as("coordinator")
    with app.app_context():
        booked = f.appointment(f.staff("psychologist"))
        db.session.commit()
        booked_id, starts_at = booked.id, booked.starts_at
    refused = client.get("/appointment/new/")
    assert refused.status_code == 302 and "/new/" not in refused.location
    page = client.get(f"/appointment/edit/?id={booked_id}").get_data(as_text=True)
    assert 'name="purpose"' in page
    assert 'name="starts_at"' not in page and 'name="specialist"' not in page
    with app.app_context():
        assert db.session.get(Appointment, booked_id).starts_at == starts_at
