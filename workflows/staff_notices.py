"""Notices to staff in the panel (the bell in the navbar): tasks newly assigned to me and
my tasks that have become overdue since I last marked the notices read; answers to my
referrals, council decisions that name me and overdue referral answers of my cases.

The task notices are not stored: they come from the task tables and one moment on the
account (`notices_read_at`), so a task closed meanwhile is no notice any more. The other
three are events of a moment, kept as `StaffNotice` rows (`notify_staff`, once per
event: the source key is unique) and read the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Message, Staff, StaffNotice, Task, TaskAssignment, User
from models.base import utcnow
from models.cases import OPEN_TASK_STATUSES

from .dates import centre_zone
from .errors import WorkflowError
from .notify import About, notify

LIMIT = 20  # of each kind in the bell
# Without a first reading, assignments this recent are news.
FIRST_LOOK = dt.timedelta(days=14)


@dataclass(frozen=True)
class Notice:
    kind: str  # "assigned", "overdue", or a stored notice's kind (NOTICE_KIND)
    task_id: int | None
    title: str
    due_date: dt.date | None
    referral_id: int | None = None
    meeting_id: int | None = None

    @property
    def text(self) -> str:
        if self.kind == "assigned":
            return f"Вам назначена задача: {self.title}"
        if self.kind == "overdue" and self.due_date is not None:
            return f"Просрочена задача (срок {self.due_date:%d.%m.%Y}): {self.title}"
        return self.title


def notify_staff(
    session: Session,
    staff_id: int | None,
    kind: str,
    text: str,
    source_key: str,
    *,
    referral_id: int | None = None,
    meeting_id: int | None = None,
) -> StaffNotice | None:
    """One notice of one event to one staff member; the same event again (a second tick,
    another server) makes none."""
    if staff_id is None:
        return None
    if session.scalar(select(StaffNotice.id).where(StaffNotice.source_key == source_key)):
        return None
    notice = StaffNotice(
        staff_id=staff_id,
        kind=kind,
        text=text[:500],
        source_key=source_key,
        referral_id=referral_id,
        meeting_id=meeting_id,
    )
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        return None  # made a moment ago by another server
    return notice


def _since(user: User) -> tuple[dt.datetime | None, dt.datetime]:
    read_at = user.notices_read_at
    if read_at is not None and read_at.tzinfo is None:  # SQLite keeps no zone
        read_at = read_at.replace(tzinfo=dt.UTC)
    return read_at, read_at or utcnow() - FIRST_LOOK


def stored_notices(
    session: Session, staff_id: int, since: dt.datetime, limit: int = LIMIT
) -> list[Notice]:
    """The stored notices of a staff member made after `since`, newest first."""
    rows = session.scalars(
        select(StaffNotice)
        .where(StaffNotice.staff_id == staff_id, StaffNotice.created_at > since)
        .order_by(StaffNotice.created_at.desc(), StaffNotice.id.desc())
        .limit(limit)
    ).all()
    return [Notice(row.kind, None, row.text, None, row.referral_id, row.meeting_id) for row in rows]


def notices_of(session: Session, user: User, today: dt.date) -> list[Notice]:
    """The user's unread notices, the newest assignments first, then the overdue tasks."""
    if user.staff_id is None:
        return []
    read_at, since = _since(user)
    mine_open = (Task.assignee_id == user.staff_id, Task.status.in_(OPEN_TASK_STATUSES))
    assigned = session.execute(
        select(Task.id, Task.title, Task.due_date)
        .join(TaskAssignment, TaskAssignment.task_id == Task.id)
        .where(
            *mine_open,
            TaskAssignment.staff_id == user.staff_id,
            TaskAssignment.assigned_at > since,
            # A task one took oneself is no news.
            or_(TaskAssignment.assigned_by_id.is_(None), TaskAssignment.assigned_by_id != user.id),
        )
        .order_by(TaskAssignment.assigned_at.desc())
        .limit(LIMIT)
    ).all()
    # A task becomes overdue the day after its due date: news if that day came after the
    # last reading.
    read_on = read_at.astimezone(centre_zone()).date() if read_at is not None else None
    overdue_query = select(Task.id, Task.title, Task.due_date).where(
        *mine_open, Task.due_date < today
    )
    if read_on is not None:
        overdue_query = overdue_query.where(Task.due_date >= read_on)
    overdue = session.execute(overdue_query.order_by(Task.due_date, Task.id).limit(LIMIT)).all()
    seen: set[int] = set()
    notices = []
    for task_id, title, due in assigned:
        if task_id not in seen:
            seen.add(task_id)
            notices.append(Notice("assigned", task_id, title, due))
    notices += [Notice("overdue", task_id, title, due) for task_id, title, due in overdue]
    return stored_notices(session, user.staff_id, since) + notices


def mark_read(session: Session, user: User, now: dt.datetime | None = None) -> None:
    """Every notice shown so far is read."""
    user.notices_read_at = now or utcnow()
    session.flush()


# --- the daily e-mail digest ------------------------------------------------------------------

DIGEST_WORDS = {
    "assigned": "назначено задач",
    "overdue": "просрочено задач",
    "referral_answer": "ответов на ваши направления",
    "council_decision": "решений совета с вашим участием",
    "referral_overdue": "направлений без ответа в срок",
}


def digest_counts(session: Session, user: User, today: dt.date) -> dict[str, int]:
    """How many notices of each kind are new since the user's last digest (or, before the
    first, since the day before): what the digest of `today` would tell."""
    assert user.staff_id is not None
    last = session.scalar(
        select(func.max(Message.created_at)).where(
            Message.user_id == user.id,
            Message.event_kind == "staff_digest",
            Message.event_on < today,
        )
    )
    if last is not None and last.tzinfo is None:  # SQLite keeps no zone
        last = last.replace(tzinfo=dt.UTC)
    start = dt.datetime.combine(today - dt.timedelta(days=1), dt.time.min, tzinfo=centre_zone())
    since = last or start
    counts = dict.fromkeys(DIGEST_WORDS, 0)
    mine_open = (Task.assignee_id == user.staff_id, Task.status.in_(OPEN_TASK_STATUSES))
    counts["assigned"] = (
        session.scalar(
            select(func.count(func.distinct(Task.id)))
            .join(TaskAssignment, TaskAssignment.task_id == Task.id)
            .where(
                *mine_open,
                TaskAssignment.staff_id == user.staff_id,
                TaskAssignment.assigned_at > since,
                or_(
                    TaskAssignment.assigned_by_id.is_(None),
                    TaskAssignment.assigned_by_id != user.id,
                ),
            )
        )
        or 0
    )
    # A task became overdue the day after its due date: news if that day is since then.
    since_day = since.astimezone(centre_zone()).date()
    counts["overdue"] = (
        session.scalar(
            select(func.count()).where(
                *mine_open, Task.due_date < today, Task.due_date >= since_day - dt.timedelta(days=1)
            )
        )
        or 0
    )
    for kind, number in session.execute(
        select(StaffNotice.kind, func.count())
        .where(StaffNotice.staff_id == user.staff_id, StaffNotice.created_at > since)
        .group_by(StaffNotice.kind)
    ):
        counts[kind] = int(number)
    return counts


def send_digests(session: Session, today: dt.date) -> int:
    """The tick's job: one e-mail a day to each member of staff who asked for the digest
    and has an e-mail address, only when something is new; it goes through the outbox
    (workflows/delivery.py delivers it). Idempotent: one message per person and day."""
    users = session.scalars(
        select(User)
        .join(Staff, Staff.id == User.staff_id)
        .where(
            User.active.is_(True),
            Staff.notice_digest.is_(True),
            Staff.archived_at.is_(None),
            Staff.email.is_not(None),
        )
        .order_by(User.id)
    ).all()
    made = 0
    for user in users:
        about = About("staff_digest", user.id, today)
        if session.scalar(
            select(Message.id).where(
                Message.user_id == user.id,
                Message.event_kind == "staff_digest",
                Message.event_on == today,
            )
        ):
            continue
        counts = digest_counts(session, user, today)
        if not any(counts.values()):
            continue
        lines = "\n".join(
            f"— {DIGEST_WORDS[kind]}: {number}" for kind, number in counts.items() if number
        )
        if notify(session, about, user, {"дата": f"{today:%d.%m.%Y}", "сводка": lines}, today):
            made += 1
    return made


def set_digest(session: Session, user: User, wanted: bool) -> None:
    """The user's own choice: the daily digest by e-mail, or none."""
    if user.staff is None:
        raise WorkflowError("Сводка приходит сотрудникам: у учётной записи нет карточки.")
    if wanted and not (user.staff.email or "").strip():
        raise WorkflowError(
            "Чтобы получать сводку, в карточке сотрудника нужен адрес эл. почты: "
            "попросите администратора его указать."
        )
    user.staff.notice_digest = wanted
    session.flush()
