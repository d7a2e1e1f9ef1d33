"""The family data bank: families, their members, consents and programme enrolments."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, relationship

from .base import ArchivedMixin, Choices, CreatedMixin, Model, VersionedMixin, column, full_name
from .keys import key_column

if TYPE_CHECKING:
    # The models its relationships name, for the type checker only: at run time the
    # model modules import one another and SQLAlchemy resolves the names itself.
    from .cases import Case
    from .channels import IncomingReferral, SocialRaid
    from .events import EventAttendance
    from .reference import District, Partner, Programme
    from .rental import Loan, Reservation

FAMILY_STATUS = Choices(
    "family_status",
    {
        "registered": "на учёте",
        "supported": "на сопровождении",
        "deregistered": "снята с учёта",
    },
)

IDENTIFIED_BY = Choices(
    "identified_by",
    {
        "self": "обратилась сама",
        "partner": "направление партнёра",
        "raid": "социальный рейд",
        "transfer": "передача из другой организации или участка",
    },
)

# The family categories of the data bank, as flags: a family can be in several.
FAMILY_CATEGORIES = {
    "is_large": "многодетная",
    "is_low_income": "малоимущая",
    "is_single_parent": "неполная",
    "is_foster": "приёмная (замещающая)",
    "is_dangerous": "в социально опасном положении",
}

SEX = Choices("sex", {"m": "мужской", "f": "женский"})

RELATION = Choices(
    "relation",
    {
        "mother": "мать",
        "father": "отец",
        "legal_representative": "законный представитель",
        "guardian": "опекун (попечитель)",
        "child": "ребёнок",
        "other": "другой член семьи",
    },
)

# How a family wants to be told of an offer, an appointment or a loan coming due.
CONTACT_CHANNEL = Choices(
    "contact_channel",
    {"none": "не извещать", "sms": "SMS", "email": "электронная почта", "call": "звонок"},
)

DISABILITY = Choices(
    "disability",
    {"none": "нет", "disabled": "ребёнок-инвалид", "ovz": "ОВЗ"},
)

DISABILITY_GROUP = Choices(
    "disability_group",
    {"child": "категория «ребёнок-инвалид»", "1": "I группа", "2": "II группа", "3": "III группа"},
)


class Family(ArchivedMixin, VersionedMixin, CreatedMixin, Model):
    __tablename__ = "family"
    __table_args__ = (
        Index("ix_family_district_status", "district_id", "status"),
        # The pilot report counts the families of each status.
        Index(
            "ix_family_live_status",
            "status",
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
        # How the family was identified names its partner or its raid, and only then.
        CheckConstraint(
            "(identified_by = 'partner') = (identified_partner_id IS NOT NULL)",
            name="partner_channel",
        ),
        CheckConstraint(
            "(identified_by = 'raid') = (social_raid_id IS NOT NULL)", name="raid_channel"
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    surname: Mapped[str] = column(String(64), label="Фамилия семьи", index=True)
    district_id: Mapped[int] = column(
        ForeignKey("district.id", ondelete="RESTRICT"), label="Участок"
    )
    address: Mapped[str] = column(String(255), label="Адрес")
    phone: Mapped[str | None] = column(String(32), label="Телефон")
    email: Mapped[str | None] = column(String(254), label="Эл. почта")
    # The family's choice; a message is made only with a consent to notifications too.
    contact_channel: Mapped[str] = CONTACT_CHANNEL.column(
        label="Как извещать", default="none", server_default="none"
    )
    is_large: Mapped[bool] = column(Boolean, label="Многодетная", default=False, nullable=False)
    is_low_income: Mapped[bool] = column(Boolean, label="Малоимущая", default=False, nullable=False)
    is_single_parent: Mapped[bool] = column(
        Boolean, label="Неполная", default=False, nullable=False
    )
    is_foster: Mapped[bool] = column(
        Boolean, label="Приёмная (замещающая)", default=False, nullable=False
    )
    is_dangerous: Mapped[bool] = column(Boolean, label="В СОП", default=False, nullable=False)
    identified_by: Mapped[str] = IDENTIFIED_BY.column(label="Как выявлена", default="self")
    identified_partner_id: Mapped[int | None] = column(
        ForeignKey("partner.id", ondelete="RESTRICT"), label="Направил партнёр", index=True
    )
    social_raid_id: Mapped[int | None] = column(
        ForeignKey("social_raid.id", ondelete="RESTRICT"), label="Выявлена в рейде", index=True
    )
    status: Mapped[str] = FAMILY_STATUS.column(label="Статус", default="registered")
    notes: Mapped[str | None] = column(Text, label="Примечания")
    # Search keys (models/keys.py): the surname's stem; the address and phone squashed.
    search_key: Mapped[str | None] = key_column("family", "search_key")
    text_key: Mapped[str | None] = key_column("family", "text_key")

    district: Mapped[District] = relationship(info={"label": "Участок"})
    identified_partner: Mapped[Partner | None] = relationship(info={"label": "Направил партнёр"})
    social_raid: Mapped[SocialRaid | None] = relationship(
        back_populates="families", info={"label": "Выявлена в рейде"}
    )
    incoming_referrals: Mapped[list[IncomingReferral]] = relationship(
        passive_deletes="all",
        back_populates="family",
        info={"label": "Направления партнёров"},
    )
    members: Mapped[list[Person]] = relationship(
        passive_deletes="all",
        back_populates="family",
        order_by="Person.birth_date",
        info={"label": "Члены семьи"},
    )
    consents: Mapped[list[Consent]] = relationship(
        passive_deletes="all", back_populates="family", info={"label": "Согласия на обработку ПДн"}
    )
    cases: Mapped[list[Case]] = relationship(
        passive_deletes="all",
        back_populates="family",
        info={"label": "Случаи сопровождения"},
    )
    loans: Mapped[list[Loan]] = relationship(
        passive_deletes="all",
        back_populates="family",
        info={"label": "Выдачи ТСР"},
    )
    reservations: Mapped[list[Reservation]] = relationship(
        passive_deletes="all",
        back_populates="family",
        info={"label": "Очередь на ТСР"},
    )
    enrolments: Mapped[list[ProgrammeEnrolment]] = relationship(
        passive_deletes="all", back_populates="family", info={"label": "Участие в программах"}
    )
    event_attendances: Mapped[list[EventAttendance]] = relationship(
        passive_deletes="all", back_populates="family", info={"label": "Мероприятия"}
    )

    @property
    def categories(self) -> list[str]:
        return [label for attr, label in FAMILY_CATEGORIES.items() if getattr(self, attr)]

    def __str__(self) -> str:
        return f"{self.surname}, {self.address}"


LIVE_ROWS = "archived_at IS NULL"
CHILD_ROWS = "relation = 'child' AND archived_at IS NULL"


class Person(ArchivedMixin, VersionedMixin, Model):
    """A member of a family. Disability fields are health data (special category)."""

    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_name", "last_name", "first_name", "middle_name"),
        # The children the reports count, per family with what they count (an index-only scan).
        Index(
            "ix_person_child_family",
            "family_id",
            "birth_date",
            "disability_status",
            sqlite_where=text(CHILD_ROWS),
            postgresql_where=text(CHILD_ROWS),
        ),
        CheckConstraint(
            "disability_group IS NULL OR disability_status = 'disabled'",
            name="group_needs_disability",
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    family_id: Mapped[int] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    last_name: Mapped[str] = column(String(64), label="Фамилия")
    first_name: Mapped[str] = column(String(64), label="Имя")
    middle_name: Mapped[str | None] = column(String(64), label="Отчество")
    birth_date: Mapped[dt.date] = column(Date, label="Дата рождения", index=True)
    sex: Mapped[str] = SEX.column(label="Пол")
    relation: Mapped[str] = RELATION.column(label="Кем приходится", index=True)
    snils: Mapped[str | None] = column(String(14), label="СНИЛС", unique=True)
    # Printed in the contract and the consent (152-ФЗ art. 9 part 4: the subject's
    # identity document): «серия и номер», then «кем и когда выдан».
    passport: Mapped[str | None] = column(String(32), label="Паспорт: серия и номер")
    passport_issued: Mapped[str | None] = column(String(255), label="Паспорт: кем и когда выдан")
    phone: Mapped[str | None] = column(String(32), label="Телефон")
    disability_status: Mapped[str] = DISABILITY.column(
        label="Инвалидность / ОВЗ", default="none", index=True, info={"health": True}
    )
    disability_group: Mapped[str | None] = DISABILITY_GROUP.column(
        label="Группа (категория)", info={"health": True}
    )
    disability_review_date: Mapped[dt.date | None] = column(
        Date, label="Срок переосвидетельствования", info={"health": True}
    )
    health_notes: Mapped[str | None] = column(
        Text, label="Медицинские сведения", info={"health": True}
    )
    # Surname stem, first name, patronymic (models/keys.py): a surname search is a prefix.
    search_key: Mapped[str | None] = key_column("person", "search_key")

    family: Mapped[Family] = relationship(back_populates="members", info={"label": "Семья"})
    consents: Mapped[list[Consent]] = relationship(
        passive_deletes="all", back_populates="person", info={"label": "Согласия"}
    )

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)

    @property
    def is_child(self) -> bool:
        return self.relation == "child"

    def __str__(self) -> str:
        return self.full_name


class Consent(ArchivedMixin, CreatedMixin, Model):
    """Consent to personal-data processing. No active consent — no case may start."""

    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint("withdrawn_on IS NULL OR withdrawn_on >= given_on", name="withdrawn_order"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    family_id: Mapped[int] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    person_id: Mapped[int] = column(
        ForeignKey("person.id", ondelete="RESTRICT"), label="Кто дал согласие", index=True
    )
    given_on: Mapped[dt.date] = column(Date, label="Дата согласия")
    scope: Mapped[str] = column(Text, label="Объём согласия")
    withdrawn_on: Mapped[dt.date | None] = column(Date, label="Дата отзыва")
    # Given with the consent to personal data: the family may be sent reminders
    # (an offer, an appointment, a loan's due date) by the channel it chose.
    notifications: Mapped[bool] = column(
        Boolean,
        label="Согласие на извещения",
        default=False,
        server_default=false(),
        nullable=False,
    )

    family: Mapped[Family] = relationship(back_populates="consents", info={"label": "Семья"})
    person: Mapped[Person] = relationship(
        back_populates="consents", info={"label": "Кто дал согласие"}
    )

    def is_active(self, on: dt.date) -> bool:
        return self.given_on <= on and (self.withdrawn_on is None or self.withdrawn_on > on)

    def __str__(self) -> str:
        state = f", отозвано {self.withdrawn_on:%d.%m.%Y}" if self.withdrawn_on else ""
        return f"Согласие от {self.given_on:%d.%m.%Y}{state}"


class ProgrammeEnrolment(ArchivedMixin, Model):
    """A family taking part in one of the centre's programmes."""

    __tablename__ = "programme_enrolment"
    __table_args__ = (
        # One live enrolment per programme, family and date: an archived one is no obstacle.
        Index(
            "uq_programme_enrolment_programme_id_family_id_enrolled_on",
            "programme_id",
            "family_id",
            "enrolled_on",
            unique=True,
            sqlite_where=text(LIVE_ROWS),
            postgresql_where=text(LIVE_ROWS),
        ),
        CheckConstraint("left_on IS NULL OR left_on >= enrolled_on", name="left_order"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    programme_id: Mapped[int] = column(
        ForeignKey("programme.id", ondelete="RESTRICT"), label="Программа"
    )
    family_id: Mapped[int] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    enrolled_on: Mapped[dt.date] = column(Date, label="Включена с")
    left_on: Mapped[dt.date | None] = column(Date, label="Выбыла")
    notes: Mapped[str | None] = column(Text, label="Примечания")

    programme: Mapped[Programme] = relationship(
        back_populates="enrolments", info={"label": "Программа"}
    )
    family: Mapped[Family] = relationship(back_populates="enrolments", info={"label": "Семья"})

    def __str__(self) -> str:
        return f"{self.programme} с {self.enrolled_on:%d.%m.%Y}"
