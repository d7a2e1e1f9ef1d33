"""The scheduler: one idempotent command (`flask --app app tick`) runs every time-driven job.

Each job is `job(session, today) -> int` (how many rows it made or changed) and
must be idempotent: running it twice on the same day does nothing the second
time. The whole tick runs in one transaction; on PostgreSQL it first takes a
transaction-level advisory lock, so when two servers run it at once the second
waits for the first to commit and then finds nothing left to do. Unique keys
(Task.source_key, one open review per case) hold even without the lock.

Overdue tasks need no job: «overdue» is computed from the dates on every page.
Each job is listed once in JOBS (a label and the function).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from models import Case, Task
from models.terms import CASE_END_NOTICE_DAYS

from .drafts import discard_expired_drafts
from .notify import (
    give_up_past_events,
    remind_appointments_eve,
    remind_loans_due,
    remind_overdue_loans,
)
from .referrals import task_overdue_referrals
from .rehab import remind_ipra_ending, remind_mse_reviews, task_ipra_ending, task_mse_reviews
from .rental import expire_offers, task_overdue_loans
from .reviews import missed_reviews, schedule_reviews
from .staff_notices import send_digests
from .tasks import create_task

Job = Callable[[Session, dt.date], int]
# Any constant the application owns; «opora tick» in ASCII.
TICK_LOCK_KEY = 0x6F706F7261_7469


def term_task_key(case_id: int) -> str:
    return f"term:{case_id}"


def cases_reaching_term(session: Session, today: dt.date) -> int:
    """A case whose support term ends within CASE_END_NOTICE_DAYS (or has ended) gets a
    task for its lead worker: sum up the results and close the case."""
    horizon = today + dt.timedelta(days=CASE_END_NOTICE_DAYS)
    cases = session.scalars(
        select(Case)
        .where(
            Case.status == "active",
            Case.archived_at.is_(None),  # read-only: the closed-case guard refuses it
            Case.planned_end_date.is_not(None),
            Case.planned_end_date <= horizon,
            ~exists().where(Task.source_key == literal("term:") + cast(Case.id, String)),
        )
        .order_by(Case.id)
    ).all()
    for case in cases:
        assert case.planned_end_date is not None  # the query asks for it
        create_task(
            session,
            family_id=case.family_id,
            case_id=case.id,
            title=(
                f"Срок сопровождения случая № {case.id} истекает "
                f"{case.planned_end_date:%d.%m.%Y}: подвести итоги и закрыть случай"
            ),
            role="district_worker",
            due_date=max(case.planned_end_date, today),
            today=today,
            source_key=term_task_key(case.id),
            prefer=case.lead_worker,
        )
    return len(cases)


# (what the job did, in Russian; the job).
JOBS: list[tuple[str, Job]] = [
    ("Запланирован очередной мониторинг случаев", schedule_reviews),
    ("Задачи по пропущенному мониторингу", missed_reviews),
    ("Задачи по окончанию срока сопровождения", cases_reaching_term),
    ("Непринятые предложения ТСР переданы следующим в очереди", expire_offers),
    ("Задачи по просроченным выдачам ТСР", task_overdue_loans),
    # Not a person's record: the user's own unsaved typing, deleted when its term ends.
    ("Удалены черновики форм, не восстановленные за сутки", discard_expired_drafts),
    ("Задачи по направлениям без ответа в срок", task_overdue_referrals),
    ("Напоминания семьям о приёме завтра", remind_appointments_eve),
    ("Напоминания семьям о скором сроке возврата ТСР", remind_loans_due),
    ("Сообщения семьям о просроченном возврате ТСР", remind_overdue_loans),
    ("Задачи по окончанию срока ИПРА", task_ipra_ending),
    ("Задачи по сроку переосвидетельствования (МСЭ)", task_mse_reviews),
    ("Сообщения семьям о скором окончании ИПРА", remind_ipra_ending),
    ("Сообщения семьям о сроке переосвидетельствования", remind_mse_reviews),
    ("Напоминания о прошедших днях сняты с отправки", give_up_past_events),
    # After every job that makes notices: the digest tells of today's too.
    ("Сводки уведомлений сотрудникам на почту", send_digests),
]


def run_tick(
    session: Session, today: dt.date, jobs: list[tuple[str, Job]] | None = None
) -> list[tuple[str, int]]:
    """Run every job for `today` in one transaction; returns (label, count) per job."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(TICK_LOCK_KEY)))
    results = []
    try:
        for label, job in jobs or JOBS:
            results.append((label, job(session, today)))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return results
