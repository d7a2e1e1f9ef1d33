"""Consent to personal-data processing: no active consent, no case."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from models import Consent

NO_CONSENT = (
    "У семьи нет действующего согласия на обработку персональных данных: "
    "случай сопровождения открыть нельзя."
)


def has_active_consent(session: Session, family_id: int, on: dt.date) -> bool:
    """Whether the family has a consent given on or before `on` and not withdrawn by then."""
    query = select(
        exists().where(
            Consent.family_id == family_id,
            Consent.given_on <= on,
            or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > on),
        )
    )
    return bool(session.scalar(query))
