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
from functools import cache

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    bindparam,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Executable

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


def _no_id() -> ColumnElement[int]:
    """A column of NULLs for a part without that id; a new one each time (one column
    object twice in a SELECT is one column)."""
    return literal(None, Integer)


@cache
def _bell(since_reading: bool) -> Executable:
    """The bell's query, built once (it runs on every page): the stored notices, the
    assignments and the overdue tasks of :staff since :since, each part in its own order
    and limit; `since_reading` adds «overdue only from the day of the last reading»."""
    staff, user = bindparam("staff", type_=Integer), bindparam("user", type_=Integer)
    since = bindparam("since", type_=DateTime(timezone=True))
    mine_open = (Task.assignee_id == staff, Task.status.in_(OPEN_TASK_STATUSES))
    stored = (
        select(
            literal("stored").label("part"),
            type_coerce(StaffNotice.kind, String).label("kind"),  # the task parts' kinds too
            _no_id().label("task_id"),
            StaffNotice.text.label("title"),
            literal(None, Date).label("due_date"),
            StaffNotice.referral_id,
            StaffNotice.meeting_id,
            StaffNotice.created_at.label("at"),
            StaffNotice.id.label("tie"),
        )
        .where(StaffNotice.staff_id == staff, StaffNotice.created_at > since)
        .order_by(StaffNotice.created_at.desc(), StaffNotice.id.desc())
        .limit(LIMIT)
    )
    assigned = (
        select(
            literal("assigned"),
            literal("assigned"),
            Task.id,
            Task.title,
            Task.due_date,
            _no_id(),
            _no_id(),
            TaskAssignment.assigned_at,
            TaskAssignment.id,
        )
        .join(TaskAssignment, TaskAssignment.task_id == Task.id)
        .where(
            *mine_open,
            TaskAssignment.staff_id == staff,
            TaskAssignment.assigned_at > since,
            # A task one took oneself is no news.
            or_(TaskAssignment.assigned_by_id.is_(None), TaskAssignment.assigned_by_id != user),
        )
        .order_by(TaskAssignment.assigned_at.desc(), TaskAssignment.id.desc())
        .limit(LIMIT)
    )
    overdue = select(
        literal("overdue"),
        literal("overdue"),
        Task.id,
        Task.title,
        Task.due_date,
        _no_id(),
        _no_id(),
        literal(None, DateTime(timezone=True)),
        Task.id,
    ).where(*mine_open, Task.due_date < bindparam("today", type_=Date))
    if since_reading:
        overdue = overdue.where(Task.due_date >= bindparam("read_on", type_=Date))
    overdue = overdue.order_by(Task.due_date, Task.id).limit(LIMIT)
    return union_all(*(part.subquery().select() for part in (stored, assigned, overdue)))


def notices_of(session: Session, user: User, today: dt.date) -> list[Notice]:
    """The user's unread notices: the stored ones newest first, then the newest
    assignments, then the overdue tasks — one query, as the bell is on every page."""
    if user.staff_id is None:
        return []
    read_at, since = _since(user)
    # A task becomes overdue the day after its due date: news if that day came after the
    # last reading.
    read_on = read_at.astimezone(centre_zone()).date() if read_at is not None else None
    params = {"staff": user.staff_id, "user": user.id, "since": since, "today": today}
    if read_on is not None:
        params["read_on"] = read_on
    rows = session.execute(_bell(read_on is not None), params).all()
    # Each part in its own order (a compound query keeps none of its parts').
    order = {
        "stored": lambda r: (-_timestamp(r.at), -r.tie),
        "assigned": lambda r: (-_timestamp(r.at), -r.tie),
        "overdue": lambda r: (r.due_date, r.tie),
    }
    notices: list[Notice] = []
    seen: set[int] = set()
    for part in ("stored", "assigned", "overdue"):
        for r in sorted((r for r in rows if r.part == part), key=order[part]):
            if part == "assigned":
                if r.task_id in seen:
                    continue
                seen.add(r.task_id)
            notices.append(
                Notice(r.kind, r.task_id, r.title, r.due_date, r.referral_id, r.meeting_id)
            )
    return notices


def _timestamp(moment: dt.datetime) -> float:
    # SQLite hands back naive datetimes; they were written in UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


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
