"""The home page's figures: what each role acts on today, counted from dates.

Nothing here depends on the scheduler having run: «overdue» is a due date in
the past on an open task or loan, «near the end» is a planned end date within
30 days, both computed at the moment the page is drawn.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select

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

from .dates import add_months
from .reports import CASE_END_WARNING_DAYS, _count, _count_if, agreement_states, report_scope


def my_overdue_tasks(session, user: User, today: dt.date) -> int:
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


def my_tasks_due_today(session, user: User, today: dt.date) -> int:
    if user.staff_id is None:
        return 0
    return _count(
        session,
        Task,
        Task.assignee_id == user.staff_id,
        Task.status.in_(OPEN_TASK_STATUSES),
        Task.due_date == today,
    )


def _active_cases(user: User):
    return (Case.status == "active", Case.archived_at.is_(None), report_scope(Case, user))


def cases_near_end(session, user: User, today: dt.date) -> int:
    """Cases in support whose six-month term ends within 30 days (today included)."""
    soon = today + dt.timedelta(days=CASE_END_WARNING_DAYS)
    return _count(session, Case, Case.planned_end_date.between(today, soon), *_active_cases(user))


def cases_past_end(session, user: User, today: dt.date) -> int:
    """Cases still in support although their planned end date has passed."""
    return _count(session, Case, Case.planned_end_date < today, *_active_cases(user))


def queue_length(session, user: User) -> int:
    return _count(
        session, Reservation, Reservation.status == "waiting", report_scope(Reservation, user)
    )


def overdue_loans(session, user: User, today: dt.date) -> int:
    return _count(
        session,
        Loan,
        Loan.returned_on.is_(None),
        Loan.due_on < today,
        Loan.archived_at.is_(None),
        report_scope(Loan, user),
    )


def expiring_agreements(session, today: dt.date) -> int:
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


def cases_by_month(session, user: User, today: dt.date, months: int = 12) -> list[dict]:
    """Per month: cases in application or assessment and in support at the month's end,
    and cases closed during the month — one aggregate query for all months."""
    ends = month_ends(today, months)
    columns = []
    for end in ends:
        start = end.replace(day=1)
        not_closed = or_(Case.closed_on.is_(None), Case.closed_on > end)
        columns += [
            _count_if(
                and_(
                    Case.application_date <= end,
                    or_(Case.start_date.is_(None), Case.start_date > end),
                    not_closed,
                )
            ),
            _count_if(and_(Case.start_date <= end, not_closed)),
            _count_if(Case.closed_on.between(start, end)),
        ]
    values = session.execute(
        select(*columns).where(Case.archived_at.is_(None), report_scope(Case, user))
    ).one()
    return [
        {
            "month": end,
            "application": int(values[3 * i] or 0),
            "active": int(values[3 * i + 1] or 0),
            "closed": int(values[3 * i + 2] or 0),
        }
        for i, end in enumerate(ends)
    ]


def loans_by_type(session, user: User) -> list[tuple[str, int]]:
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
