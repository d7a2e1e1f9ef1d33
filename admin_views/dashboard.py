"""The home page's dashboard: per role, the figures it acts on and a few charts.

A figure is shown when the role may open the list it counts (or, for the
viewer, the report it belongs to); where the role may open the list, the
figure links to it with the same filter, so the number and the list agree
(the user's own tasks link to «Мои задачи», which groups the same tasks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import url_for
from markupsafe import Markup

from models import db
from models.terms import AGREEMENT_EXPIRY_WARNING_DAYS, CASE_END_WARNING_DAYS
from workflows import dashboard as figures

from . import charts
from .permissions import allowed


@dataclass
class Figure:
    label: str
    value: int
    url: str | None = None
    alarm: bool = False  # a non-zero value needs action


def list_url(role, endpoint: str, filters: list[tuple[str, str]]) -> str | None:
    """The list of `endpoint` with `filters` (Flask-Admin's flt arguments), if the role may open it."""
    if not allowed(role, endpoint, "list"):
        return None
    args = {f"flt{i}_{name}": value for i, (name, value) in enumerate(filters)}
    return url_for(f"{endpoint}.index_view", **args)


def cases_ending_url(role, today: dt.date, days: int) -> str | None:
    """The case list of the active cases whose planned end is within `days` from today."""
    soon = today + dt.timedelta(days=days)
    filters = [("status_equals", "active"), ("planned_end_date_between", f"{today} to {soon}")]
    return list_url(role, "case", filters)


def cases_past_end_url(role, today: dt.date) -> str | None:
    """The case list of the active cases whose planned end has passed."""
    return list_url(
        role, "case", [("status_equals", "active"), ("planned_end_date_smaller_than", f"{today}")]
    )


def _page_url(role, endpoint: str, page: str) -> str | None:
    """A workflow page's address, if the role may open it."""
    return url_for(f"{endpoint}.{page}") if allowed(role, endpoint, "list") else None


def _may(role, endpoint: str, report: str) -> bool:
    return allowed(role, endpoint, "list") or allowed(role, f"report_{report}", "list")


def build(user, today: dt.date) -> tuple[list[Figure], list[tuple[str, Markup]]]:
    """(figures, charts) for `user` on `today`."""
    role, session = user.role, db.session
    shown: list[Figure] = []
    drawn: list[tuple[str, Markup]] = []
    iso = today.isoformat()
    if user.staff_id and allowed(role, "task", "list"):
        shown.append(
            Figure(
                "Мои просроченные задачи",
                figures.my_overdue_tasks(session, user, today),
                _page_url(role, "my_tasks", "index"),
                alarm=True,
            )
        )
        shown.append(
            Figure(
                "Мои задачи на сегодня",
                figures.my_tasks_due_today(session, user, today),
                _page_url(role, "my_tasks", "index"),
            )
        )
    if _may(role, "case", "pilot"):
        shown.append(
            Figure(
                f"Случаи: срок сопровождения истекает в {CASE_END_WARNING_DAYS} дней",
                figures.cases_near_end(session, user, today),
                cases_ending_url(role, today, CASE_END_WARNING_DAYS),
                alarm=True,
            )
        )
        shown.append(
            Figure(
                "Случаи: плановое окончание уже прошло",
                figures.cases_past_end(session, user, today),
                cases_past_end_url(role, today),
                alarm=True,
            )
        )
        drawn.append(
            (
                "Случаи по статусам за 12 месяцев",
                charts.stacked_months(
                    figures.cases_by_month(session, user, today),
                    "Случаи сопровождения по статусам на конец каждого месяца",
                ),
            )
        )
    if _may(role, "reservation", "rental"):
        shown.append(
            Figure(
                "Очередь на ТСР",
                figures.queue_length(session, user),
                list_url(role, "reservation", [("status_equals", "waiting")]),
            )
        )
    if _may(role, "loan", "rental"):
        shown.append(
            Figure(
                "Просроченные выдачи ТСР",
                figures.overdue_loans(session, user, today),
                list_url(role, "loan", [("returned_on_empty", "1"), ("due_on_smaller_than", iso)]),
                alarm=True,
            )
        )
        by_type = figures.loans_by_type(session, user)
        if by_type:
            drawn.append(
                ("ТСР на руках по видам", charts.horizontal_bars(by_type, "ТСР на руках по видам"))
            )
    if _may(role, "partner_agreement", "agreements"):
        soon = (today + dt.timedelta(days=AGREEMENT_EXPIRY_WARNING_DAYS)).isoformat()
        shown.append(
            Figure(
                f"Соглашения с партнёрами истекают в {AGREEMENT_EXPIRY_WARNING_DAYS} дней",
                figures.expiring_agreements(session, today),
                list_url(
                    role,
                    "partner_agreement",
                    [("status_equals", "active"), ("valid_to_between", f"{iso} to {soon}")],
                ),
                alarm=True,
            )
        )
    return shown, drawn
