"""Consent to personal-data processing: no active consent, no case."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from models import Consent, Family, Person
from models.live import refuse_for_new_work
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.tasks import complete_step_tasks

NO_CONSENT = (
    "У семьи нет действующего согласия на обработку персональных данных: "
    "случай сопровождения открыть нельзя."
)


def has_active_consent(session: Session, family_id: int, on: dt.date) -> bool:
    """Whether the family has a consent given on or before `on` and not withdrawn by then
    (an archived consent is no consent)."""
    query = select(
        exists().where(
            Consent.family_id == family_id,
            Consent.archived_at.is_(None),
            Consent.given_on <= on,
            or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > on),
        )
    )
    return bool(session.scalar(query))


DEFAULT_SCOPE = (
    "обработка персональных данных семьи, в том числе сведений о здоровье детей, "
    "для социального сопровождения"
)


def record_consent(
    session: Session,
    family: Family,
    person: Person,
    given_on: dt.date,
    scope: str = DEFAULT_SCOPE,
    today: dt.date | None = None,
    notifications: bool = False,
) -> Consent:
    """Record a consent given by a member of the family (usually the applicant); with
    `notifications`, it includes the consent to be sent reminders (workflows/notify.py)."""
    if person.family_id != family.id:
        raise WorkflowError("Согласие даёт член этой семьи.", "person")
    refuse_for_new_work(person, "person")
    if given_on > (today or centre_today()):
        raise WorkflowError("Дата согласия не может быть в будущем.", "given_on")
    consent = Consent(
        family=family,
        person=person,
        given_on=given_on,
        scope=scope.strip(),
        notifications=bool(notifications),
    )
    session.add(consent)
    session.flush()
    complete_step_tasks(
        session,
        "consent",
        family.id,
        None,
        f"Согласие на обработку ПДн получено {given_on:%d.%m.%Y}.",
    )
    return consent
