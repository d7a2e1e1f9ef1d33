"""The child's ИПРА (индивидуальная программа реабилитации или абилитации ребёнка-инвалида).

The МСЭ bureau issues it for a term; it recommends rehabilitation measures by kind and
lists the ТСР the child needs, each provided by the Social Fund or not (seed 002 §2.2:
the rental point serves ТСР «не включенными в гарантированный перечень»). It is health
data: only a role that reads health sees any of it (workflows/scope.py), its row scope
is the family's, and its texts are health columns (hidden in the audit trail).

From an ИПРА the worker confirms, one by one, an ИПСС activity for a measure
(`RehabMeasure.activity_id`) and a rental queue place for a ТСР not provided by the
Fund (`RehabTsr.reservation_id`): a confirmed proposal names what it made, once.
"""

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
    text,
    true,
)
from sqlalchemy.orm import Mapped, relationship

from .base import ArchivedMixin, Choices, CreatedMixin, Model, VersionedMixin, column

if TYPE_CHECKING:
    from .cases import PlanActivity
    from .people import Person
    from .reference import Partner
    from .rental import EquipmentType, Reservation

# The kinds of rehabilitation (habilitation) measures an ИПРА recommends.
REHAB_MEASURE_KIND = Choices(
    "rehab_measure_kind",
    {
        "medical": "медицинская реабилитация (абилитация)",
        "psych_ped": "психолого-педагогическая реабилитация (абилитация)",
        "social": "социальная реабилитация (абилитация)",
        "tsr": "технические средства реабилитации",
    },
)

_LIVE = "archived_at IS NULL"


class RehabProgramme(ArchivedMixin, VersionedMixin, CreatedMixin, Model):
    """One ИПРА of a child, issued by an МСЭ bureau for a term."""

    __tablename__ = "rehab_programme"
    __table_args__ = (
        CheckConstraint("valid_until > issued_on", name="valid_order"),
        # A number names one live ИПРА (one made in error and archived is no obstacle).
        Index(
            "uq_rehab_programme_number",
            "number",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
        # The tick looks for the ИПРА ending soon.
        Index(
            "ix_rehab_programme_valid_until",
            "valid_until",
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    child_id: Mapped[int] = column(
        ForeignKey("person.id", ondelete="RESTRICT"), label="Ребёнок", index=True
    )
    number: Mapped[str] = column(String(64), label="Номер ИПРА")
    issued_on: Mapped[dt.date] = column(Date, label="Дата выдачи")
    valid_until: Mapped[dt.date] = column(Date, label="Действует до")
    bureau_id: Mapped[int] = column(
        ForeignKey("partner.id", ondelete="RESTRICT"), label="Бюро МСЭ", index=True
    )
    notes: Mapped[str | None] = column(Text, label="Примечания", info={"health": True})

    child: Mapped[Person] = relationship(info={"label": "Ребёнок"})
    bureau: Mapped[Partner] = relationship(info={"label": "Бюро МСЭ"})
    measures: Mapped[list[RehabMeasure]] = relationship(
        passive_deletes="all",
        back_populates="programme",
        order_by="RehabMeasure.id",
        info={"label": "Рекомендованные мероприятия"},
    )
    tsr_items: Mapped[list[RehabTsr]] = relationship(
        passive_deletes="all",
        back_populates="programme",
        order_by="RehabTsr.id",
        info={"label": "ТСР по ИПРА"},
    )

    def is_valid(self, on: dt.date) -> bool:
        return self.issued_on <= on <= self.valid_until

    def __str__(self) -> str:
        number = f" № {self.number}" if self.number else ""
        until = f" до {self.valid_until:%d.%m.%Y}" if self.valid_until is not None else ""
        return f"ИПРА{number}{until}"


class RehabMeasure(ArchivedMixin, VersionedMixin, Model):
    """One rehabilitation measure an ИПРА recommends; `activity` is the ИПСС activity the
    worker confirmed for it (none yet: still a proposal)."""

    __tablename__ = "rehab_measure"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    programme_id: Mapped[int] = column(
        ForeignKey("rehab_programme.id", ondelete="RESTRICT"), label="ИПРА", index=True
    )
    kind: Mapped[str] = REHAB_MEASURE_KIND.column(label="Вид мероприятий")
    description: Mapped[str] = column(Text, label="Рекомендации", info={"health": True})
    activity_id: Mapped[int | None] = column(
        ForeignKey("plan_activity.id", ondelete="RESTRICT"),
        label="Мероприятие ИПСС",
        unique=True,
    )

    programme: Mapped[RehabProgramme] = relationship(
        back_populates="measures", info={"label": "ИПРА"}
    )
    activity: Mapped[PlanActivity | None] = relationship(info={"label": "Мероприятие ИПСС"})

    def __str__(self) -> str:
        return REHAB_MEASURE_KIND.label(self.kind) if self.kind else "Мероприятие ИПРА"


class RehabTsr(ArchivedMixin, VersionedMixin, Model):
    """One ТСР an ИПРА lists: provided by the Social Fund or not; the rental point's
    equipment type it matches, and the queue place the worker confirmed for it."""

    __tablename__ = "rehab_tsr"
    __table_args__ = (
        # A queue place only for a ТСР the Fund does not provide, of a type of the point.
        CheckConstraint(
            "reservation_id IS NULL OR (NOT by_fund AND equipment_type_id IS NOT NULL)",
            name="queue_needs_rental",
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    programme_id: Mapped[int] = column(
        ForeignKey("rehab_programme.id", ondelete="RESTRICT"), label="ИПРА", index=True
    )
    name: Mapped[str] = column(String(255), label="Наименование ТСР", info={"health": True})
    by_fund: Mapped[bool] = column(
        Boolean,
        label="Обеспечивает Социальный фонд",
        default=True,
        server_default=true(),
        nullable=False,
    )
    equipment_type_id: Mapped[int | None] = column(
        ForeignKey("equipment_type.id", ondelete="RESTRICT"), label="Вид ТСР пункта проката"
    )
    reservation_id: Mapped[int | None] = column(
        ForeignKey("reservation.id", ondelete="RESTRICT"), label="Заявка в очереди", unique=True
    )

    programme: Mapped[RehabProgramme] = relationship(
        back_populates="tsr_items", info={"label": "ИПРА"}
    )
    equipment_type: Mapped[EquipmentType | None] = relationship(
        info={"label": "Вид ТСР пункта проката"}
    )
    reservation: Mapped[Reservation | None] = relationship(info={"label": "Заявка в очереди"})

    def __str__(self) -> str:
        return self.name or "ТСР по ИПРА"
