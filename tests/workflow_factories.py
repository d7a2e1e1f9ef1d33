"""Builders for the task, plan and scheduler tests: specialists with accounts, active cases."""

from __future__ import annotations

import datetime as dt

import factories as f

from models import District, Staff, db

TODAY = dt.date(2025, 3, 10)


def specialist(
    role: str = "psychologist",
    districts: tuple[District, ...] = (),
    *,
    active: bool = True,
    account_active: bool = True,
    last_name: str = "Орлова",
    username: str | None = None,
) -> Staff:
    """A staff member of `role` with a login account of the same role (named
    `username`, for a test that signs in as them)."""
    row = f.staff(role, districts=districts, active=active, last_name=last_name)
    account = {"username": username} if username else {}
    f.user(role, staff_row=row, active=account_active, **account)
    return row


def active_case(district: District | None = None, lead: Staff | None = None, **kw):
    """An active case (01.02.2025 – 01.08.2025) of a new family; returns the case."""
    family, mother, _child = f.family_with_members(district_row=district or f.district())
    f.consent(family, mother)
    return f.case(family, mother, lead_worker=lead, **kw)


def open_tasks(staff: Staff, count: int, due: dt.date = TODAY + dt.timedelta(days=5)) -> None:
    """Give `staff` `count` assigned tasks due on `due` (to load them)."""
    for _ in range(count):
        fam = f.family()
        f.task(fam, role=staff.role, status="assigned", assignee=staff, due_date=due)
    db.session.flush()
