"""The centre's settings row: read by every printed document and by reception.

The row is made on first reading from the environment's OPORA_CENTRE_* (the app's
config), so a fresh installation prints what it printed before the settings page
existed; after that the administrator's page is the only source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.centre import (
    DEFAULT_CLOSES,
    DEFAULT_LUNCH_ENDS,
    DEFAULT_LUNCH_STARTS,
    DEFAULT_OPENS,
    SETTINGS_ID,
    CentreSettings,
)

DEFAULT_NAME = "Комплексный центр социального обслуживания населения"


def _director(head: str) -> dict[str, str | None]:
    """«Фамилия Имя Отчество» from the environment into its parts; initials are not a name."""
    parts = head.split()
    if not 2 <= len(parts) <= 3 or any("." in part for part in parts):
        return {}
    return dict(
        zip(
            ("director_last_name", "director_first_name", "director_middle_name"),
            parts,
            strict=False,
        )
    )


def defaults(config: Mapping[str, Any]) -> dict[str, Any]:
    """The first values of the settings row, from the app's config (the environment)."""
    return {
        "full_name": config.get("CENTRE_NAME") or DEFAULT_NAME,
        "address": config.get("CENTRE_ADDRESS") or None,
        "phone": config.get("CENTRE_PHONE") or None,
        "email": config.get("CENTRE_EMAIL") or None,
        **_director(config.get("CENTRE_HEAD") or ""),
        "director_position": "директор",
        "basis": "Устава",
        "opens_at": DEFAULT_OPENS,
        "closes_at": DEFAULT_CLOSES,
        "lunch_starts_at": DEFAULT_LUNCH_STARTS,
        "lunch_ends_at": DEFAULT_LUNCH_ENDS,
    }


def centre_settings(session: Session, config: Mapping[str, Any] | None = None) -> CentreSettings:
    """The settings row, made from `config` the first time (two first readers make one)."""
    row = session.get(CentreSettings, SETTINGS_ID)
    if row is not None:
        return row
    if config is None:
        config = current_app.config if has_app_context() else {}
    row = CentreSettings(id=SETTINGS_ID, **defaults(config))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another server made it a moment ago: read theirs.
        existing = session.get(CentreSettings, SETTINGS_ID)
        assert existing is not None
        return existing
    return row


@dataclass(frozen=True)
class Hours:
    """The centre's working day: reception slots lie within it and outside the lunch break."""

    opens: dt.time
    closes: dt.time
    lunch_starts: dt.time | None = None
    lunch_ends: dt.time | None = None

    def in_lunch(self, start: dt.time, end: dt.time) -> bool:
        """Does [start, end) overlap the lunch break?"""
        if self.lunch_starts is None or self.lunch_ends is None:
            return False
        return start < self.lunch_ends and self.lunch_starts < end

    def words(self) -> str:
        lunch = (
            f", перерыв с {self.lunch_starts:%H:%M} до {self.lunch_ends:%H:%M}"
            if self.lunch_starts and self.lunch_ends
            else ""
        )
        return f"с {self.opens:%H:%M} до {self.closes:%H:%M}{lunch}"


DEFAULT_HOURS = Hours(DEFAULT_OPENS, DEFAULT_CLOSES, DEFAULT_LUNCH_STARTS, DEFAULT_LUNCH_ENDS)


def working_hours(session: Session, config: Mapping[str, Any] | None = None) -> Hours:
    row = centre_settings(session, config)
    return Hours(row.opens_at, row.closes_at, row.lunch_starts_at, row.lunch_ends_at)


def requisites_lines(row: CentreSettings) -> list[str]:
    """The lines under the centre's name on a letterhead; an empty one is left out."""
    codes = ", ".join(
        f"{label} {value}"
        for label, value in (("ИНН", row.inn), ("КПП", row.kpp), ("ОГРН", row.ogrn))
        if value
    )
    return [
        line
        for line in (
            row.address,
            codes,
            row.phone and f"тел. {row.phone}",
            row.email and f"эл. почта {row.email}",
        )
        if line
    ]
