"""Which rows may be chosen for new work: the one rule every picker and every workflow asks.

An archived row is history: it still shows where an existing record names it (a loan's
child, an activity's service, a case's lead worker), but nothing new starts with it —
no picker offers it (the rental desk, the ИПСС editor, the case steps, intake,
reception, every form of the tables, the task assignees) and a workflow handed one
(a forged form, a page left open while someone archived the row) refuses it with a
Russian message next to its field. Beyond its own mark:

- a member of an archived family is no more choosable than the family;
- a member of staff who no longer works here («Работает» off) gets no new work either.

`active_for_new_work(Model)` is the SQL condition, `active_for_new_work(query)` the query
narrowed by it (an ORM Query or a select of one model); `new_work_refusal(row)` says the
same of one loaded row in words, and `refuse_for_new_work(row, field)` raises it.
"""

from __future__ import annotations

from typing import Any, TypeVar, overload

from sqlalchemy import ColumnElement, Select, and_, select, true
from sqlalchemy.orm import Query, aliased

from .base import ArchivedMixin
from .errors import WorkflowError
from .people import Family, Person
from .reference import Staff

_Q = TypeVar("_Q", Select[Any], Query[Any])

# What each refusal says, by table; a table not named here gets ARCHIVED_ROW.
ARCHIVED_ROW = "Эта запись в архиве: для новой работы её не выбирают."
REFUSALS = {
    "family": "Семья в архиве: новую работу с ней не начинают, пока администратор её не восстановит.",
    "person": "Этот человек в архиве (или в архиве его семья): для новой работы его не выбирают.",
    "staff": "Сотрудник в архиве или больше не работает: новую работу ему не поручают.",
    "service": "Эта услуга в архиве: в новые мероприятия её не включают.",
    "district": "Этот участок в архиве: новых семей на нём не регистрируют.",
    "department": "Это отделение в архиве: для новой работы его не выбирают.",
    "programme": "Эта программа в архиве: в неё не записывают.",
    "partner": "Этот партнёр в архиве: для новой работы его не выбирают.",
    "partner_contact": "Это контактное лицо в архиве: направлений ему не адресуют.",
    "equipment_type": "Этот вид ТСР в архиве: в очередь на него не ставят и его не выдают.",
    "equipment_unit": "Эта единица в архиве: выдавать её нельзя.",
    "appointment": "Эта запись на приём отменена (в архиве).",
    "consent": "Это согласие в архиве: оно больше не действует.",
    "incoming_referral": "Это направление партнёра в архиве: регистрацию по нему не начинают.",
    "social_raid": "Этот рейд в архиве: выявленных в нём семей по нему не регистрируют.",
}


# An alias: a query that joins family itself must not correlate this one to its own.
# Made once: a new alias per query would cost its making and the compiled-SQL cache.
_ARCHIVED_FAMILY = aliased(Family, name="archived_family")


def _in_archived_family() -> ColumnElement[bool]:
    # «The person's family is archived», per person by the family's key: not «family_id
    # IN (the live families)», for which SQLite builds a list of all 76,000 live families
    # before each search (a scan of family, 19 ms a picker's keystroke); and NOT EXISTS,
    # not NOT IN, which PostgreSQL can run only as a filter over every candidate row.
    archived = _ARCHIVED_FAMILY
    return (
        select(archived.id)
        .where(archived.id == Person.family_id, archived.archived_at.is_not(None))
        .exists()
    )


def _condition(model: type) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if issubclass(model, ArchivedMixin):
        conditions.append(model.archived_at.is_(None))
    if model is Person:
        conditions.append(~_in_archived_family())
    if model is Staff:
        conditions.append(Staff.active.is_(True))
    return and_(*conditions) if conditions else true()


@overload
def active_for_new_work(target: type) -> ColumnElement[bool]: ...
@overload
def active_for_new_work(target: _Q) -> _Q: ...
def active_for_new_work(target: Any) -> Any:
    """The rows that may be chosen for new work: for a model, the WHERE condition; for a
    query of one model, that query narrowed to them."""
    if isinstance(target, type):
        return _condition(target)
    entity = target.column_descriptions[0]["entity"]
    return target.where(_condition(entity))


def new_work_refusal(row: object) -> str | None:
    """Why `row` may not be chosen for new work (in Russian), or None if it may."""
    archived = isinstance(row, ArchivedMixin) and row.archived_at is not None
    if isinstance(row, Person) and row.family is not None:
        archived = archived or row.family.archived_at is not None
    if isinstance(row, Staff):
        archived = archived or not row.active
    if not archived:
        return None
    return REFUSALS.get(getattr(row, "__tablename__", ""), ARCHIVED_ROW)


def refuse_for_new_work(row: object, field: str | None = None) -> None:
    """Raise the Russian refusal (next to `field`) if `row` may not be chosen for new work."""
    message = new_work_refusal(row)
    if message is not None:
        raise WorkflowError(message, field)
