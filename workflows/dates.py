"""Calendar arithmetic shared by forms, workflows and the database constraint."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Europe/Moscow"


def centre_today() -> dt.date:
    """Today in the centre's time zone (OPORA_TIMEZONE), whatever zone the server's
    clock keeps: what «today», «due» and «overdue» mean everywhere."""
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else DEFAULT_TIMEZONE
    return dt.datetime.now(ZoneInfo(zone)).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus calendar months, clamped to the month's end: 31 Aug + 6 = 28/29 Feb."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def centre_zone() -> ZoneInfo:
    """The centre's time zone (OPORA_TIMEZONE)."""
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(zone)
