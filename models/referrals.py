"""Outgoing referrals (направление, межведомственный запрос) of a case to a partner.

Statuses go `prepared → sent → accepted → fulfilled`, with `refused` (from sent or
accepted) and `no_answer` (sent, its answer due date passed) as the other ends; every
change is a function of workflows/referrals.py, and the database holds the order of
the dates, what each status needs and one open referral per case, partner and service.

A referral for a medical reason (REFERRAL_HEALTH_REASONS: a clinic, the МСЭ bureau,
the ПМПК) is health data: its reason and its answer are kept in the health columns
(`health_reason`, `health_answer`), which every list, detail, export, form and the
audit trail hide from a role that does not read health data; a referral for any
other reason keeps them in `reason` and `answer`. A CHECK holds which is used.
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
    Text,
    text,
)
from sqlalchemy.orm import Mapped, relationship

from .base import ArchivedMixin, Choices, CreatedMixin, Model, VersionedMixin, column

if TYPE_CHECKING:
    from .cases import Case
    from .reference import Partner, PartnerContact, Service, Staff

REFERRAL_STATUS = Choices(
    "referral_status",
    {
        "prepared": "подготовлено",
        "sent": "отправлено",
        "accepted": "принято",
        "fulfilled": "исполнено",
        "refused": "отказано",
        "no_answer": "нет ответа",
    },
)
OPEN_REFERRAL_STATUSES = ("prepared", "sent", "accepted")
FINAL_REFERRAL_STATUSES = ("fulfilled", "refused", "no_answer")

REFERRAL_REASON = Choices(
    "referral_reason",
    {
        "medical": "медицинская помощь, сопровождение в медицинскую организацию",
        "mse": "медико-социальная экспертиза (МСЭ)",
        "pmpk": "психолого-медико-педагогическая комиссия (ПМПК)",
        "education": "обучение и развитие ребёнка",
        "social": "меры социальной поддержки",
        "legal": "правовая помощь",
        "safety": "безопасность семьи и ребёнка",
        "leisure": "досуг и социокультурная реабилитация",
        "other": "другое",
    },
)
# Reasons that tell of a family member's health: their texts are health data.
REFERRAL_HEALTH_REASONS = ("medical", "mse", "pmpk")

_OPEN_ROWS = "status IN ('prepared', 'sent', 'accepted') AND archived_at IS NULL"
_HEALTH = "reason_kind IN ('medical', 'mse', 'pmpk')"


class Referral(ArchivedMixin, VersionedMixin, CreatedMixin, Model):
    """One referral of a case's family to a partner institution, and its answer."""

    __tablename__ = "referral"
    __table_args__ = (
        # The contact person is one of the partner's own (NULL: the institution itself).
        ForeignKeyConstraint(
            ["contact_id", "partner_id"],
            ["partner_contact.id", "partner_contact.partner_id"],
            name="fk_referral_contact_of_partner",
            ondelete="RESTRICT",
        ),
        CheckConstraint("sent_on IS NULL OR sent_on >= prepared_on", name="sent_order"),
        CheckConstraint("answer_due IS NULL OR answer_due >= sent_on", name="due_order"),
        CheckConstraint("accepted_on IS NULL OR accepted_on >= sent_on", name="accepted_order"),
        CheckConstraint("answered_on IS NULL OR answered_on >= sent_on", name="answered_order"),
        CheckConstraint(
            "answered_on IS NULL OR accepted_on IS NULL OR answered_on >= accepted_on",
            name="answered_after_accepted",
        ),
        # Everything but a draft was sent, with the date its answer is due.
        CheckConstraint(
            "status = 'prepared' OR (sent_on IS NOT NULL AND answer_due IS NOT NULL)",
            name="sent_complete",
        ),
        CheckConstraint(
            "status NOT IN ('accepted', 'fulfilled') OR accepted_on IS NOT NULL",
            name="accepted_complete",
        ),
        # An answer (fulfilled or refused) has its date and its text; no other status has.
        CheckConstraint(
            "(status IN ('fulfilled', 'refused')) = (answered_on IS NOT NULL)",
            name="answered_when_final",
        ),
        CheckConstraint(
            "status NOT IN ('fulfilled', 'refused') "
            "OR answer IS NOT NULL OR health_answer IS NOT NULL",
            name="answer_given",
        ),
        # The reason and the answer of a medical referral are in the health columns only.
        CheckConstraint(
            f"CASE WHEN {_HEALTH} THEN reason IS NULL AND answer IS NULL "
            "AND health_reason IS NOT NULL "
            "ELSE health_reason IS NULL AND health_answer IS NULL AND reason IS NOT NULL END",
            name="health_texts",
        ),
        # One open referral per case, partner and service.
        Index(
            "uq_referral_open_case_partner_service",
            "case_id",
            "partner_id",
            "service_id",
            unique=True,
            sqlite_where=text(_OPEN_ROWS),
            postgresql_where=text(_OPEN_ROWS),
        ),
        # The tick looks for sent referrals whose answer is overdue.
        Index(
            "ix_referral_sent_due",
            "answer_due",
            sqlite_where=text("status = 'sent'"),
            postgresql_where=text("status = 'sent'"),
        ),
        Index("ix_referral_partner_sent", "partner_id", "sent_on"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    case_id: Mapped[int] = column(
        ForeignKey("support_case.id", ondelete="RESTRICT"), label="Случай", index=True
    )
    partner_id: Mapped[int] = column(ForeignKey("partner.id", ondelete="RESTRICT"), label="Партнёр")
    contact_id: Mapped[int | None] = column(Integer, label="Контактное лицо", index=True)
    service_id: Mapped[int] = column(
        ForeignKey("service.id", ondelete="RESTRICT"), label="Услуга", index=True
    )
    reason_kind: Mapped[str] = REFERRAL_REASON.column(label="Основание")
    reason: Mapped[str | None] = column(Text, label="Причина направления")
    health_reason: Mapped[str | None] = column(
        Text, label="Причина направления (медицинские сведения)", info={"health": True}
    )
    status: Mapped[str] = REFERRAL_STATUS.column(label="Статус", default="prepared", index=True)
    prepared_on: Mapped[dt.date] = column(Date, label="Подготовлено")
    sent_on: Mapped[dt.date | None] = column(Date, label="Дата отправки")
    answer_due: Mapped[dt.date | None] = column(Date, label="Ответ ожидается до")
    accepted_on: Mapped[dt.date | None] = column(Date, label="Принято партнёром")
    answered_on: Mapped[dt.date | None] = column(Date, label="Дата ответа")
    answer: Mapped[str | None] = column(Text, label="Ответ и результат")
    health_answer: Mapped[str | None] = column(
        Text, label="Ответ и результат (медицинские сведения)", info={"health": True}
    )
    handled_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Кто ведёт", index=True
    )
    # Who prepared it: told of the partner's answer (workflows/staff_notices.py).
    prepared_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Кто подготовил", index=True
    )

    case: Mapped[Case] = relationship(back_populates="referrals", info={"label": "Случай"})
    partner: Mapped[Partner] = relationship(info={"label": "Партнёр"})
    contact: Mapped[PartnerContact | None] = relationship(
        primaryjoin="and_(Referral.contact_id == PartnerContact.id, "
        "Referral.partner_id == PartnerContact.partner_id)",
        foreign_keys="[Referral.contact_id, Referral.partner_id]",
        viewonly=True,
        info={"label": "Контактное лицо"},
    )
    service: Mapped[Service] = relationship(info={"label": "Услуга"})
    handled_by: Mapped[Staff | None] = relationship(
        foreign_keys=[handled_by_id], info={"label": "Кто ведёт"}
    )
    prepared_by: Mapped[Staff | None] = relationship(
        foreign_keys=[prepared_by_id], info={"label": "Кто подготовил"}
    )

    @property
    def is_health(self) -> bool:
        return self.reason_kind in REFERRAL_HEALTH_REASONS

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFERRAL_STATUSES

    def is_overdue(self, today: dt.date) -> bool:
        """Sent, and its answer is late: a fact of the dates."""
        return self.status == "sent" and self.answer_due is not None and self.answer_due < today

    def __str__(self) -> str:
        # Named in headings, pickers and flashes for every role with the row: no reason.
        number = f" № {self.id}" if self.id is not None else ""
        when = f" от {self.prepared_on:%d.%m.%Y}" if self.prepared_on is not None else ""
        return f"Направление{number}{when}"
