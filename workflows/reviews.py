"""Monitoring (мониторинг): a review of every active case at a set interval.

A case has at most one scheduled, not yet held review (a partial unique index
holds it). Holding it records plan progress, family feedback and effectiveness
and schedules the next one; a review whose date has passed unheld is «missed»
(a fact of the dates) and the scheduler turns it into a task for the lead worker.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from models import Case, Review, Task, User
from models.cases import EFFECTIVENESS
from models.terms import REVIEW_INTERVAL_MONTHS

from .dates import add_months
from .errors import WorkflowError
from .tasks import REVIEW_KEY_PREFIX, close_task_by_key, complete_step_tasks, create_task


def review_task_key(review_id: int) -> str:
    return f"{REVIEW_KEY_PREFIX}{review_id}"


def open_review(session: Session, case_id: int, lock: bool = False) -> Review | None:
    query = select(Review).where(Review.case_id == case_id, Review.held_on.is_(None))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def schedule_next_review(
    session: Session, case: Case, after: dt.date, interval: int = REVIEW_INTERVAL_MONTHS
) -> Review | None:
    """The next review `interval` months after `after`, if it falls within the support term."""
    if open_review(session, case.id) is not None:
        return None
    due = add_months(after, interval)
    if case.planned_end_date is not None and due > case.planned_end_date:
        return None
    review = Review(case=case, due_on=due)
    session.add(review)
    session.flush()
    return review


def hold_review(
    session: Session,
    case_id: int,
    actor: User,
    held_on: dt.date | None,
    plan_progress: str,
    family_feedback: str,
    effectiveness: str,
    today: dt.date,
    interval: int = REVIEW_INTERVAL_MONTHS,
) -> Review:
    """Record a held review (the scheduled one, or an extra one) and schedule the next."""
    case = session.get(Case, case_id)
    if case is None or case.status != "active":
        raise WorkflowError("Мониторинг проводится только по случаю на сопровождении.")
    if held_on is None:
        raise WorkflowError("Укажите дату мониторинга.", field="held_on")
    if held_on > today:
        raise WorkflowError("Дата мониторинга не может быть в будущем.", field="held_on")
    if case.start_date and held_on < case.start_date:
        raise WorkflowError("Мониторинг — не раньше начала сопровождения.", field="held_on")
    if not (plan_progress or "").strip():
        raise WorkflowError("Опишите, как выполняется ИПСС.", field="plan_progress")
    if effectiveness not in EFFECTIVENESS.codes:
        raise WorkflowError("Выберите оценку эффективности.", field="effectiveness")
    review = open_review(session, case_id, lock=True)
    if review is None:
        review = Review(case_id=case_id, due_on=held_on)
        session.add(review)
    review.held_on = held_on
    review.reviewer_id = actor.staff_id
    review.plan_progress = plan_progress.strip()
    review.family_feedback = (family_feedback or "").strip() or None
    review.effectiveness = effectiveness
    session.flush()
    held = f"Мониторинг проведён {held_on:%d.%m.%Y}."
    close_task_by_key(session, review_task_key(review.id), held)
    complete_step_tasks(session, "review", case.family_id, case.id, held)
    schedule_next_review(session, case, held_on, interval)
    return review


# --- scheduler jobs: job(session, today) -> how many rows it made ----------------------


def schedule_reviews(session: Session, today: dt.date) -> int:
    """Every active case (not archived) has its next review scheduled (after the last held
    one, or the start)."""
    last_held = select(func.max(Review.held_on)).where(Review.case_id == Case.id).scalar_subquery()
    rows = session.execute(
        select(Case, last_held)
        .where(
            Case.status == "active",
            Case.archived_at.is_(None),  # read-only: the closed-case guard refuses it
            Case.start_date.is_not(None),
            ~exists().where(Review.case_id == Case.id, Review.held_on.is_(None)),
        )
        .order_by(Case.id)
    ).all()
    made = 0
    for case, held in rows:
        assert case.start_date is not None  # the query asks for it
        if schedule_next_review(session, case, held or case.start_date) is not None:
            made += 1
    return made


def missed_reviews(session: Session, today: dt.date) -> int:
    """A scheduled review whose date has passed becomes a task for the case's lead worker."""
    missed = session.execute(
        select(Review, Case)
        .join(Case, Case.id == Review.case_id)
        .where(
            Case.status == "active",
            Case.archived_at.is_(None),
            Review.held_on.is_(None),
            Review.due_on < today,
            ~exists().where(
                Task.source_key == literal(REVIEW_KEY_PREFIX) + cast(Review.id, String)
            ),
        )
        .order_by(Review.id)
    ).all()
    for review, case in missed:
        create_task(
            session,
            family_id=case.family_id,
            case_id=case.id,
            title=f"Провести мониторинг случая № {case.id} (срок был {review.due_on:%d.%m.%Y})",
            role="district_worker",
            due_date=today,
            today=today,
            source_key=review_task_key(review.id),
            prefer=case.lead_worker,
        )
    return len(missed)
