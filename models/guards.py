"""The closed-case guard: a closed or archived case and its records stay as they were.

One check that every write path passes — the plain tables, the workflow pages, the
CLI and the scheduler, a script on the session: before each flush, an insert, update
or delete of a case's records (its assessments, the ИПСС with its activities and
revisions, visits, tasks with their assignment history, reviews, referrals) is refused with a
`WorkflowError` when the case is closed or archived, and so is any change of such a
case itself except archiving and restoring it.

"Closed" and "archived" are what the database holds before the flush, so the flush
that closes a case may still carry the closure's own changes (its open tasks
cancelled), and the one that restores a case from the archive is a change of an
archived case that the guard lets through.

Writing a closed case's past as it was (the demo data, a test's setting) is not a
change of it: `recording_history(session)` says so explicitly, for one block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, UOWTransaction, scoped_session
from sqlalchemy.orm.base import NO_VALUE

from .base import Base
from .cases import (
    Assessment,
    Case,
    PlanActivity,
    PlanRevision,
    Review,
    SupportPlan,
    Task,
    TaskAssignment,
    Visit,
)
from .errors import WorkflowError
from .referrals import Referral

CLOSED = "Случай закрыт: изменить его нельзя."
ARCHIVED = "Случай в архиве: изменить его нельзя."

# A closed or archived case may still be archived and restored (the version follows).
CHANGES_OF_A_CLOSED_CASE = frozenset({"archived_at", "version"})
# Set in Session.info while `recording_history` runs.
_RECORDING_HISTORY = "opora.recording_history"

# Each kind of a case's records, and how to reach the case from it: a column naming
# the case, or a relationship to a record that names it.
_RECORD_CASE = {
    Assessment: ("case_id", "case"),
    SupportPlan: ("case_id", "case"),
    Visit: ("case_id", "case"),
    Review: ("case_id", "case"),
    Task: ("case_id", "case"),
    Referral: ("case_id", "case"),
    PlanActivity: ("plan_id", "plan"),
    PlanRevision: ("plan_id", "plan"),
    TaskAssignment: ("task_id", "task"),
}


def refusal(status: str | None, archived_at: dt.datetime | None) -> str | None:
    """Why a case in this state may not change (archived, or closed); None if it may."""
    if archived_at is not None:
        return ARCHIVED
    if status == "closed":
        return CLOSED
    return None


def case_refusal(case: Case) -> str | None:
    """Why `case`, as it now stands, may not change; None if it may."""
    return refusal(case.status, case.archived_at)


def _values(obj: Base, key: str) -> set[Any]:
    """The value of `key` now and, if this flush changes it, as stored before."""
    state = inspect(obj)
    values = {getattr(obj, key)}
    before = state.committed_state.get(key, NO_VALUE)
    if before is not NO_VALUE:
        values.add(before)
    return values


def _cases_of(obj: Base) -> set[int]:
    """Ids of the stored cases a record belongs to (now, and before this flush)."""
    column, relation = _RECORD_CASE[type(obj)]
    found = {v for v in _values(obj, column) if v is not None}
    if not found:
        parent = getattr(obj, relation)  # set, but its key is not there until the flush
        if parent is None:
            return set()
        if isinstance(parent, Case):
            return {parent.id} if parent.id is not None else set()
        return _cases_of(parent)
    if column == "case_id":
        return found
    parent_model = SupportPlan if column == "plan_id" else Task
    session = inspect(obj).session
    assert session is not None  # obj is being flushed, so it is in a session
    return {
        case
        for parent_id in found
        if (parent := session.get(parent_model, parent_id)) is not None
        for case in _cases_of(parent)
    }


def _stored(session: Session, case_ids: set[int]) -> dict[int, str]:
    """{case id: the refusal} for those of `case_ids` that are closed or archived as stored."""
    refused = {}
    unknown = set()
    for case_id in case_ids:
        case = session.identity_map.get(session.identity_key(Case, case_id))
        state = inspect(case) if case is not None else None
        keys = ("status", "archived_at")
        if state is None or state.expired_attributes & set(keys):
            unknown.add(case_id)
            continue
        stored = [state.committed_state.get(key, state.dict.get(key, NO_VALUE)) for key in keys]
        if NO_VALUE in stored:
            unknown.add(case_id)
            continue
        reason = refusal(*stored)
        if reason:
            refused[case_id] = reason
    if unknown:
        rows = session.execute(
            select(Case.id, Case.status, Case.archived_at).where(Case.id.in_(unknown))
        )
        for case_id, status, archived_at in rows:
            reason = refusal(status, archived_at)
            if reason:
                refused[case_id] = reason
    return refused


def _changed_columns(obj: Base) -> set[str]:
    state = inspect(obj)
    return {
        attr.key
        for attr in state.mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    }


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    if session.info.get(_RECORDING_HISTORY):
        return
    touched: set[int] = set()
    cases: set[int] = set()
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, Case):
                if obj in session.new:
                    continue
                if obj in session.deleted or _changed_columns(obj) - CHANGES_OF_A_CLOSED_CASE:
                    cases.add(obj.id)
            elif type(obj) in _RECORD_CASE:
                if obj in session.dirty and not session.is_modified(obj, include_collections=False):
                    continue
                touched |= _cases_of(obj)
        if not touched and not cases:
            return
        refused = _stored(session, touched | cases)
    if refused:
        raise WorkflowError(refused[min(refused)])


@contextmanager
def recording_history(session: Session | scoped_session[Any]) -> Iterator[None]:
    """Write the past of closed and archived cases as it was (demo data, a test's setting):
    inside this block only, flushes of `session` are not guarded."""
    before = session.info.get(_RECORDING_HISTORY, False)
    session.info[_RECORDING_HISTORY] = True
    try:
        yield
    finally:
        session.info[_RECORDING_HISTORY] = before


def install_closed_case_guard(session_class: type[Session]) -> None:
    """Refuse, at every flush through `session_class`, a change of a closed or archived case."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
