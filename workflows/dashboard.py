"""The home page's figures: what each role acts on today, counted from dates.

Nothing here depends on the scheduler having run: «overdue» is a due date in
the past on an open task or loan, «near the end» is a planned end date within
CASE_END_WARNING_DAYS (models/terms.py), both computed at the moment the page is drawn.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, or_, select
from sqlalchemy.orm import Session

from models import (
    Case,
    EquipmentType,
    EquipmentUnit,
    Loan,
    PartnerAgreement,
    Reservation,
    Task,
    User,
)
from models.cases import OPEN_TASK_STATUSES
from models.terms import CASE_END_WARNING_DAYS

from .dates import add_months
from .kept import kept, scope_key
from .reports import _count, agreement_states, report_scope


def my_overdue_tasks(session: Session, user: User, today: dt.date) -> int:
    """Open tasks assigned to the user's staff member with a due date before today."""
    if user.staff_id is None:
        return 0
    return _count(
        session,
        Task,
        Task.assignee_id == user.staff_id,
        Task.status.in_(OPEN_TASK_STATUSES),
        Task.due_date < today,
    )


def my_tasks_due_today(session: Session, user: User, today: dt.date) -> int:
    if user.staff_id is None:
        return 0
    return _count(
        session,
        Task,
        Task.assignee_id == user.staff_id,
        Task.status.in_(OPEN_TASK_STATUSES),
        Task.due_date == today,
    )


def _active_cases(user: User) -> tuple[ColumnElement[bool], ...]:
    return (Case.status == "active", Case.archived_at.is_(None), report_scope(Case, user))


def cases_near_end(session: Session, user: User, today: dt.date) -> int:
    """Cases in support whose term ends within CASE_END_WARNING_DAYS (today included)."""
    soon = today + dt.timedelta(days=CASE_END_WARNING_DAYS)
    return _count(session, Case, Case.planned_end_date.between(today, soon), *_active_cases(user))


def cases_past_end(session: Session, user: User, today: dt.date) -> int:
    """Cases still in support although their planned end date has passed."""
    return _count(session, Case, Case.planned_end_date < today, *_active_cases(user))


def queue_length(session: Session, user: User) -> int:
    return _count(
        session, Reservation, Reservation.status == "waiting", report_scope(Reservation, user)
    )


def overdue_loans(session: Session, user: User, today: dt.date) -> int:
    return _count(
        session,
        Loan,
        Loan.returned_on.is_(None),
        Loan.due_on < today,
        Loan.archived_at.is_(None),
        report_scope(Loan, user),
    )


def expiring_agreements(session: Session, today: dt.date) -> int:
    return _count(
        session,
        PartnerAgreement,
        agreement_states(today)["expiring"],
        PartnerAgreement.archived_at.is_(None),
    )


def month_ends(today: dt.date, months: int) -> list[dt.date]:
    """The last day of each of the last `months` months, the current one ending today."""
    ends = [today]
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = add_months(first, -1)
        ends.append(add_months(first, 1) - dt.timedelta(days=1))
    return list(reversed(ends))


def cases_by_month(
    session: Session, user: User, today: dt.date, months: int = 12
) -> list[dict[str, Any]]:
    """`count_cases_by_month`, kept (workflows/kept.py) until the cases change."""
    return kept(
        session,
        f"home.cases_by_month:{scope_key(user)}:{today}:{months}",
        lambda: count_cases_by_month(session, user, today, months),
        encode=lambda rows: [{**row, "month": row["month"].isoformat()} for row in rows],
        decode=lambda rows: [{**row, "month": dt.date.fromisoformat(row["month"])} for row in rows],
    )


def count_cases_by_month(
    session: Session, user: User, today: dt.date, months: int = 12
) -> list[dict[str, Any]]:
    """Per month: cases in application or assessment and in support at the month's end,
    and cases closed during the month.

    One aggregate query: each case's application, start and closure dates are put
    in the month they fall in (-1 before the first month, `months` for none or
    later), the cases are counted per such triple, and the months are summed up
    from the few triples — three small expressions per case instead of three per
    case and month.
    """
    ends = month_ends(today, months)
    first = ends[0].replace(day=1)
    never = months

    def month_of(column: SQLColumnExpression[dt.date | None]) -> ColumnElement[int]:
        return case(
            (column.is_(None), never),
            (column < first, -1),
            *((column <= end, i) for i, end in enumerate(ends)),
            else_=never,
        )

    applied, started, closed = (
        month_of(c) for c in (Case.application_date, Case.start_date, Case.closed_on)
    )
    triples = session.execute(
        select(applied, started, closed, func.count())
        .where(Case.archived_at.is_(None), report_scope(Case, user))
        # A case closed before the first month counts in none of them.
        .where(or_(Case.closed_on.is_(None), Case.closed_on >= first))
        .group_by(applied, started, closed)
    ).all()
    result: list[dict[str, Any]] = []
    for i, end in enumerate(ends):
        counts = {"application": 0, "active": 0, "closed": 0}
        for a, s, c, n in triples:
            if a <= i < s and c > i:
                counts["application"] += n
            if s <= i < c:
                counts["active"] += n
            if c == i:
                counts["closed"] += n
        result.append({"month": end, **counts})
    return result


def loans_by_type(session: Session, user: User) -> list[tuple[str, int]]:
    """Loans out now per equipment type, most first; kept until the loans or the units change."""
    return kept(
        session,
        f"home.loans_by_type:{scope_key(user)}",
        lambda: count_loans_by_type(session, user),
        encode=lambda rows: [list(row) for row in rows],
        decode=lambda rows: [(name, n) for name, n in rows],
    )


def count_loans_by_type(session: Session, user: User) -> list[tuple[str, int]]:
    """Loans out now per equipment type, most first."""
    counted = func.count(Loan.id)
    rows = session.execute(
        select(EquipmentType.name, counted)
        .join(EquipmentUnit, EquipmentUnit.type_id == EquipmentType.id)
        .join(Loan, Loan.unit_id == EquipmentUnit.id)
        .where(Loan.returned_on.is_(None), Loan.archived_at.is_(None), report_scope(Loan, user))
        .group_by(EquipmentType.name)
        .order_by(counted.desc(), EquipmentType.name)
    ).all()
    return [(name, int(n)) for name, n in rows]
