"""The coordination council's work: the cases on a meeting's agenda and its decisions.

A meeting (CouncilMeeting, models/reference.py) discusses cases of its district
(`CouncilAgendaItem`, one row per case); each decision (`CouncilDecision`) is about one
case of the agenda (a foreign key on the pair) and names who does what by when: a staff
member — it becomes a task (`task_id`) — or a partner and optionally its contact person —
it becomes an outgoing referral (`referral_id`). A CHECK holds that each decision has
exactly the executor and the work of its kind. Whether a decision was carried out is a
fact of its task (done) or its referral (fulfilled), never a flag to keep in step.

Staff notices (`StaffNotice`) are the bell's events that no table holds as a moment:
an answer to my referral, a council decision naming me, an overdue referral answer.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, relationship

from .base import Choices, CreatedMixin, Model, column

if TYPE_CHECKING:
    from .cases import Case, Task
    from .reference import CouncilMeeting, Partner, PartnerContact, Staff
    from .referrals import Referral

DECISION_EXECUTOR = Choices(
    "decision_executor", {"staff": "сотрудник Учреждения", "partner": "партнёр"}
)

DECISION_STATE = Choices(
    "decision_state",
    {"open": "выполняется", "done": "исполнено", "failed": "не исполнено"},
)

NOTICE_KIND = Choices(
    "notice_kind",
    {
        "referral_answer": "ответ на направление",
        "council_decision": "решение координационного совета",
        "referral_overdue": "нет ответа на направление",
    },
)


class CouncilAgendaItem(Model):
    """A case discussed at a meeting."""

    __tablename__ = "council_agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    meeting_id: Mapped[int] = column(
        ForeignKey("council_meeting.id", ondelete="RESTRICT"), label="Заседание"
    )
    case_id: Mapped[int] = column(
        ForeignKey("support_case.id", ondelete="RESTRICT"), label="Случай", index=True
    )
    note: Mapped[str | None] = column(Text, label="Вопрос")

    meeting: Mapped[CouncilMeeting] = relationship(info={"label": "Заседание"})
    case: Mapped[Case] = relationship(info={"label": "Случай"})

    def __str__(self) -> str:
        return f"Случай № {self.case_id}"


class CouncilDecision(CreatedMixin, Model):
    """A decision of a meeting about a case of its agenda: who does what by when."""

    __tablename__ = "council_decision"
    __table_args__ = (
        # A decision is about a case the meeting discussed.
        ForeignKeyConstraint(
            ["meeting_id", "case_id"],
            ["council_agenda_item.meeting_id", "council_agenda_item.case_id"],
            name="fk_council_decision_agenda_case",
            ondelete="RESTRICT",
        ),
        # The contact person is one of the partner's own.
        ForeignKeyConstraint(
            ["contact_id", "partner_id"],
            ["partner_contact.id", "partner_contact.partner_id"],
            name="fk_council_decision_contact_of_partner",
            ondelete="RESTRICT",
        ),
        # A staff member's decision is a task; a partner's is a referral.
        CheckConstraint(
            "(executor = 'staff' AND staff_id IS NOT NULL AND task_id IS NOT NULL "
            "AND partner_id IS NULL AND contact_id IS NULL AND referral_id IS NULL) OR "
            "(executor = 'partner' AND partner_id IS NOT NULL AND referral_id IS NOT NULL "
            "AND staff_id IS NULL AND task_id IS NULL)",
            name="executor_work",
        ),
        Index("ix_council_decision_meeting_id", "meeting_id"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    meeting_id: Mapped[int] = column(
        ForeignKey("council_meeting.id", ondelete="RESTRICT"), label="Заседание"
    )
    case_id: Mapped[int] = column(Integer, label="Случай", index=True)
    what: Mapped[str] = column(Text, label="Что сделать")
    due_on: Mapped[dt.date] = column(Date, label="Срок")
    executor: Mapped[str] = DECISION_EXECUTOR.column(label="Исполнитель")
    staff_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Сотрудник", index=True
    )
    partner_id: Mapped[int | None] = column(
        ForeignKey("partner.id", ondelete="RESTRICT"), label="Партнёр", index=True
    )
    contact_id: Mapped[int | None] = column(Integer, label="Контактное лицо", index=True)
    task_id: Mapped[int | None] = column(
        ForeignKey("task.id", ondelete="RESTRICT"), label="Задача", unique=True
    )
    referral_id: Mapped[int | None] = column(
        ForeignKey("referral.id", ondelete="RESTRICT"), label="Направление", unique=True
    )

    meeting: Mapped[CouncilMeeting] = relationship(info={"label": "Заседание"})
    staff: Mapped[Staff | None] = relationship(info={"label": "Сотрудник"})
    partner: Mapped[Partner | None] = relationship(info={"label": "Партнёр"})
    contact: Mapped[PartnerContact | None] = relationship(
        primaryjoin="and_(CouncilDecision.contact_id == PartnerContact.id, "
        "CouncilDecision.partner_id == PartnerContact.partner_id)",
        foreign_keys="[CouncilDecision.contact_id, CouncilDecision.partner_id]",
        viewonly=True,
        info={"label": "Контактное лицо"},
    )
    task: Mapped[Task | None] = relationship(info={"label": "Задача"})
    referral: Mapped[Referral | None] = relationship(info={"label": "Направление"})

    @property
    def state(self) -> str:
        """Carried out (the task done, the referral fulfilled), failed, or still open."""
        if self.task is not None:
            return {"done": "done", "cancelled": "failed"}.get(self.task.status, "open")
        if self.referral is not None:
            if self.referral.archived_at is not None:
                return "failed"
            return {"fulfilled": "done", "refused": "failed", "no_answer": "failed"}.get(
                self.referral.status, "open"
            )
        return "open"

    @property
    def executor_name(self) -> str:
        if self.staff is not None:
            return self.staff.full_name
        if self.partner is None:
            return ""
        if self.contact is not None:
            return f"{self.partner.name} ({self.contact})"
        return self.partner.name

    def __str__(self) -> str:
        return f"Решение № {self.id}" if self.id is not None else "Решение"


class StaffNotice(CreatedMixin, Model):
    """One event for the bell of one staff member; read once the account's
    `notices_read_at` is past its moment. `source_key` makes an event's notice once."""

    __tablename__ = "staff_notice"
    __table_args__ = (Index("ix_staff_notice_staff_created", "staff_id", "created_at"),)

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    staff_id: Mapped[int] = column(ForeignKey("staff.id", ondelete="RESTRICT"), label="Сотрудник")
    kind: Mapped[str] = NOTICE_KIND.column(label="Вид")
    text: Mapped[str] = column(String(500), label="Текст")
    # Where the bell leads: a referral's case page or a meeting's page.
    referral_id: Mapped[int | None] = column(
        ForeignKey("referral.id", ondelete="RESTRICT"), label="Направление", index=True
    )
    meeting_id: Mapped[int | None] = column(
        ForeignKey("council_meeting.id", ondelete="RESTRICT"), label="Заседание", index=True
    )
    source_key: Mapped[str] = column(String(64), label="Событие", unique=True)

    def __str__(self) -> str:
        return self.text
