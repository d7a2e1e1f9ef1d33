"""How families reach the centre besides coming themselves: a partner's incoming referral
and a social raid (рейд, seed 002 §2.1).

An incoming referral is a partner institution (and its contact person) telling the
centre of a family: who, when, why; it is received by the staff who do intake and
ends either with the family on the register (linked to it) or «не подтвердилось»
with the reason. A social raid is a visit of a district's territory by a team of
staff and partners' people; the families it finds start their intake from it. The
family itself records how it was identified (`Family.identified_by`) with its
partner or its raid, which the database holds (models/people.py).

Both follow the family's district scope (workflows/scope.py). The reason of a
referral may tell of a child's health, so it is a health column.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, relationship

from .base import ArchivedMixin, Choices, CreatedMixin, Model, VersionedMixin, column, db

if TYPE_CHECKING:
    from .people import Family
    from .reference import District, Partner, PartnerContact, Staff

INCOMING_STATUS = Choices(
    "incoming_status",
    {
        "received": "получено, семья не зарегистрирована",
        "taken": "семья зарегистрирована",
        "declined": "не подтвердилось",
    },
)

social_raid_staff = Table(
    "social_raid_staff",
    db.metadata,
    Column("raid_id", ForeignKey("social_raid.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff.id", ondelete="RESTRICT"), primary_key=True),
    Index("ix_social_raid_staff_staff_id", "staff_id"),
)

social_raid_contact = Table(
    "social_raid_contact",
    db.metadata,
    Column("raid_id", ForeignKey("social_raid.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("partner_contact.id", ondelete="RESTRICT"), primary_key=True),
    Index("ix_social_raid_contact_contact_id", "contact_id"),
)


class IncomingReferral(ArchivedMixin, VersionedMixin, CreatedMixin, Model):
    """A partner's referral of a family to the centre, and what intake made of it."""

    __tablename__ = "incoming_referral"
    __table_args__ = (
        # The contact person is one of the partner's own (NULL: the institution itself).
        ForeignKeyConstraint(
            ["contact_id", "partner_id"],
            ["partner_contact.id", "partner_contact.partner_id"],
            name="fk_incoming_referral_contact_of_partner",
            ondelete="RESTRICT",
        ),
        CheckConstraint("received_on >= referred_on", name="received_order"),
        CheckConstraint("decided_on IS NULL OR decided_on >= received_on", name="decided_order"),
        # Taken: the family it led to; declined: why; received: not decided yet.
        CheckConstraint("(status = 'taken') = (family_id IS NOT NULL)", name="taken_has_family"),
        CheckConstraint(
            "(status = 'declined') = (decline_reason IS NOT NULL)", name="declined_has_reason"
        ),
        CheckConstraint("(status = 'received') = (decided_on IS NULL)", name="decided_when_final"),
        Index("ix_incoming_referral_district_status", "district_id", "status"),
        Index("ix_incoming_referral_partner_received", "partner_id", "received_on"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    partner_id: Mapped[int] = column(ForeignKey("partner.id", ondelete="RESTRICT"), label="Партнёр")
    contact_id: Mapped[int | None] = column(Integer, label="Контактное лицо", index=True)
    district_id: Mapped[int] = column(
        ForeignKey("district.id", ondelete="RESTRICT"), label="Участок"
    )
    person_name: Mapped[str] = column(String(255), label="Кого направили (ФИО)")
    address: Mapped[str | None] = column(String(255), label="Адрес семьи")
    phone: Mapped[str | None] = column(String(32), label="Телефон семьи")
    referred_on: Mapped[dt.date] = column(Date, label="Дата направления")
    reason: Mapped[str] = column(Text, label="Причина направления", info={"health": True})
    received_on: Mapped[dt.date] = column(Date, label="Дата получения")
    received_by_id: Mapped[int] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Кто принял", index=True
    )
    status: Mapped[str] = INCOMING_STATUS.column(label="Статус", default="received")
    family_id: Mapped[int | None] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    decided_on: Mapped[dt.date | None] = column(Date, label="Дата решения")
    decline_reason: Mapped[str | None] = column(Text, label="Почему не подтвердилось")

    partner: Mapped[Partner] = relationship(info={"label": "Партнёр"})
    contact: Mapped[PartnerContact | None] = relationship(
        primaryjoin="and_(IncomingReferral.contact_id == PartnerContact.id, "
        "IncomingReferral.partner_id == PartnerContact.partner_id)",
        foreign_keys="[IncomingReferral.contact_id, IncomingReferral.partner_id]",
        viewonly=True,
        info={"label": "Контактное лицо"},
    )
    district: Mapped[District] = relationship(info={"label": "Участок"})
    received_by: Mapped[Staff] = relationship(info={"label": "Кто принял"})
    family: Mapped[Family | None] = relationship(
        back_populates="incoming_referrals", info={"label": "Семья"}
    )

    def __str__(self) -> str:
        # Named in headings and flashes for every role with the row: no reason.
        number = f" № {self.id}" if self.id is not None else ""
        when = f" от {self.referred_on:%d.%m.%Y}" if self.referred_on is not None else ""
        return f"Направление партнёра{number}{when}"


class SocialRaid(ArchivedMixin, VersionedMixin, CreatedMixin, Model):
    """A social raid (рейд) over a district's territory: its team and the families found."""

    __tablename__ = "social_raid"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    held_on: Mapped[dt.date] = column(Date, label="Дата рейда", index=True)
    district_id: Mapped[int] = column(
        ForeignKey("district.id", ondelete="RESTRICT"), label="Участок", index=True
    )
    area: Mapped[str] = column(String(255), label="Территория (улицы, дома)")
    notes: Mapped[str | None] = column(Text, label="Итоги рейда")
    recorded_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Кто записал", index=True
    )

    district: Mapped[District] = relationship(info={"label": "Участок"})
    recorded_by: Mapped[Staff | None] = relationship(info={"label": "Кто записал"})
    staff: Mapped[list[Staff]] = relationship(
        secondary=social_raid_staff, info={"label": "Сотрудники центра"}
    )
    contacts: Mapped[list[PartnerContact]] = relationship(
        secondary=social_raid_contact, info={"label": "Представители партнёров"}
    )
    families: Mapped[list[Family]] = relationship(
        back_populates="social_raid",
        passive_deletes="all",
        order_by="Family.surname",
        info={"label": "Выявленные семьи"},
    )

    def __str__(self) -> str:
        when = f" {self.held_on:%d.%m.%Y}" if self.held_on is not None else ""
        return f"Рейд{when}, {self.area}" if self.area else f"Рейд{when}"
