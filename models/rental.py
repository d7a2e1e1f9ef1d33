"""The rental point of technical means of rehabilitation (free of charge)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, relationship, validates

from .base import ArchivedMixin, Choices, CreatedMixin, Model, VersionedMixin, column
from .keys import key_column

if TYPE_CHECKING:
    # The models its relationships name, for the type checker only: at run time the
    # model modules import one another and SQLAlchemy resolves the names itself.
    from .cases import Task
    from .people import Family, Person
    from .reference import Staff

EQUIPMENT_CATEGORY = Choices(
    "equipment_category",
    {
        "mobility": "средства передвижения",
        "support": "опоры и ходунки",
        "verticalization": "вертикализация",
        "bed": "кровати и матрасы",
        "hygiene": "гигиена",
        "other": "другое",
    },
)

CONDITION = Choices(
    "condition",
    {"new": "новое", "good": "хорошее", "fair": "удовлетворительное", "poor": "плохое"},
)

UNIT_STATUS = Choices(
    "unit_status",
    {
        "available": "свободно",
        "reserved": "зарезервировано",
        "on_loan": "на руках",
        "sanitising": "на санобработке",
        "repair": "в ремонте",
        "written_off": "списано",
    },
)

RESERVATION_STATUS = Choices(
    "reservation_status",
    {
        "waiting": "в очереди",
        "offered": "предложено",
        "fulfilled": "выдано",
        "cancelled": "снято",
    },
)

RESERVATION_PRIORITY = Choices(
    "reservation_priority",
    {"1": "срочно", "2": "повышенный", "3": "обычный"},
)


class EquipmentType(ArchivedMixin, Model):
    __tablename__ = "equipment_type"
    __table_args__ = (
        CheckConstraint("loan_term_days > 0", name="term_positive"),
        CheckConstraint("max_extensions >= 0", name="extensions_nonnegative"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    name: Mapped[str] = column(String(255), label="Наименование", unique=True)
    category: Mapped[str] = EQUIPMENT_CATEGORY.column(label="Категория", index=True)
    size_range: Mapped[str | None] = column(String(128), label="Размеры")
    age_range: Mapped[str | None] = column(String(128), label="Возраст")
    loan_term_days: Mapped[int] = column(Integer, label="Срок выдачи, дней", default=90)
    max_extensions: Mapped[int] = column(Integer, label="Продлений не более", default=2)
    components: Mapped[str | None] = column(Text, label="Комплектность")
    # Seed 002 §2.2: the rental point serves the ТСР «не включенными в гарантированный
    # перечень» — those the Social Fund does not provide.
    outside_guaranteed: Mapped[bool] = column(
        Boolean,
        label="Вне гарантированного перечня",
        default=False,
        server_default=false(),
        nullable=False,
    )

    units: Mapped[list[EquipmentUnit]] = relationship(
        passive_deletes="all", back_populates="type", info={"label": "Единицы"}
    )

    def __str__(self) -> str:
        return self.name


# A size as people write it: «ширина сиденья 36–46 см», «рост 120-140», «40 см», «3,5».
SIZE_RANGE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:[–—−-]|до)\s*(\d+(?:[.,]\d+)?)")
SIZE_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# Both bounds or neither, the lower not above the upper.
SIZE_BOUNDS_CHECK = (
    "(size_min IS NULL AND size_max IS NULL) OR "
    "(size_min IS NOT NULL AND size_max IS NOT NULL AND size_min <= size_max)"
)


def size_bounds(size: str | None) -> tuple[Decimal | None, Decimal | None]:
    """The numeric range a size text names: its first «a–b» (in either order), else its
    first number as a range of one; (None, None) for a size without a number."""
    text = size or ""
    found = SIZE_RANGE.search(text)
    if found:
        low, high = (Decimal(part.replace(",", ".")) for part in found.groups())
        return min(low, high), max(low, high)
    number = SIZE_NUMBER.search(text)
    if number:
        value = Decimal(number.group().replace(",", "."))
        return value, value
    return None, None


def parse_size_query(words: str) -> Decimal | None:
    """A number the clerk typed into the size search («40», «40 см», «40,5»), or None."""
    match = re.fullmatch(r"\s*(\d{1,5}(?:[.,]\d)?)\s*(?:см|мм|кг|лет|год|года)?\.?\s*", words or "")
    return Decimal(match.group(1).replace(",", ".")) if match else None


class EquipmentUnit(ArchivedMixin, VersionedMixin, Model):
    __tablename__ = "equipment_unit"
    __table_args__ = (
        Index("ix_equipment_unit_type_status", "type_id", "status"),
        CheckConstraint(SIZE_BOUNDS_CHECK, name="size_bounds"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    inventory_number: Mapped[str] = column(String(64), label="Инвентарный номер", unique=True)
    inventory_key: Mapped[str | None] = key_column("equipment_unit", "inventory_key")
    type_id: Mapped[int] = column(
        ForeignKey("equipment_type.id", ondelete="RESTRICT"), label="Вид ТСР"
    )
    size: Mapped[str | None] = column(String(64), label="Размер")
    # The range the size names (size_bounds), kept with it: «40» finds «36–46 см».
    size_min: Mapped[Decimal | None] = column(Numeric(6, 1), label="Размер от")
    size_max: Mapped[Decimal | None] = column(Numeric(6, 1), label="Размер до")
    components: Mapped[str | None] = column(Text, label="Комплектность")
    condition: Mapped[str] = CONDITION.column(label="Состояние", default="good")
    status: Mapped[str] = UNIT_STATUS.column(label="Статус", default="available", index=True)
    acquired_on: Mapped[dt.date | None] = column(Date, label="Поступило")
    written_off_on: Mapped[dt.date | None] = column(Date, label="Списано")
    write_off_reason: Mapped[str | None] = column(Text, label="Основание списания")
    notes: Mapped[str | None] = column(Text, label="Примечания")

    type: Mapped[EquipmentType] = relationship(back_populates="units", info={"label": "Вид ТСР"})
    loans: Mapped[list[Loan]] = relationship(
        passive_deletes="all",
        back_populates="unit",
        order_by="Loan.issued_on",
        info={"label": "История выдач"},
    )

    @validates("size")
    def _size_bounds(self, _key: str, size: str | None) -> str | None:
        self.size_min, self.size_max = size_bounds(size)
        return size

    def __str__(self) -> str:
        return f"{self.inventory_number} ({self.type})"


class Loan(ArchivedMixin, VersionedMixin, CreatedMixin, Model):
    """A unit lent to a family for a child. A unit is never on two open loans."""

    __tablename__ = "loan"
    __table_args__ = (
        CheckConstraint("due_on >= issued_on", name="due_order"),
        CheckConstraint("returned_on IS NULL OR returned_on >= issued_on", name="returned_order"),
        CheckConstraint("extensions >= 0", name="extensions_nonnegative"),
        # The rule «one open loan per unit» held by the database itself.
        Index(
            "uq_loan_open_unit",
            "unit_id",
            unique=True,
            sqlite_where=text("returned_on IS NULL"),
            postgresql_where=text("returned_on IS NULL"),
        ),
        Index("ix_loan_open_due", "due_on", postgresql_where=text("returned_on IS NULL")),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    unit_id: Mapped[int] = column(
        ForeignKey("equipment_unit.id", ondelete="RESTRICT"), label="Единица ТСР", index=True
    )
    family_id: Mapped[int] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    child_id: Mapped[int] = column(
        ForeignKey("person.id", ondelete="RESTRICT"), label="Ребёнок", index=True
    )
    issued_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Выдал"
    )
    issued_on: Mapped[dt.date] = column(Date, label="Дата выдачи")
    due_on: Mapped[dt.date] = column(Date, label="Вернуть до")
    extensions: Mapped[int] = column(Integer, label="Продлений", default=0)
    condition_on_issue: Mapped[str] = CONDITION.column(
        label="Состояние при выдаче", name="condition_on_issue", default="good"
    )
    returned_on: Mapped[dt.date | None] = column(Date, label="Возвращено")
    condition_on_return: Mapped[str | None] = CONDITION.column(
        label="Состояние при возврате", name="condition_on_return"
    )
    missing_components: Mapped[str | None] = column(Text, label="Недостающие части")
    notes: Mapped[str | None] = column(Text, label="Примечания")

    unit: Mapped[EquipmentUnit] = relationship(
        back_populates="loans", info={"label": "Единица ТСР"}
    )
    family: Mapped[Family] = relationship(back_populates="loans", info={"label": "Семья"})
    child: Mapped[Person] = relationship(info={"label": "Ребёнок"})
    issued_by: Mapped[Staff | None] = relationship(info={"label": "Выдал"})

    @property
    def is_open(self) -> bool:
        return self.returned_on is None

    def is_overdue(self, today: dt.date) -> bool:
        return self.is_open and self.due_on < today

    def __str__(self) -> str:
        return f"Выдача № {self.id} от {self.issued_on:%d.%m.%Y}"


class Reservation(VersionedMixin, CreatedMixin, Model):
    """A family's place in the queue for an equipment type."""

    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint(
            "(status = 'offered') = (offered_unit_id IS NOT NULL AND offer_expires_on IS NOT NULL)",
            name="offer_complete",
        ),
        # A unit is offered to one family at a time.
        Index(
            "uq_reservation_offered_unit",
            "offered_unit_id",
            unique=True,
            sqlite_where=text("status = 'offered'"),
            postgresql_where=text("status = 'offered'"),
        ),
        Index("ix_reservation_queue", "type_id", "status", "priority", "requested_on"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    family_id: Mapped[int] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    child_id: Mapped[int] = column(ForeignKey("person.id", ondelete="RESTRICT"), label="Ребёнок")
    type_id: Mapped[int] = column(
        ForeignKey("equipment_type.id", ondelete="RESTRICT"), label="Вид ТСР"
    )
    requested_on: Mapped[dt.date] = column(Date, label="Дата заявки")
    priority: Mapped[str] = RESERVATION_PRIORITY.column(label="Приоритет", default="3")
    status: Mapped[str] = RESERVATION_STATUS.column(label="Статус", default="waiting")
    offered_unit_id: Mapped[int | None] = column(
        ForeignKey("equipment_unit.id", ondelete="RESTRICT"), label="Предложенная единица"
    )
    offer_expires_on: Mapped[dt.date | None] = column(Date, label="Предложение до")
    notes: Mapped[str | None] = column(Text, label="Примечания")

    family: Mapped[Family] = relationship(back_populates="reservations", info={"label": "Семья"})
    child: Mapped[Person] = relationship(info={"label": "Ребёнок"})
    type: Mapped[EquipmentType] = relationship(info={"label": "Вид ТСР"})
    offered_unit: Mapped[EquipmentUnit | None] = relationship(
        info={"label": "Предложенная единица"}
    )

    def __str__(self) -> str:
        return f"Заявка № {self.id}: {self.type}"


class LoanExtension(Model):
    """An extension of a loan's due date, with its reason."""

    __tablename__ = "loan_extension"
    __table_args__ = (CheckConstraint("new_due_on > old_due_on", name="extends_forward"),)

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    loan_id: Mapped[int] = column(
        ForeignKey("loan.id", ondelete="RESTRICT"), label="Выдача", index=True
    )
    old_due_on: Mapped[dt.date] = column(Date, label="Прежний срок")
    new_due_on: Mapped[dt.date] = column(Date, label="Новый срок")
    reason: Mapped[str] = column(Text, label="Причина")
    extended_at: Mapped[dt.datetime] = column(DateTime(timezone=True), label="Продлено")
    extended_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Кто продлил"
    )

    loan: Mapped[Loan] = relationship(info={"label": "Выдача"})

    def __str__(self) -> str:
        return f"Продление до {self.new_due_on:%d.%m.%Y}"


RENTAL_EVENT = Choices(
    "rental_event_kind",
    {
        "received": "поступило",
        "queued": "поставлена в очередь",
        "reprioritised": "изменён приоритет",
        "offered": "предложено семье",
        "offer_declined": "семья отказалась",
        "offer_expired": "предложение истекло",
        "queue_cancelled": "снята с очереди",
        "issued": "выдано",
        "extended": "продлено",
        "returned": "возвращено",
        "sanitised": "санобработка проведена",
        "repaired": "отремонтировано",
        "written_off": "списано",
        "overdue": "просрочен возврат",
    },
)
# Events that are decisions of a person: they carry their reason (or method).
EVENTS_WITH_REASON = (
    "reprioritised",
    "offer_declined",
    "queue_cancelled",
    "sanitised",
    "written_off",
)


class RentalEvent(CreatedMixin, Model):
    """One line of the rental point's history: of a unit, a loan, a reservation, a family.

    Written only by workflows/rental.py. An overdue loan's task is linked here,
    once per missed due date (a partial unique index), so the overdue job can
    run on two servers at once without making two tasks.
    """

    __tablename__ = "rental_event"
    __table_args__ = (
        CheckConstraint(
            "kind NOT IN ({}) OR details IS NOT NULL".format(
                ", ".join(f"'{k}'" for k in EVENTS_WITH_REASON)
            ),
            name="reason_given",
        ),
        CheckConstraint("kind <> 'overdue' OR task_id IS NOT NULL", name="overdue_has_task"),
        Index(
            "uq_rental_event_overdue_loan",
            "loan_id",
            "occurred_on",
            unique=True,
            sqlite_where=text("kind = 'overdue'"),
            postgresql_where=text("kind = 'overdue'"),
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    kind: Mapped[str] = RENTAL_EVENT.column(label="Событие")
    occurred_on: Mapped[dt.date] = column(Date, label="Дата")
    unit_id: Mapped[int | None] = column(
        ForeignKey("equipment_unit.id", ondelete="RESTRICT"), label="Единица ТСР", index=True
    )
    loan_id: Mapped[int | None] = column(
        ForeignKey("loan.id", ondelete="RESTRICT"), label="Выдача", index=True
    )
    reservation_id: Mapped[int | None] = column(
        ForeignKey("reservation.id", ondelete="RESTRICT"), label="Заявка", index=True
    )
    family_id: Mapped[int | None] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    task_id: Mapped[int | None] = column(ForeignKey("task.id", ondelete="RESTRICT"), label="Задача")
    staff_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Сотрудник"
    )
    details: Mapped[str | None] = column(Text, label="Подробности")

    unit: Mapped[EquipmentUnit | None] = relationship(info={"label": "Единица ТСР"})
    loan: Mapped[Loan | None] = relationship(info={"label": "Выдача"})
    reservation: Mapped[Reservation | None] = relationship(info={"label": "Заявка"})
    family: Mapped[Family | None] = relationship(info={"label": "Семья"})
    task: Mapped[Task | None] = relationship(info={"label": "Задача"})
    staff: Mapped[Staff | None] = relationship(info={"label": "Сотрудник"})

    @property
    def kind_label(self) -> str:
        return RENTAL_EVENT.label(self.kind)

    def __str__(self) -> str:
        return f"{self.kind_label} {self.occurred_on:%d.%m.%Y}"


def _case_rental_relationships() -> None:
    """A case's page shows its family's loans and queue places (read-only views)."""
    from .cases import Case

    Case.family_loans = relationship(
        Loan,
        primaryjoin="Case.family_id == foreign(Loan.family_id)",
        viewonly=True,
        order_by=Loan.issued_on,
        info={"label": "Выдачи ТСР семье"},
    )
    Case.family_reservations = relationship(
        Reservation,
        primaryjoin="Case.family_id == foreign(Reservation.family_id)",
        viewonly=True,
        order_by=Reservation.requested_on,
        info={"label": "Очередь на ТСР"},
    )


_case_rental_relationships()
