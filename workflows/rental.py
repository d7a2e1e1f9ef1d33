"""The rental point's workflows: lend, extend, return, sanitise, repair, write off, the queue.

Plain functions over a session; the only place where a unit's, a loan's or a
reservation's status changes. Each takes the acting user (a `User`, or None for
the scheduler), writes one line of history (`RentalEvent`) and raises
`WorkflowError` with a Russian message when the action is refused. Rows that two
clerks may race on are locked (`SELECT … FOR UPDATE`); the database's partial
unique indexes (one open loan per unit, one offer per unit) hold even if a
caller skips these checks. The caller commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.orm.exc import StaleDataError

from models import (
    Case,
    EquipmentType,
    EquipmentUnit,
    Family,
    Loan,
    LoanExtension,
    Message,
    Person,
    RentalEvent,
    Reservation,
    Task,
    User,
)
from models.base import utcnow
from models.declension import plural
from models.live import active_for_new_work, refuse_for_new_work
from models.rental import CONDITION, RESERVATION_PRIORITY, UNIT_STATUS
from models.terms import (
    LOAN_EXTENSION_DEFAULT_DAYS,
    OFFER_DAYS,
    OFFER_DELIVERY_GRACE_DAYS,
    OVERDUE_TASK_DAYS,
)

from .errors import WorkflowError
from .notify import About, cancel_messages, notify
from .tasks import create_task

ALREADY_LENT = "Эта единица уже выдана: у неё есть незакрытая выдача."
NOT_LENDABLE = {
    "on_loan": ALREADY_LENT,
    "sanitising": "Эта единица на санобработке: выдать её можно после выпуска.",
    "repair": "Эта единица в ремонте: выдать её нельзя.",
    "written_off": "Эта единица списана: выдавать её нельзя.",
}


# --- small pieces -----------------------------------------------------------------------


def _staff_id(actor: User | None) -> int | None:
    return actor.staff_id if actor is not None else None


class _WithId(Protocol):
    @property
    def id(self) -> int: ...


_Row = TypeVar("_Row", bound=_WithId)


def _locked(session: Session, model: type[_Row], row_id: int) -> _Row:
    """The row, re-read and locked until the transaction ends (PostgreSQL)."""
    # On the class, `id` is the mapped column (the protocol can only say what a row has).
    id_column = cast("InstrumentedAttribute[int]", model.id)
    return session.execute(
        select(model)
        .where(id_column == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _event(
    session: Session, kind: str, on: dt.date, actor: User | None, **links: object
) -> RentalEvent:
    event = RentalEvent(kind=kind, occurred_on=on, staff_id=_staff_id(actor), **links)
    session.add(event)
    return event


def _required(text: str | None, field: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise WorkflowError(message, field)
    return text


def _not_future(day: dt.date, today: dt.date, field: str) -> None:
    if day > today:
        raise WorkflowError("Дата не может быть позже сегодняшнего дня.", field)


def _flush(session: Session, message: str) -> None:
    """Flush in a savepoint; a lost race (unique index, stale version) becomes `message`."""
    try:
        with session.begin_nested():
            session.flush()
    except (IntegrityError, StaleDataError) as exc:
        raise WorkflowError(message) from exc


def queue_order() -> tuple[InstrumentedAttribute[Any], ...]:
    """The queue's order: priority, then the date of the request, then who came first."""
    return (Reservation.priority, Reservation.requested_on, Reservation.id)


def active_case(session: Session, family_id: int) -> Case | None:
    """The family's current support case (the newest one not closed), if any."""
    return session.scalars(
        select(Case)
        .where(Case.family_id == family_id, Case.status != "closed", Case.archived_at.is_(None))
        .order_by(Case.application_date.desc(), Case.id.desc())
        .limit(1)
    ).first()


# --- lending --------------------------------------------------------------------------


def lend_unit(
    session: Session,
    unit: EquipmentUnit,
    child: Person,
    actor: User | None,
    issued_on: dt.date,
    due_on: dt.date | None = None,
    condition: str | None = None,
    notes: str | None = None,
) -> Loan:
    """Lend `unit` to `child`'s family. Due date defaults to the type's standard term.

    A unit reserved by an offer goes only to the family it was offered to; the
    family's place in the queue for this type is marked as served.
    """
    expire_offers(session, issued_on, type_id=unit.type_id)
    unit = _locked(session, EquipmentUnit, unit.id)
    refuse_for_new_work(unit, "unit")
    if child.relation != "child":
        raise WorkflowError("Выберите ребёнка: ТСР выдаётся на ребёнка семьи.", "child")
    refuse_for_new_work(child, "child")
    offer = None
    if unit.status == "reserved":
        offer = session.scalars(
            select(Reservation).where(
                Reservation.offered_unit_id == unit.id, Reservation.status == "offered"
            )
        ).first()
        if offer is not None and offer.family_id != child.family_id:
            raise WorkflowError(
                f"Эта единица предложена по очереди другой семье "
                f"(до {offer.offer_expires_on:%d.%m.%Y}).",
                "unit",
            )
    elif unit.status != "available":
        raise WorkflowError(NOT_LENDABLE[unit.status], "unit")
    term = unit.type.loan_term_days
    due_on = due_on or issued_on + dt.timedelta(days=term)
    if due_on < issued_on:
        raise WorkflowError("Срок возврата не может быть раньше даты выдачи.", "due_on")
    if condition is not None and condition not in CONDITION.labels:
        raise WorkflowError("Выберите состояние из списка.", "condition")
    loan = Loan(
        unit_id=unit.id,
        family_id=child.family_id,
        child_id=child.id,
        issued_by_id=_staff_id(actor),
        issued_on=issued_on,
        due_on=due_on,
        condition_on_issue=condition or unit.condition,
        notes=(notes or "").strip() or None,
    )
    served = offer or _queue_place(session, child, unit.type_id)
    if offer is not None:
        _offer_over(session, offer.id, "не отправлено: ТСР уже выдано")
    session.add(loan)
    unit.status = "on_loan"
    if served is not None:
        served.status = "fulfilled"
        served.offered_unit_id = None
        served.offer_expires_on = None
    _flush(session, ALREADY_LENT)
    _event(
        session,
        "issued",
        issued_on,
        actor,
        unit_id=unit.id,
        loan_id=loan.id,
        family_id=loan.family_id,
        reservation_id=served.id if served else None,
        details=f"до {due_on:%d.%m.%Y}",
    )
    return loan


def _queue_place(session: Session, child: Person, type_id: int) -> Reservation | None:
    """The family's waiting place for this type (the child's own first)."""
    return session.scalars(
        select(Reservation)
        .where(
            Reservation.family_id == child.family_id,
            Reservation.type_id == type_id,
            Reservation.status == "waiting",
        )
        .order_by((Reservation.child_id != child.id), *queue_order())
        .with_for_update()
    ).first()


def lend_from_queue(
    session: Session, reservation: Reservation, actor: User | None, issued_on: dt.date
) -> Loan:
    """Serve a place in the queue: the unit offered to it, or any free unit of its type."""
    expire_offers(session, issued_on, type_id=reservation.type_id)
    reservation = _locked(session, Reservation, reservation.id)
    if reservation.status not in ("waiting", "offered"):
        raise WorkflowError("Эта заявка уже не в очереди: она выполнена или снята.")
    if reservation.status == "offered":
        unit = reservation.offered_unit
        assert unit is not None  # ck_reservation_offer_complete: an offer names its unit
    else:
        # Another clerk may be taking the same unit: skip it rather than wait for it.
        unit = session.scalars(
            select(EquipmentUnit)
            .where(
                EquipmentUnit.type_id == reservation.type_id,
                EquipmentUnit.status == "available",
                active_for_new_work(EquipmentUnit),
            )
            .order_by(EquipmentUnit.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if unit is None:
            raise WorkflowError(f"Свободных единиц вида «{reservation.type}» нет: все уже выданы.")
    return lend_unit(session, unit, reservation.child, actor, issued_on)


# --- while the unit is with the family --------------------------------------------------


def extend_loan(
    session: Session,
    loan: Loan,
    new_due_on: dt.date | None,
    reason: str | None,
    actor: User | None,
    today: dt.date,
) -> LoanExtension:
    """Move the due date later, with a reason; at most the type's number of extensions,
    each at most one standard term long."""
    loan = _locked(session, Loan, loan.id)
    if not loan.is_open:
        raise WorkflowError(
            f"Выдача закрыта: ТСР возвращено {loan.returned_on:%d.%m.%Y}, продлевать нечего."
        )
    kind = loan.unit.type
    if loan.extensions >= kind.max_extensions:
        raise WorkflowError(
            f"Продлить нельзя: для вида «{kind}» допускается не больше "
            f"{kind.max_extensions} продл. Выдача продлевалась {loan.extensions} раз."
        )
    if new_due_on is None:
        raise WorkflowError("Укажите новый срок возврата.", "new_due_on")
    if new_due_on <= loan.due_on:
        raise WorkflowError(
            f"Новый срок должен быть позже прежнего ({loan.due_on:%d.%m.%Y}).", "new_due_on"
        )
    limit = extension_limit(loan)
    if new_due_on > limit:
        raise WorkflowError(
            f"За один раз можно продлить не больше чем на "
            f"{plural(kind.loan_term_days, 'день', 'дня', 'дней')} (до {limit:%d.%m.%Y}).",
            "new_due_on",
        )
    reason = _required(reason, "reason", "Укажите причину продления.")
    extension = LoanExtension(
        loan_id=loan.id,
        old_due_on=loan.due_on,
        new_due_on=new_due_on,
        reason=reason,
        extended_at=utcnow(),
        extended_by_id=_staff_id(actor),
    )
    session.add(extension)
    loan.due_on = new_due_on
    loan.extensions += 1
    _event(
        session,
        "extended",
        today,
        actor,
        unit_id=loan.unit_id,
        loan_id=loan.id,
        family_id=loan.family_id,
        details=f"до {new_due_on:%d.%m.%Y}: {reason}",
    )
    _flush(session, "Выдачу только что изменил другой сотрудник; откройте её заново.")
    return extension


def extension_limit(loan: Loan) -> dt.date:
    """The latest due date one extension may give: one standard term of the type later."""
    return loan.due_on + dt.timedelta(days=loan.unit.type.loan_term_days)


def default_extension(loan: Loan) -> dt.date:
    """The new due date a clerk is offered first: LOAN_EXTENSION_DEFAULT_DAYS later, but
    never beyond what `extend_loan` accepts (a type with a shorter term)."""
    return min(loan.due_on + dt.timedelta(days=LOAN_EXTENSION_DEFAULT_DAYS), extension_limit(loan))


def return_loan(
    session: Session,
    loan: Loan,
    returned_on: dt.date | None,
    condition: str | None,
    missing_components: str | None,
    needs_repair: bool,
    actor: User | None,
    today: dt.date,
) -> Loan:
    """Record a return: the unit goes to sanitising, or to repair if it needs one."""
    loan = _locked(session, Loan, loan.id)
    if not loan.is_open:
        raise WorkflowError(f"Эта выдача уже закрыта: ТСР возвращено {loan.returned_on:%d.%m.%Y}.")
    if returned_on is None:
        raise WorkflowError("Укажите дату возврата.", "returned_on")
    if returned_on < loan.issued_on:
        raise WorkflowError(
            f"Дата возврата не может быть раньше даты выдачи ({loan.issued_on:%d.%m.%Y}).",
            "returned_on",
        )
    _not_future(returned_on, today, "returned_on")
    if condition not in CONDITION.labels:
        raise WorkflowError("Укажите состояние при возврате.", "condition")
    missing = (missing_components or "").strip() or None
    loan.returned_on = returned_on
    loan.condition_on_return = condition
    loan.missing_components = missing
    unit = _locked(session, EquipmentUnit, loan.unit_id)
    unit.status = "repair" if needs_repair else "sanitising"
    unit.condition = condition
    details = f"состояние: {CONDITION.label(condition)}"
    if missing:
        details += f"; не хватает: {missing}"
    details += "; в ремонт" if needs_repair else "; на санобработку"
    _event(
        session,
        "returned",
        returned_on,
        actor,
        unit_id=unit.id,
        loan_id=loan.id,
        family_id=loan.family_id,
        details=details,
    )
    _flush(session, "Возврат уже оформил другой сотрудник; откройте выдачу заново.")
    return loan


# --- between families -------------------------------------------------------------------


def _last_return(session: Session, unit_id: int) -> dt.date | None:
    return session.scalar(
        select(Loan.returned_on)
        .where(Loan.unit_id == unit_id, Loan.returned_on.is_not(None))
        .order_by(Loan.returned_on.desc())
        .limit(1)
    )


def release_unit(
    session: Session,
    unit: EquipmentUnit,
    method: str | None,
    released_on: dt.date | None,
    actor: User | None,
    today: dt.date,
) -> Reservation | None:
    """Release a sanitised unit (method and date recorded): it becomes free and is
    offered to the first family in the queue for its type. Returns that offer."""
    unit = _locked(session, EquipmentUnit, unit.id)
    if unit.status != "sanitising":
        raise WorkflowError(
            "Выпустить после санобработки можно только единицу на санобработке; "
            f"сейчас она «{UNIT_STATUS.label(unit.status)}»."
        )
    method = _required(method, "method", "Укажите способ санобработки.")
    if released_on is None:
        raise WorkflowError("Укажите дату санобработки.", "released_on")
    _not_future(released_on, today, "released_on")
    returned = _last_return(session, unit.id)
    if returned is not None and released_on < returned:
        raise WorkflowError(
            f"Санобработка не может быть раньше возврата ({returned:%d.%m.%Y}).", "released_on"
        )
    unit.status = "available"
    _event(session, "sanitised", released_on, actor, unit_id=unit.id, details=method)
    _flush(session, "Единицу только что изменил другой сотрудник; откройте её заново.")
    offers = offer_available(session, unit.type_id, today, actor)
    return next((r for r in offers if r.offered_unit_id == unit.id), None)


def finish_repair(
    session: Session,
    unit: EquipmentUnit,
    note: str | None,
    repaired_on: dt.date | None,
    actor: User | None,
    today: dt.date,
) -> None:
    """A repaired unit goes to sanitising before the next family."""
    unit = _locked(session, EquipmentUnit, unit.id)
    if unit.status != "repair":
        raise WorkflowError(f"Единица не в ремонте: сейчас она «{UNIT_STATUS.label(unit.status)}».")
    if repaired_on is None:
        raise WorkflowError("Укажите дату окончания ремонта.", "repaired_on")
    _not_future(repaired_on, today, "repaired_on")
    unit.status = "sanitising"
    _event(
        session,
        "repaired",
        repaired_on,
        actor,
        unit_id=unit.id,
        details=(note or "").strip() or None,
    )
    _flush(session, "Единицу только что изменил другой сотрудник; откройте её заново.")


def write_off_unit(
    session: Session,
    unit: EquipmentUnit,
    reason: str | None,
    written_off_on: dt.date | None,
    actor: User | None,
    today: dt.date,
) -> None:
    """Write a unit off by the commission's decision (the reason is required).

    A unit offered to a family is taken back from the offer; the family keeps its
    place in the queue.
    """
    unit = _locked(session, EquipmentUnit, unit.id)
    if unit.status == "written_off":
        raise WorkflowError(f"Единица уже списана {unit.written_off_on:%d.%m.%Y}.")
    if unit.status == "on_loan":
        raise WorkflowError("Единица на руках у семьи: сначала оформите возврат.")
    reason = _required(reason, "reason", "Укажите основание списания (решение комиссии).")
    if written_off_on is None:
        raise WorkflowError("Укажите дату списания.", "written_off_on")
    _not_future(written_off_on, today, "written_off_on")
    offer = session.scalars(
        select(Reservation)
        .where(Reservation.offered_unit_id == unit.id, Reservation.status == "offered")
        .with_for_update()
    ).first()
    if offer is not None:
        _offer_over(session, offer.id, "не отправлено: единица списана")
        offer.status = "waiting"
        offer.offered_unit_id = None
        offer.offer_expires_on = None
    unit.status = "written_off"
    unit.written_off_on = written_off_on
    unit.write_off_reason = reason
    _event(session, "written_off", written_off_on, actor, unit_id=unit.id, details=reason)
    _flush(session, "Единицу только что изменил другой сотрудник; откройте её заново.")
    if offer is not None:
        offer_available(session, unit.type_id, today, actor)


# --- the queue ---------------------------------------------------------------------------


def enqueue(
    session: Session,
    child: Person,
    kind: EquipmentType,
    priority: str,
    requested_on: dt.date,
    actor: User | None,
    today: dt.date,
    notes: str | None = None,
) -> Reservation:
    """Put a child in the queue for an equipment type; a free unit is offered at once."""
    if child.relation != "child":
        raise WorkflowError("Выберите ребёнка: в очередь ставится ребёнок семьи.", "child")
    refuse_for_new_work(child, "child")
    if priority not in RESERVATION_PRIORITY.labels:
        raise WorkflowError("Выберите приоритет из списка.", "priority")
    _not_future(requested_on, today, "requested_on")
    refuse_for_new_work(kind, "type")
    queued = select(
        exists().where(
            Reservation.child_id == child.id,
            Reservation.type_id == kind.id,
            Reservation.status.in_(("waiting", "offered")),
        )
    )
    if session.scalar(queued):
        raise WorkflowError(f"Ребёнок уже стоит в очереди на «{kind}».", "type")
    reservation = Reservation(
        family_id=child.family_id,
        child_id=child.id,
        type_id=kind.id,
        requested_on=requested_on,
        priority=priority,
        status="waiting",
        notes=(notes or "").strip() or None,
    )
    session.add(reservation)
    session.flush()
    _event(
        session,
        "queued",
        requested_on,
        actor,
        reservation_id=reservation.id,
        family_id=reservation.family_id,
        details=RESERVATION_PRIORITY.label(priority),
    )
    offer_available(session, kind.id, today, actor)
    return reservation


def reprioritise(
    session: Session,
    reservation: Reservation,
    priority: str,
    reason: str | None,
    actor: User | None,
    today: dt.date,
) -> None:
    """Change a waiting family's priority (its place in the queue), with a recorded reason."""
    reservation = _locked(session, Reservation, reservation.id)
    if reservation.status != "waiting":
        raise WorkflowError("Приоритет меняется только у заявки, которая ждёт в очереди.")
    if priority not in RESERVATION_PRIORITY.labels:
        raise WorkflowError("Выберите приоритет из списка.", "priority")
    if priority == reservation.priority:
        raise WorkflowError("Приоритет уже такой.", "priority")
    reason = _required(reason, "reason", "Укажите причину изменения очерёдности.")
    before = RESERVATION_PRIORITY.label(reservation.priority)
    reservation.priority = priority
    _event(
        session,
        "reprioritised",
        today,
        actor,
        reservation_id=reservation.id,
        family_id=reservation.family_id,
        details=f"{before} → {RESERVATION_PRIORITY.label(priority)}: {reason}",
    )
    _flush(session, "Заявку только что изменил другой сотрудник; откройте очередь заново.")


def cancel_reservation(
    session: Session,
    reservation: Reservation,
    reason: str | None,
    actor: User | None,
    today: dt.date,
) -> None:
    """Take a family off the queue (or decline its offer): the unit passes to the next family."""
    reservation = _locked(session, Reservation, reservation.id)
    if reservation.status not in ("waiting", "offered"):
        raise WorkflowError("Эта заявка уже не в очереди: она выполнена или снята.")
    reason = _required(reason, "reason", "Укажите причину.")
    kind = "offer_declined" if reservation.status == "offered" else "queue_cancelled"
    _withdraw(session, reservation, kind, today, actor, reason)
    offer_available(session, reservation.type_id, today, actor)


def _withdraw(
    session: Session,
    reservation: Reservation,
    kind: str,
    today: dt.date,
    actor: User | None,
    details: str | None = None,
) -> None:
    unit_id = reservation.offered_unit_id
    if unit_id is not None:
        unit = _locked(session, EquipmentUnit, unit_id)
        if unit.status == "reserved":
            unit.status = "available"
    if reservation.status == "offered":
        _offer_over(session, reservation.id, "не отправлено: предложение снято")
    reservation.status = "cancelled"
    reservation.offered_unit_id = None
    reservation.offer_expires_on = None
    _event(
        session,
        kind,
        today,
        actor,
        unit_id=unit_id,
        reservation_id=reservation.id,
        family_id=reservation.family_id,
        details=details,
    )
    _flush(session, "Заявку только что изменил другой сотрудник; откройте очередь заново.")


def _offer_events(reservation_id: int) -> Select[int]:
    return select(RentalEvent.id).where(
        RentalEvent.kind == "offered", RentalEvent.reservation_id == reservation_id
    )


def _offer_over(session: Session, reservation_id: int, why: str) -> None:
    """An offer taken, declined, expired or withdrawn: its message, if not yet sent, is not."""
    cancel_messages(session, "offer", list(session.scalars(_offer_events(reservation_id))), why)


def offer_available(
    session: Session, type_id: int, today: dt.date, actor: User | None = None
) -> list[Reservation]:
    """Offer each free unit of the type to the next waiting family, in queue order.

    Each offer holds the unit for OFFER_DAYS days. Rows are taken with SKIP LOCKED,
    so two servers offering at once never offer one unit twice (and the partial
    unique index on the offered unit forbids it anyway).
    """
    offers = []
    while True:
        unit = session.scalars(
            select(EquipmentUnit)
            .where(
                EquipmentUnit.type_id == type_id,
                EquipmentUnit.status == "available",
                active_for_new_work(EquipmentUnit),
            )
            .order_by(EquipmentUnit.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if unit is None:
            break
        # A child archived since (or of a family archived since) keeps the place, but is
        # passed over: nothing new starts with an archived row.
        live_children = select(Person.id).where(active_for_new_work(Person))
        reservation = session.scalars(
            select(Reservation)
            .where(
                Reservation.type_id == type_id,
                Reservation.status == "waiting",
                Reservation.child_id.in_(live_children),
            )
            .order_by(*queue_order())
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if reservation is None:
            break
        expires = today + dt.timedelta(days=OFFER_DAYS)
        reservation.status = "offered"
        reservation.offered_unit_id = unit.id
        reservation.offer_expires_on = expires
        unit.status = "reserved"
        offered = _event(
            session,
            "offered",
            today,
            actor,
            unit_id=unit.id,
            reservation_id=reservation.id,
            family_id=reservation.family_id,
            details=f"до {expires:%d.%m.%Y}",
        )
        _flush(session, "Эта единица уже предложена другой семье.")
        # The family is told in this transaction; the worker sends it later.
        notify(
            session,
            About("offer", offered.id, today),
            reservation.family,
            {"вид_ТСР": str(unit.type), "до": f"{expires:%d.%m}"},
            today,
        )
        offers.append(reservation)
    return offers


# --- time-driven rules (idempotent; `flask tick` runs them) ------------------------------


def expire_offers(session: Session, today: dt.date, type_id: int | None = None) -> int:
    """Offers not taken by their last day pass to the next family. Returns how many expired.

    The expired family leaves the queue (the event says why); it may queue again.
    Idempotent; safe on two servers at once (SKIP LOCKED).
    """
    # The days count from the family's being told: an offer whose message is still on
    # its way waits for it (at most OFFER_DELIVERY_GRACE_DAYS longer).
    undelivered = exists().where(
        Message.event_kind == "offer",
        Message.state.in_(("pending", "failed")),
        Message.event_id.in_(
            select(RentalEvent.id).where(
                RentalEvent.kind == "offered", RentalEvent.reservation_id == Reservation.id
            )
        ),
    )
    grace = today - dt.timedelta(days=OFFER_DELIVERY_GRACE_DAYS)
    query = select(Reservation).where(
        Reservation.status == "offered",
        Reservation.offer_expires_on < today,
        or_(~undelivered, Reservation.offer_expires_on < grace),
    )
    if type_id is not None:
        query = query.where(Reservation.type_id == type_id)
    expired = session.scalars(query.with_for_update(skip_locked=True)).all()
    for reservation in expired:
        _withdraw(session, reservation, "offer_expired", today, None)
    for kind_id in sorted({r.type_id for r in expired}):
        offer_available(session, kind_id, today)
    return len(expired)


def offer_delivered(session: Session, event_id: int, on: dt.date) -> None:
    """The family was told of the offer (event `event_id`) on `on`: the unit is held
    OFFER_DAYS from that day. An offer since taken, declined or replaced is left alone."""
    reservation_id = session.scalar(
        select(RentalEvent.reservation_id).where(
            RentalEvent.id == event_id, RentalEvent.kind == "offered"
        )
    )
    if reservation_id is None:
        return
    reservation = _locked(session, Reservation, reservation_id)
    latest = session.scalar(_offer_events(reservation_id).order_by(RentalEvent.id.desc()).limit(1))
    if reservation.status != "offered" or latest != event_id:
        return
    expires = on + dt.timedelta(days=OFFER_DAYS)
    if reservation.offer_expires_on is None or expires > reservation.offer_expires_on:
        reservation.offer_expires_on = expires


def overdue_loans_query(today: dt.date) -> Select[Loan]:
    """Open loans past their due date: the truth from dates, whether or not a job ran."""
    return (
        select(Loan)
        .where(Loan.returned_on.is_(None), Loan.due_on < today, Loan.archived_at.is_(None))
        .order_by(Loan.due_on, Loan.id)
    )


def task_overdue_loans(session: Session, today: dt.date) -> int:
    """Each overdue loan becomes one task for the family's district worker (once per
    missed due date). Returns the number of tasks made. Idempotent; two servers at
    once make one task (the partial unique index on the overdue event)."""
    made = 0
    for loan in session.scalars(overdue_loans_query(today)).all():
        tasked = select(
            exists().where(
                RentalEvent.kind == "overdue",
                RentalEvent.loan_id == loan.id,
                RentalEvent.occurred_on == loan.due_on,
            )
        )
        if session.scalar(tasked):
            continue
        try:
            with session.begin_nested():
                task = _overdue_task(session, loan, today)
                _event(
                    session,
                    "overdue",
                    loan.due_on,
                    None,
                    unit_id=loan.unit_id,
                    loan_id=loan.id,
                    family_id=loan.family_id,
                    task_id=task.id,
                )
                session.flush()
        except IntegrityError:
            continue  # another server made this task a moment ago
        made += 1
    return made


def _overdue_task(session: Session, loan: Loan, today: dt.date) -> Task:
    """A task for the family's district worker: the district's responsible worker
    if they can take it, else the least-loaded district worker there."""
    family = session.get_one(Family, loan.family_id)
    case = active_case(session, family.id)
    return create_task(
        session,
        family_id=family.id,
        case_id=case.id if case else None,
        title=(
            f"Просрочен возврат ТСР: {loan.unit.inventory_number} ({loan.unit.type}), "
            f"срок был {loan.due_on:%d.%m.%Y}. Связаться с семьёй."
        ),
        role="district_worker",
        due_date=today + dt.timedelta(days=OVERDUE_TASK_DAYS),
        today=today,
        prefer=family.district.responsible_worker,
    )


def check_archivable(unit: EquipmentUnit) -> None:
    """A unit with a family, or offered to one, stays in the stock until it is back."""
    if unit.status == "on_loan":
        raise WorkflowError("Единица на руках у семьи: в архив — после возврата.")
    if unit.status == "reserved":
        raise WorkflowError("Единица предложена семье из очереди: в архив её не перенести.")


def receive_unit(
    session: Session, unit: EquipmentUnit, actor: User | None, today: dt.date
) -> list[Reservation]:
    """A new unit joins the stock: recorded, and offered to the queue if free."""
    _event(session, "received", unit.acquired_on or today, actor, unit_id=unit.id)
    session.flush()
    if unit.status != "available":
        return []
    return offer_available(session, unit.type_id, today, actor)
