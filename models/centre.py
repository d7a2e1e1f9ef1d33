"""The centre's own requisites and hours: one settings row, printed on every document.

The administrator keeps it on «Реквизиты центра»; the environment (OPORA_CENTRE_*) only
gives the first values when the row does not exist yet. One row: its id is 1 (a CHECK),
and it is versioned, so two administrators never silently overwrite each other.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Integer, String, Time
from sqlalchemy.orm import Mapped

from .base import Model, VersionedMixin, column, full_name

# The one row's id.
SETTINGS_ID = 1
DEFAULT_OPENS = dt.time(9, 0)
DEFAULT_CLOSES = dt.time(18, 0)
DEFAULT_LUNCH_STARTS = dt.time(13, 0)
DEFAULT_LUNCH_ENDS = dt.time(14, 0)


class CentreSettings(VersionedMixin, Model):
    """The centre's requisites (name, address, ИНН/ОГРН/КПП, the director and the basis,
    the bank) and its working hours with the lunch break."""

    __tablename__ = "centre_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("opens_at < closes_at", name="hours_order"),
        CheckConstraint(
            "(lunch_starts_at IS NULL AND lunch_ends_at IS NULL) OR "
            "(lunch_starts_at IS NOT NULL AND lunch_ends_at IS NOT NULL"
            " AND opens_at < lunch_starts_at AND lunch_starts_at < lunch_ends_at"
            " AND lunch_ends_at < closes_at)",
            name="lunch_within_hours",
        ),
        CheckConstraint("inn IS NULL OR length(inn) = 10", name="inn_length"),
        CheckConstraint("ogrn IS NULL OR length(ogrn) = 13", name="ogrn_length"),
        CheckConstraint("kpp IS NULL OR length(kpp) = 9", name="kpp_length"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True, default=SETTINGS_ID)
    full_name: Mapped[str] = column(String(500), label="Полное наименование", nullable=False)
    short_name: Mapped[str | None] = column(String(200), label="Сокращённое наименование")
    address: Mapped[str | None] = column(String(500), label="Адрес")
    inn: Mapped[str | None] = column(String(10), label="ИНН")
    ogrn: Mapped[str | None] = column(String(13), label="ОГРН")
    kpp: Mapped[str | None] = column(String(9), label="КПП")
    phone: Mapped[str | None] = column(String(64), label="Телефон")
    email: Mapped[str | None] = column(String(254), label="Эл. почта")
    director_last_name: Mapped[str | None] = column(String(64), label="Фамилия директора")
    director_first_name: Mapped[str | None] = column(String(64), label="Имя директора")
    director_middle_name: Mapped[str | None] = column(String(64), label="Отчество директора")
    director_position: Mapped[str] = column(
        String(128), label="Должность руководителя", nullable=False, default="директор"
    )
    basis: Mapped[str] = column(
        String(255),
        label="Действует на основании",
        nullable=False,
        default="Устава",
    )
    bank_name: Mapped[str | None] = column(String(255), label="Банк")
    bank_bik: Mapped[str | None] = column(String(9), label="БИК")
    bank_account: Mapped[str | None] = column(String(20), label="Расчётный (казначейский) счёт")
    bank_corr_account: Mapped[str | None] = column(String(20), label="Корреспондентский счёт")
    opens_at: Mapped[dt.time] = column(
        Time, label="Начало рабочего дня", nullable=False, default=DEFAULT_OPENS
    )
    closes_at: Mapped[dt.time] = column(
        Time, label="Конец рабочего дня", nullable=False, default=DEFAULT_CLOSES
    )
    lunch_starts_at: Mapped[dt.time | None] = column(Time, label="Начало обеденного перерыва")
    lunch_ends_at: Mapped[dt.time | None] = column(Time, label="Конец обеденного перерыва")

    @property
    def director_full_name(self) -> str:
        return full_name(
            self.director_last_name, self.director_first_name, self.director_middle_name
        )

    @property
    def name(self) -> str:
        """The name a letterhead or a sentence uses: the short one where there is one."""
        return self.short_name or self.full_name

    def __str__(self) -> str:
        return "Реквизиты центра"
