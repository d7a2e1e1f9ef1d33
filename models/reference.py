"""Reference data kept by the administrator: the centre's own structure and partners."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, relationship

from .accounts import ROLE
from .base import ArchivedMixin, Choices, Model, VersionedMixin, column, db, full_name
from .keys import key_column
from .terms import AGREEMENT_EXPIRY_WARNING_DAYS

if TYPE_CHECKING:
    # The models its relationships name, for the type checker only: at run time the
    # model modules import one another and SQLAlchemy resolves the names itself.
    from .accounts import User
    from .cases import Case
    from .events import EventAttendance, Volunteer
    from .people import Family, ProgrammeEnrolment

SERVICE_KIND = Choices(
    "service_kind",
    {
        "social": "социально-бытовая",
        "medical": "социально-медицинская",
        "psychological": "социально-психологическая",
        "pedagogical": "социально-педагогическая",
        "legal": "социально-правовая",
        "cultural": "социокультурная",
    },
)

PARTNER_KIND = Choices(
    "partner_kind",
    {
        "school": "образовательная организация",
        "clinic": "медицинская организация",
        "police": "полиция",
        "tos": "ТОС",
        "ngo": "некоммерческая организация",
        "mse": "бюро медико-социальной экспертизы",
        "pmpk": "ПМПК",
        "volunteers": "волонтёрская группа",
        "authority": "орган власти",
        "other": "другое",
    },
)

AGREEMENT_STATUS = Choices(
    "agreement_status",
    {"draft": "проект", "active": "действует", "terminated": "расторгнуто"},
)

EVENT_KIND = Choices(
    "event_kind",
    {
        "training": "обучение специалистов и волонтёров",
        "info_campaign": "информационная кампания",
        "club": "клубная встреча",
        "holiday": "праздник",
        "excursion": "экскурсия",
        "other": "другое",
    },
)

# Where an item of the information campaign (seed 002 §2.1) reaches the public.
CAMPAIGN_CHANNEL = Choices(
    "campaign_channel",
    {
        "booklet": "тематический буклет",
        "advertising": "социальная реклама",
        "media": "публикация в СМИ",
        "website": "рубрика на сайте Учреждения",
        "other": "другое",
    },
)
# Families and their children attend these; staff and volunteers attend trainings.
FAMILY_EVENT_KINDS = ("club", "holiday", "excursion", "other")

APPOINTMENT_CHANNEL = Choices("appointment_channel", {"in_person": "лично", "phone": "по телефону"})

staff_district = Table(
    "staff_district",
    db.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ForeignKey("district.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_staff_district_district_id", "district_id"),
)

council_meeting_staff = Table(
    "council_meeting_staff",
    db.metadata,
    Column(
        "meeting_id",
        ForeignKey("council_meeting.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
)

council_meeting_partner = Table(
    "council_meeting_partner",
    db.metadata,
    Column(
        "meeting_id",
        ForeignKey("council_meeting.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("partner_id", ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True),
)

# The partners' people at a meeting (the institutions above are kept for meetings
# recorded before contact persons existed).
council_meeting_contact = Table(
    "council_meeting_contact",
    db.metadata,
    Column(
        "meeting_id",
        ForeignKey("council_meeting.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "contact_id",
        ForeignKey("partner_contact.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Department(ArchivedMixin, Model):
    __tablename__ = "department"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    code: Mapped[str] = column(String(16), label="Код", unique=True)
    name: Mapped[str] = column(String(255), label="Наименование", unique=True)
    head_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="SET NULL", use_alter=True, name="fk_department_head"),
        label="Заведующий",
    )

    # post_update: a new staff member can be made head in the same save.
    head: Mapped[Staff | None] = relationship(
        foreign_keys=[head_id], post_update=True, info={"label": "Заведующий"}
    )
    staff: Mapped[list[Staff]] = relationship(
        passive_deletes="all",
        back_populates="department",
        foreign_keys="Staff.department_id",
        info={"label": "Сотрудники"},
    )

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class District(ArchivedMixin, Model):
    """A district (участок) served by one responsible district worker."""

    __tablename__ = "district"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    name: Mapped[str] = column(String(128), label="Участок", unique=True)
    territory: Mapped[str | None] = column(Text, label="Территория")
    responsible_worker_id: Mapped[int | None] = column(
        ForeignKey(
            "staff.id",
            ondelete="SET NULL",
            use_alter=True,
            name="fk_district_responsible_worker",
        ),
        label="Ответственный участковый",
    )

    responsible_worker: Mapped[Staff | None] = relationship(
        foreign_keys=[responsible_worker_id],
        post_update=True,
        info={"label": "Ответственный участковый"},
    )

    def __str__(self) -> str:
        return self.name


class Staff(ArchivedMixin, Model):
    """A member of staff or a partner specialist working by agreement."""

    __tablename__ = "staff"
    __table_args__ = (Index("ix_staff_role_active", "role", "active"),)

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    last_name: Mapped[str] = column(String(64), label="Фамилия", index=True)
    first_name: Mapped[str] = column(String(64), label="Имя")
    middle_name: Mapped[str | None] = column(String(64), label="Отчество")
    position: Mapped[str] = column(String(255), label="Должность")
    role: Mapped[str] = ROLE.column(label="Роль в сопровождении")
    department_id: Mapped[int | None] = column(
        ForeignKey("department.id", ondelete="RESTRICT"), label="Отделение", index=True
    )
    phone: Mapped[str | None] = column(String(32), label="Телефон")
    email: Mapped[str | None] = column(String(254), label="Эл. почта")
    # Opted in to the daily e-mail digest of the bell's notices (workflows/staff_notices.py).
    notice_digest: Mapped[bool] = column(
        Boolean,
        label="Сводка уведомлений на почту",
        default=False,
        server_default=false(),
        nullable=False,
    )
    active: Mapped[bool] = column(Boolean, label="Работает", default=True, nullable=False)

    department: Mapped[Department | None] = relationship(
        back_populates="staff", foreign_keys=[department_id], info={"label": "Отделение"}
    )
    districts: Mapped[list[District]] = relationship(
        secondary=staff_district, info={"label": "Участки"}
    )
    user: Mapped[User | None] = relationship(
        back_populates="staff", info={"label": "Учётная запись"}
    )

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)

    def __str__(self) -> str:
        return self.full_name


class Service(ArchivedMixin, Model):
    """A kind of help (вид помощи) from the centre's catalogue."""

    __tablename__ = "service"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    kind: Mapped[str] = SERVICE_KIND.column(label="Вид помощи", index=True)
    name: Mapped[str] = column(String(255), label="Наименование", unique=True)
    guaranteed: Mapped[bool] = column(
        Boolean, label="В гарантированном перечне", default=False, nullable=False
    )

    def __str__(self) -> str:
        return self.name


class Programme(ArchivedMixin, Model):
    """One of the centre's own technologies (домашнее визитирование, семейный клуб …)."""

    __tablename__ = "programme"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    name: Mapped[str] = column(String(255), label="Наименование", unique=True)
    description: Mapped[str | None] = column(Text, label="Описание")
    active: Mapped[bool] = column(Boolean, label="Действует", default=True, nullable=False)

    enrolments: Mapped[list[ProgrammeEnrolment]] = relationship(
        passive_deletes="all",
        back_populates="programme",
        info={"label": "Участники"},
    )

    def __str__(self) -> str:
        return self.name


class Partner(ArchivedMixin, Model):
    """An institution of the social infrastructure the centre works with."""

    __tablename__ = "partner"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    name: Mapped[str] = column(String(255), label="Наименование", unique=True)
    name_key: Mapped[str | None] = key_column("partner", "name_key")
    kind: Mapped[str] = PARTNER_KIND.column(label="Тип", index=True)
    address: Mapped[str | None] = column(String(255), label="Адрес")
    phone: Mapped[str | None] = column(String(32), label="Телефон")
    email: Mapped[str | None] = column(String(254), label="Эл. почта")

    agreements: Mapped[list[PartnerAgreement]] = relationship(
        passive_deletes="all", back_populates="partner", info={"label": "Соглашения"}
    )
    contacts: Mapped[list[PartnerContact]] = relationship(
        passive_deletes="all",
        back_populates="partner",
        order_by="PartnerContact.last_name",
        info={"label": "Контактные лица"},
    )

    def __str__(self) -> str:
        return self.name


class PartnerContact(ArchivedMixin, VersionedMixin, Model):
    """A contact person of a partner institution: takes part in councils, receives referrals.

    Reference data (no row scope); archived, never deleted, so the referrals addressed
    to a person who has left still name them.
    """

    __tablename__ = "partner_contact"
    # A referral names a contact *of its partner*: the pair is what its foreign key checks.
    __table_args__ = (UniqueConstraint("id", "partner_id"),)

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    partner_id: Mapped[int] = column(
        ForeignKey("partner.id", ondelete="RESTRICT"), label="Партнёр", index=True
    )
    last_name: Mapped[str] = column(String(64), label="Фамилия")
    first_name: Mapped[str] = column(String(64), label="Имя")
    middle_name: Mapped[str | None] = column(String(64), label="Отчество")
    position: Mapped[str] = column(String(255), label="Должность")
    phone: Mapped[str | None] = column(String(32), label="Телефон")
    email: Mapped[str | None] = column(String(254), label="Эл. почта")

    partner: Mapped[Partner] = relationship(back_populates="contacts", info={"label": "Партнёр"})

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)

    def __str__(self) -> str:
        return f"{self.full_name}, {self.position}" if self.position else self.full_name


class PartnerAgreement(ArchivedMixin, VersionedMixin, Model):
    """A cooperation agreement; flagged when it expires within AGREEMENT_EXPIRY_WARNING_DAYS."""

    __tablename__ = "partner_agreement"
    __table_args__ = (
        UniqueConstraint("partner_id", "number"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_order"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    partner_id: Mapped[int] = column(
        ForeignKey("partner.id", ondelete="RESTRICT"), label="Партнёр", index=True
    )
    number: Mapped[str] = column(String(64), label="Номер")
    signed_on: Mapped[dt.date] = column(Date, label="Дата заключения")
    valid_from: Mapped[dt.date] = column(Date, label="Действует с")
    valid_to: Mapped[dt.date | None] = column(Date, label="Действует по", index=True)
    subject: Mapped[str] = column(Text, label="Предмет")
    contact_person: Mapped[str | None] = column(String(255), label="Контактное лицо")
    status: Mapped[str] = AGREEMENT_STATUS.column(label="Статус", default="active", index=True)

    partner: Mapped[Partner] = relationship(back_populates="agreements", info={"label": "Партнёр"})

    def expires_soon(self, today: dt.date) -> bool:
        return (
            self.status == "active"
            and self.valid_to is not None
            and today <= self.valid_to <= today + dt.timedelta(days=AGREEMENT_EXPIRY_WARNING_DAYS)
        )

    def __str__(self) -> str:
        return f"№ {self.number} от {self.signed_on:%d.%m.%Y}"


class CouncilMeeting(ArchivedMixin, Model):
    """A meeting of a district's interdepartmental coordination council (seed 000): its
    participants (staff and partners' people), the cases on its agenda and its decisions
    (models/council.py). `decisions` is the free text of meetings recorded before
    decisions were rows; new meetings keep their decisions as CouncilDecision rows."""

    __tablename__ = "council_meeting"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    held_on: Mapped[dt.date] = column(Date, label="Дата", index=True)
    district_id: Mapped[int | None] = column(
        ForeignKey("district.id", ondelete="RESTRICT"), label="Участок", index=True
    )
    agenda: Mapped[str] = column(Text, label="Повестка")
    decisions: Mapped[str | None] = column(Text, label="Решения (текстом)")
    recorded_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Кто записал", index=True
    )

    district: Mapped[District | None] = relationship(info={"label": "Участок"})
    recorded_by: Mapped[Staff | None] = relationship(
        foreign_keys=[recorded_by_id], info={"label": "Кто записал"}
    )
    staff: Mapped[list[Staff]] = relationship(
        secondary=council_meeting_staff, info={"label": "Сотрудники"}
    )
    partners: Mapped[list[Partner]] = relationship(
        secondary=council_meeting_partner, info={"label": "Представители партнёров"}
    )
    contacts: Mapped[list[PartnerContact]] = relationship(
        secondary=council_meeting_contact, info={"label": "Контактные лица партнёров"}
    )

    def __str__(self) -> str:
        return f"Заседание {self.held_on:%d.%m.%Y}"


class Event(ArchivedMixin, Model):
    """A training, campaign item, club evening, holiday or excursion (models/events.py
    keeps who took part)."""

    __tablename__ = "event"
    __table_args__ = (
        # A campaign item says where it went out; nothing else has a channel.
        CheckConstraint(
            "(kind = 'info_campaign') = (channel IS NOT NULL)", name="campaign_has_channel"
        ),
        CheckConstraint(
            "kind = 'info_campaign' OR (print_run IS NULL AND reach IS NULL)",
            name="reach_of_campaign_only",
        ),
        CheckConstraint("print_run IS NULL OR print_run >= 0", name="print_run_nonnegative"),
        CheckConstraint("reach IS NULL OR reach >= 0", name="reach_nonnegative"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    kind: Mapped[str] = EVENT_KIND.column(label="Вид", index=True)
    title: Mapped[str] = column(String(255), label="Название")
    held_on: Mapped[dt.date] = column(Date, label="Дата", index=True)
    organiser_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="SET NULL"), label="Организатор", index=True
    )
    description: Mapped[str | None] = column(Text, label="Описание")
    channel: Mapped[str | None] = CAMPAIGN_CHANNEL.column(label="Канал информирования")
    print_run: Mapped[int | None] = column(Integer, label="Тираж, экз.")
    reach: Mapped[int | None] = column(Integer, label="Охват, чел.")

    organiser: Mapped[Staff | None] = relationship(info={"label": "Организатор"})
    staff: Mapped[list[Staff]] = relationship(
        secondary="event_staff", order_by="Staff.last_name", info={"label": "Сотрудники-слушатели"}
    )
    volunteers: Mapped[list[Volunteer]] = relationship(
        secondary="event_volunteer",
        order_by="Volunteer.last_name",
        info={"label": "Волонтёры-слушатели"},
    )
    attendances: Mapped[list[EventAttendance]] = relationship(
        passive_deletes="all", back_populates="event", info={"label": "Семьи-участники"}
    )

    def __str__(self) -> str:
        # A new row being filled in has no date yet, whatever its annotation says.
        held_on: dt.date | None = self.held_on
        return f"{self.title}, {held_on:%d.%m.%Y}" if held_on else self.title or "Мероприятие"


class Appointment(ArchivedMixin, Model):
    """Pre-registration for a reception; one specialist, one slot."""

    __tablename__ = "appointment"
    # One live visitor per slot: a cancelled (archived) appointment frees its slot.
    __table_args__ = (
        Index(
            "uq_appointment_specialist_id_starts_at",
            "specialist_id",
            "starts_at",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    specialist_id: Mapped[int] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Специалист"
    )
    starts_at: Mapped[dt.datetime] = column(DateTime, label="Время приёма", index=True)
    family_id: Mapped[int | None] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    citizen_name: Mapped[str | None] = column(String(255), label="Заявитель (ФИО)")
    citizen_phone: Mapped[str | None] = column(String(32), label="Телефон заявителя")
    channel: Mapped[str] = APPOINTMENT_CHANNEL.column(label="Способ записи")
    purpose: Mapped[str] = column(Text, label="Цель обращения")
    outcome: Mapped[str | None] = column(Text, label="Результат")
    case_id: Mapped[int | None] = column(
        ForeignKey("support_case.id", ondelete="SET NULL"), label="Случай сопровождения"
    )

    specialist: Mapped[Staff] = relationship(info={"label": "Специалист"})
    family: Mapped[Family | None] = relationship(info={"label": "Семья"})
    case: Mapped[Case | None] = relationship(info={"label": "Случай"})

    def __str__(self) -> str:
        return f"Приём {self.starts_at:%d.%m.%Y %H:%M}"
