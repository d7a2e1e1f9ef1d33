"""Events and who took part in them: the rules a saved event and an attendance keep.

The panel's forms (admin_views/events.py) ask these before saving; the database holds
again what it can (the campaign's channel and its numbers, one live attendance per
event and family). Reading a family's events goes through the row scope of the
attendance, which is the family's (workflows/scope.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select

from models import Event, EventAttendance, Partner
from models.reference import FAMILY_EVENT_KINDS

from .errors import WorkflowError

CAMPAIGN_NEEDS_CHANNEL = "У материала информационной кампании укажите канал информирования."
CHANNEL_OF_CAMPAIGN_ONLY = "Канал, тираж и охват указываются только для информационной кампании."
NEGATIVE = "Число не может быть отрицательным."
LISTENERS_AT_TRAININGS = (
    "Сотрудники и волонтёры записываются слушателями только на обучение; "
    "на остальные мероприятия приходят семьи."
)
FAMILIES_AT_GATHERINGS = (
    "Семьи записываются на клубные встречи, праздники, экскурсии и другие мероприятия, "
    "не на обучение и не на материалы информационной кампании."
)
NOT_A_CHILD_OF_FAMILY = "{person} — не ребёнок этой семьи."
NOT_A_GROUP = "Выберите партнёра вида «волонтёрская группа»."


def check_event(
    kind: str | None,
    channel: str | None,
    print_run: int | None,
    reach: int | None,
    listeners: int,
) -> None:
    """Refuse an event whose campaign fields or listeners do not fit its kind.

    `listeners` is the number of staff and volunteers recorded as its attendees.
    """
    campaign = kind == "info_campaign"
    if campaign and not channel:
        raise WorkflowError(CAMPAIGN_NEEDS_CHANNEL, "channel")
    if not campaign and (channel or print_run is not None or reach is not None):
        raise WorkflowError(CHANNEL_OF_CAMPAIGN_ONLY, "channel")
    for name, value in (("print_run", print_run), ("reach", reach)):
        if value is not None and value < 0:
            raise WorkflowError(NEGATIVE, name)
    if listeners and kind != "training":
        raise WorkflowError(LISTENERS_AT_TRAININGS, "staff")


def check_attendance(event: Event | None, family_id: int | None, children: Sequence[Any]) -> None:
    """Refuse a family at an event families do not attend, or a child of another family."""
    if event is not None and event.kind not in FAMILY_EVENT_KINDS:
        raise WorkflowError(FAMILIES_AT_GATHERINGS, "event")
    for person in children:
        if person.family_id != family_id or person.relation != "child":
            raise WorkflowError(NOT_A_CHILD_OF_FAMILY.format(person=person), "children")


def check_volunteer_group(group: Partner | None) -> None:
    """A volunteer's group is a partner of the kind «волонтёрская группа»."""
    if group is not None and group.kind != "volunteers":
        raise WorkflowError(NOT_A_GROUP, "group")


def live_events_only() -> ColumnElement[bool]:
    """The attendances of events not archived: what a family's page lists."""
    return EventAttendance.event_id.in_(select(Event.id).where(Event.archived_at.is_(None)))
