"""Events of the pilot (seed 002 §2.1, §3) and its budget (seed 003).

An event (models.reference.Event) is a training, an item of the information campaign,
a club evening, a holiday or an excursion. Who took part is kept beside it: staff and
volunteers at trainings (`event_staff`, `event_volunteer`), families and the children
of those families at clubs, holidays and excursions (EventAttendance: one row per
family, so its row scope is the family's). Volunteers are a register of their own.

The project's budget (ProjectMeasure) is the pilot's complex of measures with planned
and spent amounts per funding source: the project's own money, never a charge to a
family — the services stay free.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, relationship

from .base import ArchivedMixin, Choices, Model, VersionedMixin, column, db, full_name

if TYPE_CHECKING:
    from .people import Family, Person
    from .reference import Event, Partner

FUNDING_SOURCE = Choices(
    "funding_source",
    {
        "fund_grant": "грант Фонда поддержки детей",
        "regional_budget": "областной бюджет",
        "other": "другие источники",
    },
)

event_staff = Table(
    "event_staff",
    db.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff.id", ondelete="RESTRICT"), primary_key=True),
    Index("ix_event_staff_staff_id", "staff_id"),
)

event_volunteer = Table(
    "event_volunteer",
    db.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("volunteer_id", ForeignKey("volunteer.id", ondelete="RESTRICT"), primary_key=True),
    Index("ix_event_volunteer_volunteer_id", "volunteer_id"),
)

event_attendance_child = Table(
    "event_attendance_child",
    db.metadata,
    Column(
        "attendance_id", ForeignKey("event_attendance.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("person_id", ForeignKey("person.id", ondelete="RESTRICT"), primary_key=True),
    Index("ix_event_attendance_child_person_id", "person_id"),
)

_LIVE = "archived_at IS NULL"


class Volunteer(ArchivedMixin, VersionedMixin, Model):
    """A volunteer working with the families: a member of a volunteer group (a partner)."""

    __tablename__ = "volunteer"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    last_name: Mapped[str] = column(String(64), label="Фамилия", index=True)
    first_name: Mapped[str] = column(String(64), label="Имя")
    middle_name: Mapped[str | None] = column(String(64), label="Отчество")
    phone: Mapped[str | None] = column(String(32), label="Телефон")
    email: Mapped[str | None] = column(String(254), label="Эл. почта")
    group_id: Mapped[int | None] = column(
        ForeignKey("partner.id", ondelete="RESTRICT"), label="Волонтёрская группа", index=True
    )

    group: Mapped[Partner | None] = relationship(info={"label": "Волонтёрская группа"})
    # The trainings among the events the volunteer attended.
    trainings: Mapped[list[Event]] = relationship(
        secondary=event_volunteer,
        primaryjoin="Volunteer.id == event_volunteer.c.volunteer_id",
        secondaryjoin="and_(Event.id == event_volunteer.c.event_id, Event.kind == 'training')",
        viewonly=True,
        order_by="Event.held_on.desc()",
        info={"label": "Пройденное обучение"},
    )

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)

    def __str__(self) -> str:
        return self.full_name


class EventAttendance(ArchivedMixin, Model):
    """A family (and which of its children) at a club evening, a holiday or an excursion."""

    __tablename__ = "event_attendance"
    __table_args__ = (
        # One live row per event and family; a row archived in error is no obstacle.
        Index(
            "uq_event_attendance_event_id_family_id",
            "event_id",
            "family_id",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    event_id: Mapped[int] = column(
        ForeignKey("event.id", ondelete="RESTRICT"), label="Мероприятие", index=True
    )
    family_id: Mapped[int] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )

    event: Mapped[Event] = relationship(back_populates="attendances", info={"label": "Мероприятие"})
    family: Mapped[Family] = relationship(
        back_populates="event_attendances", info={"label": "Семья"}
    )
    children: Mapped[list[Person]] = relationship(
        secondary=event_attendance_child, info={"label": "Дети"}
    )

    def __str__(self) -> str:
        return f"{self.event}: {self.family}" if self.event_id else "Участие в мероприятии"


class ProjectMeasure(ArchivedMixin, VersionedMixin, Model):
    """A measure of the pilot's complex, its funding source and its planned and spent money."""

    __tablename__ = "project_measure"
    __table_args__ = (
        UniqueConstraint("name", "funding_source"),
        CheckConstraint("planned >= 0", name="planned_nonnegative"),
        CheckConstraint("spent >= 0", name="spent_nonnegative"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    name: Mapped[str] = column(String(255), label="Мероприятие комплекса")
    funding_source: Mapped[str] = FUNDING_SOURCE.column(label="Источник финансирования")
    planned: Mapped[Decimal] = column(Numeric(14, 2), label="Запланировано, ₽")
    spent: Mapped[Decimal] = column(
        Numeric(14, 2), label="Израсходовано, ₽", default=Decimal(0), nullable=False
    )
    notes: Mapped[str | None] = column(Text, label="Примечания")

    def __str__(self) -> str:
        return f"{self.name} ({FUNDING_SOURCE.label(self.funding_source)})"


__all__ = [
    "FUNDING_SOURCE",
    "EventAttendance",
    "ProjectMeasure",
    "Volunteer",
    "event_attendance_child",
    "event_staff",
    "event_volunteer",
]
