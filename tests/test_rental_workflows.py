"""The rental point's workflows without HTTP: lend, extend, return, sanitise, the queue,
offers and their expiry, write-off, overdue tasks — and their Russian refusals."""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from conftest import make_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import EquipmentUnit, Loan, RentalEvent, Reservation, Task, db
from models.terms import OFFER_DAYS
from workflows import rental
from workflows.errors import WorkflowError

TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def desk(app_ctx):
    """A wheelchair type with one free unit, a clerk, and three families with a child each."""
    kind = f.equipment_type(name="Кресло-коляска комнатная", loan_term_days=30, max_extensions=1)
    unit = f.equipment_unit(kind, inventory_number="КК-001", size="40")
    clerk = f.user("rental_clerk")
    children = []
    for surname in ("Смирновы", "Орловы", "Зайцевы"):
        fam = f.family(surname=surname)
        children.append(f.person(fam, "child", last_name=surname[:-1]))
    db.session.commit()
    return {"kind": kind, "unit": unit, "clerk": clerk, "children": children}


def events(kind: str) -> list[RentalEvent]:
    return db.session.scalars(select(RentalEvent).where(RentalEvent.kind == kind)).all()


def refused(call, *args, **kwargs) -> WorkflowError:
    with pytest.raises(WorkflowError) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


def test_full_cycle_lend_extend_return_sanitise_offer_lend_again(desk):
    """Does a unit go lend → extend → return → sanitising → free → offered to the
    first family in the queue → lent to that family, with every step in its history?"""
    unit, clerk, (smirnov, orlov, _) = desk["unit"], desk["clerk"], desk["children"]

    loan = rental.lend_unit(db.session, unit, smirnov, clerk, TODAY)
    db.session.commit()
    assert loan.due_on == TODAY + dt.timedelta(days=30)  # the type's standard term
    assert unit.status == "on_loan"
    assert loan.issued_by_id == clerk.staff_id

    queued = rental.enqueue(db.session, orlov, desk["kind"], "3", TODAY, clerk, TODAY)
    db.session.commit()
    assert queued.status == "waiting"  # nothing free: it waits

    rental.extend_loan(
        db.session, loan, loan.due_on + dt.timedelta(days=10), "Ждут своё ТСР", clerk, TODAY
    )
    db.session.commit()
    assert loan.due_on == TODAY + dt.timedelta(days=40)
    assert loan.extensions == 1

    back = TODAY + dt.timedelta(days=35)
    rental.return_loan(db.session, loan, back, "fair", "подушка", False, clerk, back)
    db.session.commit()
    assert unit.status == "sanitising"
    assert loan.returned_on == back and loan.missing_components == "подушка"

    offer = rental.release_unit(
        db.session, unit, "обработка хлорсодержащим средством", back, clerk, back
    )
    db.session.commit()
    assert offer is not None and offer.id == queued.id
    assert queued.status == "offered" and queued.offered_unit_id == unit.id
    assert queued.offer_expires_on == back + dt.timedelta(days=OFFER_DAYS)
    assert unit.status == "reserved"

    again = rental.lend_unit(db.session, unit, orlov, clerk, back)
    db.session.commit()
    assert again.family_id == orlov.family_id
    assert unit.status == "on_loan"
    assert queued.status == "fulfilled" and queued.offered_unit_id is None

    history = [
        e.kind
        for e in db.session.scalars(
            select(RentalEvent).where(RentalEvent.unit_id == unit.id).order_by(RentalEvent.id)
        )
    ]
    assert history == ["issued", "extended", "returned", "sanitised", "offered", "issued"]
    sanitised = events("sanitised")[0]
    assert sanitised.details == "обработка хлорсодержащим средством"
    assert sanitised.occurred_on == back


def test_queue_is_served_by_priority_then_request_date(desk):
    """Is the free unit offered to the most urgent family, and among equals to the
    one who asked first — not to whoever was entered first?"""
    kind, clerk, (a, b, c) = desk["kind"], desk["clerk"], desk["children"]
    rental.lend_unit(db.session, desk["unit"], a, clerk, TODAY)
    late_normal = rental.enqueue(
        db.session, b, kind, "3", TODAY - dt.timedelta(days=1), clerk, TODAY
    )
    early_normal = rental.enqueue(
        db.session, c, kind, "3", TODAY - dt.timedelta(days=9), clerk, TODAY
    )
    db.session.commit()
    ordered = db.session.scalars(
        select(Reservation).where(Reservation.status == "waiting").order_by(*rental.queue_order())
    ).all()
    assert [r.id for r in ordered] == [early_normal.id, late_normal.id]

    rental.reprioritise(db.session, late_normal, "1", "Выписка из больницы", clerk, TODAY)
    db.session.commit()
    second = f.equipment_unit(kind, inventory_number="КК-002")
    db.session.commit()
    offers = rental.offer_available(db.session, kind.id, TODAY, clerk)
    db.session.commit()
    assert [r.id for r in offers] == [late_normal.id]
    assert late_normal.offered_unit_id == second.id
    change = events("reprioritised")[0]
    assert change.details == "обычный → срочно: Выписка из больницы"


def test_change_of_order_needs_a_reason(desk):
    """Is raising a family's priority without a reason refused, the order unchanged?"""
    kind, clerk, (a, b, _) = desk["kind"], desk["clerk"], desk["children"]
    rental.lend_unit(db.session, desk["unit"], a, clerk, TODAY)
    place = rental.enqueue(db.session, b, kind, "3", TODAY, clerk, TODAY)
    db.session.commit()
    error = refused(rental.reprioritise, db.session, place, "1", "  ", clerk, TODAY)
    assert str(error) == "Укажите причину изменения очерёдности." and error.field == "reason"
    assert db.session.get(Reservation, place.id).priority == "3"


def test_offer_not_taken_passes_to_the_next_family(desk):
    """Does an offer past its last day pass to the next family (once, however often
    the job runs), the first family leaving the queue with the reason recorded?"""
    kind, clerk, (a, b, c) = desk["kind"], desk["clerk"], desk["children"]
    unit = desk["unit"]
    loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
    first = rental.enqueue(db.session, b, kind, "2", TODAY, clerk, TODAY)
    second = rental.enqueue(db.session, c, kind, "3", TODAY, clerk, TODAY)
    rental.return_loan(db.session, loan, TODAY, "good", None, False, clerk, TODAY)
    rental.release_unit(db.session, unit, "дезинфекция", TODAY, clerk, TODAY)
    db.session.commit()
    assert first.status == "offered"
    last_day = first.offer_expires_on

    assert rental.expire_offers(db.session, last_day) == 0  # still valid on its last day
    day_after = last_day + dt.timedelta(days=1)
    assert rental.expire_offers(db.session, day_after) == 1
    db.session.commit()
    assert rental.expire_offers(db.session, day_after) == 0  # idempotent
    db.session.commit()
    assert first.status == "cancelled" and first.offered_unit_id is None
    assert second.status == "offered" and second.offered_unit_id == unit.id
    assert second.offer_expires_on == day_after + dt.timedelta(days=OFFER_DAYS)
    assert [e.reservation_id for e in events("offer_expired")] == [first.id]


def test_declined_offer_passes_on_and_an_expired_offer_cannot_be_lent(desk):
    """Does a declined offer pass to the next family, and is lending the unit to a
    family whose offer has run out refused (it has passed on, even if no job ran)?"""
    kind, clerk, (a, b, c) = desk["kind"], desk["clerk"], desk["children"]
    unit = desk["unit"]
    loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
    first = rental.enqueue(db.session, b, kind, "3", TODAY, clerk, TODAY)
    second = rental.enqueue(db.session, c, kind, "3", TODAY, clerk, TODAY)
    rental.return_loan(db.session, loan, TODAY, "good", None, False, clerk, TODAY)
    rental.release_unit(db.session, unit, "дезинфекция", TODAY, clerk, TODAY)
    db.session.commit()
    rental.cancel_reservation(db.session, first, "Купили своё кресло", clerk, TODAY)
    db.session.commit()
    assert second.status == "offered"
    assert events("offer_declined")[0].details == "Купили своё кресло"

    rental.enqueue(db.session, a, kind, "3", TODAY, clerk, TODAY)  # a waits behind c
    db.session.commit()
    late = second.offer_expires_on + dt.timedelta(days=1)
    error = refused(rental.lend_unit, db.session, unit, c, clerk, late)
    assert str(error).startswith("Эта единица предложена по очереди другой семье")
    open_loans = select(func.count()).select_from(Loan).where(Loan.returned_on.is_(None))
    assert db.session.scalar(open_loans) == 0


def test_unit_offered_to_one_family_is_refused_to_another(desk):
    """Is a unit held by an offer refused to a family that is not the one offered?"""
    kind, clerk, (_, b, c) = desk["kind"], desk["clerk"], desk["children"]
    rental.enqueue(db.session, b, kind, "3", TODAY, clerk, TODAY)
    db.session.commit()
    assert desk["unit"].status == "reserved"  # offered at once: it was free
    error = refused(rental.lend_unit, db.session, desk["unit"], c, clerk, TODAY)
    assert str(error).startswith("Эта единица предложена по очереди другой семье")


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        ("on_loan", "Эта единица уже выдана"),
        ("written_off", "Эта единица списана: выдавать её нельзя."),
        ("sanitising", "Эта единица на санобработке"),
        ("repair", "Эта единица в ремонте"),
    ],
)
def test_lending_a_unit_that_is_not_free_is_refused(desk, prepare, message):
    """Is lending a unit that is out, written off, being sanitised or repaired refused in Russian?"""
    unit, clerk, (a, b, _) = desk["unit"], desk["clerk"], desk["children"]
    if prepare == "written_off":
        rental.write_off_unit(db.session, unit, "Акт комиссии № 4: износ рамы", TODAY, clerk, TODAY)
    else:
        loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
        if prepare != "on_loan":
            rental.return_loan(
                db.session, loan, TODAY, "poor", None, prepare == "repair", clerk, TODAY
            )
    db.session.commit()
    loans = db.session.scalar(select(func.count()).select_from(Loan))
    error = refused(rental.lend_unit, db.session, unit, b, clerk, TODAY)
    assert str(error).startswith(message)
    assert db.session.scalar(select(func.count()).select_from(Loan)) == loans


def test_due_date_before_issue_date_is_refused(desk):
    """Is a due date before the issue date refused next to the due-date field?"""
    unit, clerk, (a, *_) = desk["unit"], desk["clerk"], desk["children"]
    error = refused(
        rental.lend_unit, db.session, unit, a, clerk, TODAY, TODAY - dt.timedelta(days=1)
    )
    assert str(error) == "Срок возврата не может быть раньше даты выдачи."
    assert error.field == "due_on"
    assert db.session.get(EquipmentUnit, unit.id).status == "available"


def test_returning_a_returned_loan_is_refused(desk):
    """Is a second return of the same loan refused, the first one kept as it was?"""
    unit, clerk, (a, *_) = desk["unit"], desk["clerk"], desk["children"]
    loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
    rental.return_loan(db.session, loan, TODAY, "good", None, False, clerk, TODAY)
    db.session.commit()
    error = refused(rental.return_loan, db.session, loan, TODAY, "poor", None, True, clerk, TODAY)
    assert str(error) == f"Эта выдача уже закрыта: ТСР возвращено {TODAY:%d.%m.%Y}."
    assert db.session.get(EquipmentUnit, unit.id).status == "sanitising"
    assert db.session.get(Loan, loan.id).condition_on_return == "good"


def test_extending_past_the_limit_is_refused(desk):
    """Is a loan extended more times than its type allows (here once) refused?"""
    unit, clerk, (a, *_) = desk["unit"], desk["clerk"], desk["children"]
    loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
    rental.extend_loan(
        db.session, loan, loan.due_on + dt.timedelta(days=5), "Болезнь", clerk, TODAY
    )
    db.session.commit()
    due = loan.due_on
    error = refused(
        rental.extend_loan, db.session, loan, due + dt.timedelta(days=5), "Ещё", clerk, TODAY
    )
    assert str(error).startswith(
        "Продлить нельзя: для вида «Кресло-коляска комнатная» допускается не больше 1"
    )
    assert db.session.get(Loan, loan.id).due_on == due


@pytest.mark.parametrize(
    ("days", "reason", "field", "message"),
    [
        (0, "Болезнь", "new_due_on", "Новый срок должен быть позже прежнего"),
        (31, "Болезнь", "new_due_on", "За один раз можно продлить не больше чем на 30 дней"),
        (5, " ", "reason", "Укажите причину продления."),
    ],
)
def test_extension_needs_a_later_date_within_a_term_and_a_reason(
    desk, days, reason, field, message
):
    """Is an extension refused when the date is not later, goes beyond one term, or has no reason?"""
    unit, clerk, (a, *_) = desk["unit"], desk["clerk"], desk["children"]
    loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
    db.session.commit()
    error = refused(
        rental.extend_loan,
        db.session,
        loan,
        loan.due_on + dt.timedelta(days=days),
        reason,
        clerk,
        TODAY,
    )
    assert str(error).startswith(message) and error.field == field


def test_return_to_repair_then_sanitising_then_free(desk):
    """Does a unit returned broken go to repair, then to sanitising, then become free?"""
    unit, clerk, (a, *_) = desk["unit"], desk["clerk"], desk["children"]
    loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
    rental.return_loan(db.session, loan, TODAY, "poor", "ремень", True, clerk, TODAY)
    db.session.commit()
    assert unit.status == "repair"
    error = refused(rental.release_unit, db.session, unit, "дезинфекция", TODAY, clerk, TODAY)
    assert "только единицу на санобработке" in str(error)
    unit = db.session.get(EquipmentUnit, unit.id)
    rental.finish_repair(db.session, unit, "Заменён ремень", TODAY, clerk, TODAY)
    rental.release_unit(db.session, unit, "дезинфекция", TODAY, clerk, TODAY)
    db.session.commit()
    assert unit.status == "available"


def test_release_needs_method_and_a_date_not_before_the_return(desk):
    """Is a release without a method, or dated before the return, refused next to its field?"""
    unit, clerk, (a, *_) = desk["unit"], desk["clerk"], desk["children"]
    loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
    rental.return_loan(db.session, loan, TODAY, "good", None, False, clerk, TODAY)
    db.session.commit()
    error = refused(rental.release_unit, db.session, unit, "", TODAY, clerk, TODAY)
    assert error.field == "method"
    error = refused(
        rental.release_unit,
        db.session,
        unit,
        "дезинфекция",
        TODAY - dt.timedelta(days=1),
        clerk,
        TODAY,
    )
    assert error.field == "released_on" and "раньше возврата" in str(error)


def test_write_off_needs_commission_reason_and_no_open_loan(desk):
    """Is a write-off refused without the commission's reason or while the unit is out;
    does it record reason and date, and does an offered unit leave the family in the queue?"""
    kind, unit, clerk, (a, b, _) = desk["kind"], desk["unit"], desk["clerk"], desk["children"]
    place = rental.enqueue(db.session, b, kind, "3", TODAY, clerk, TODAY)
    db.session.commit()
    assert place.status == "offered"
    error = refused(rental.write_off_unit, db.session, unit, " ", TODAY, clerk, TODAY)
    assert error.field == "reason"
    unit = db.session.get(EquipmentUnit, unit.id)
    rental.write_off_unit(db.session, unit, "Акт комиссии № 7: трещина рамы", TODAY, clerk, TODAY)
    db.session.commit()
    assert unit.status == "written_off" and unit.written_off_on == TODAY
    assert unit.write_off_reason == "Акт комиссии № 7: трещина рамы"
    assert db.session.get(Reservation, place.id).status == "waiting"

    other = f.equipment_unit(kind, inventory_number="КК-009")
    rental.lend_unit(db.session, other, a, clerk, TODAY)  # free: b's offer is gone
    db.session.commit()
    error = refused(rental.write_off_unit, db.session, other, "Износ", TODAY, clerk, TODAY)
    assert str(error) == "Единица на руках у семьи: сначала оформите возврат."


def test_lend_from_queue_serves_the_reservation(desk):
    """Does serving a waiting place take a free unit of its type and mark the place served,
    and is it refused in Russian when no unit is free?"""
    kind, clerk, (a, b, _) = desk["kind"], desk["clerk"], desk["children"]
    rental.lend_unit(db.session, desk["unit"], a, clerk, TODAY)
    place = rental.enqueue(db.session, b, kind, "3", TODAY, clerk, TODAY)
    db.session.commit()
    error = refused(rental.lend_from_queue, db.session, place, clerk, TODAY)
    assert str(error) == "Свободных единиц вида «Кресло-коляска комнатная» нет: все уже выданы."
    f.equipment_unit(kind, inventory_number="КК-005")
    db.session.commit()
    place = db.session.get(Reservation, place.id)
    loan = rental.lend_from_queue(db.session, place, clerk, TODAY)
    db.session.commit()
    assert loan.family_id == b.family_id and place.status == "fulfilled"


def test_overdue_loan_becomes_one_task_for_the_district_worker(desk):
    """Does an overdue loan become exactly one task for the family's district worker
    (however often the job runs), and a new one only after a later due date is missed?"""
    unit, clerk, (a, *_) = desk["unit"], desk["clerk"], desk["children"]
    district = a.family.district
    worker = make_user(
        "district_worker", "petrova", districts=[district], last_name="Петрова"
    ).staff
    district.responsible_worker = worker
    loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
    db.session.commit()
    assert rental.task_overdue_loans(db.session, loan.due_on) == 0  # due today: not late
    late = loan.due_on + dt.timedelta(days=1)
    assert rental.task_overdue_loans(db.session, late) == 1
    db.session.commit()
    assert rental.task_overdue_loans(db.session, late + dt.timedelta(days=3)) == 0
    task = db.session.scalars(select(Task)).one()
    assert task.assignee_id == worker.id and task.status == "assigned"
    assert task.role == "district_worker" and task.family_id == a.family_id
    assert "КК-001" in task.title

    loan = db.session.get(Loan, loan.id)
    loan.due_on = late + dt.timedelta(days=5)  # as an extension would (bypassing its limit)
    db.session.commit()
    assert rental.task_overdue_loans(db.session, loan.due_on + dt.timedelta(days=1)) == 1


def test_overdue_task_is_made_once_even_if_the_check_is_bypassed(desk):
    """Does the database refuse a second overdue task event for the same loan and due date?"""
    unit, clerk, (a, *_) = desk["unit"], desk["clerk"], desk["children"]
    loan = rental.lend_unit(db.session, unit, a, clerk, TODAY)
    rental.task_overdue_loans(db.session, loan.due_on + dt.timedelta(days=1))
    db.session.commit()
    task = db.session.scalars(select(Task)).one()
    db.session.add(
        RentalEvent(kind="overdue", occurred_on=loan.due_on, loan_id=loan.id, task_id=task.id)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_second_open_loan_is_refused_by_the_database(desk):
    """With the workflow bypassed, does the database still refuse a second open loan?"""
    unit, (a, b, _) = desk["unit"], desk["children"]
    f.loan(unit, a.family, a)
    with pytest.raises(IntegrityError):
        f.loan(unit, b.family, b)
    db.session.rollback()


def test_a_child_is_queued_once_per_type(desk):
    """Is queueing a child twice for the same type refused?"""
    kind, clerk, (a, *_) = desk["kind"], desk["clerk"], desk["children"]
    rental.lend_unit(db.session, desk["unit"], a, clerk, TODAY)
    rental.enqueue(db.session, a, kind, "3", TODAY, clerk, TODAY)
    db.session.commit()
    error = refused(rental.enqueue, db.session, a, kind, "1", TODAY, clerk, TODAY)
    assert str(error) == "Ребёнок уже стоит в очереди на «Кресло-коляска комнатная»."


def test_active_case_of_the_family(desk):
    """Does a loan find its family's current (not closed) support case?"""
    (a, *_) = desk["children"]
    mother = f.person(a.family, "mother")
    f.case(a.family, mother, status="closed", closure_reason="goal_achieved", closed_on=TODAY)
    current = f.case(a.family, mother)
    assert rental.active_case(db.session, a.family_id).id == current.id
