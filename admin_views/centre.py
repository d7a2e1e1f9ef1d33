"""«Реквизиты центра»: the administrator's one settings row — requisites printed on every
document (contract, consent, act, referral letter, ИПСС) and the working hours that
reception keeps to. Each save is audited like any row (models/audit.py)."""

from __future__ import annotations

from flask import request
from flask_admin import expose
from wtforms import TimeField
from wtforms.validators import Optional, ValidationError

from models import db
from models.requisites import (
    account_problem,
    bik_problem,
    inn_problem,
    kpp_problem,
    ogrn_problem,
)
from workflows.centre import centre_settings

from .base import OporaModelView

LUNCH_OUTSIDE = "Обеденный перерыв должен лежать внутри рабочего дня."


class Requisite:
    """A requisite checked by its rule in models/requisites.py; spaces are dropped."""

    def __init__(self, problem):
        self.problem = problem

    def __call__(self, form, field):
        value = "".join((field.data or "").split())
        field.data = value or None
        if value and (message := self.problem(value)):
            raise ValidationError(message)


def _time(label: str, required: bool = True) -> dict:
    return {"label": label, "format": "%H:%M", "validators": [] if required else [Optional()]}


class CentreSettingsView(OporaModelView):
    """One row, never created here (it is made on first reading) and never archived."""

    can_create = False
    form_columns = (
        "full_name",
        "short_name",
        "address",
        "inn",
        "kpp",
        "ogrn",
        "phone",
        "email",
        "director_last_name",
        "director_first_name",
        "director_middle_name",
        "director_position",
        "basis",
        "bank_name",
        "bank_bik",
        "bank_account",
        "bank_corr_account",
        "opens_at",
        "closes_at",
        "lunch_starts_at",
        "lunch_ends_at",
    )
    column_list = ("full_name", "inn", "ogrn", "director_last_name", "opens_at", "closes_at")
    column_details_list = form_columns
    column_descriptions = {
        "basis": "Печатается как «действующего на основании …»: Устава, Положения.",
        "short_name": "Для шапки документов и подписей; полное — в преамбуле договора.",
    }
    form_overrides = {
        "opens_at": TimeField,
        "closes_at": TimeField,
        "lunch_starts_at": TimeField,
        "lunch_ends_at": TimeField,
    }
    form_args = {
        "inn": {"validators": [Requisite(inn_problem)]},
        "ogrn": {"validators": [Requisite(ogrn_problem)]},
        "kpp": {"validators": [Requisite(kpp_problem)]},
        "bank_bik": {"validators": [Requisite(bik_problem)]},
        "bank_account": {"validators": [Requisite(account_problem)]},
        "bank_corr_account": {"validators": [Requisite(account_problem)]},
        "opens_at": _time("Начало рабочего дня"),
        "closes_at": _time("Конец рабочего дня"),
        "lunch_starts_at": _time("Начало обеденного перерыва", required=False),
        "lunch_ends_at": _time("Конец обеденного перерыва", required=False),
    }

    @expose("/")
    def index_view(self):
        # The one row exists before its list is shown (made from the environment).
        centre_settings(db.session)
        db.session.commit()
        return super().index_view()

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if not valid or request.method != "POST" or not hasattr(form, "opens_at"):
            return valid
        return _hours_hold(form) and valid


def _hours_hold(form) -> bool:
    opens, closes = form.opens_at.data, form.closes_at.data
    if opens and closes and closes <= opens:
        form.closes_at.errors = [*form.closes_at.errors, "Конец дня — позже его начала."]
        return False
    starts, ends = form.lunch_starts_at.data, form.lunch_ends_at.data
    if (starts is None) != (ends is None):
        missing = form.lunch_ends_at if ends is None else form.lunch_starts_at
        missing.errors = [
            *missing.errors,
            "Укажите и начало, и конец перерыва (или ни того, ни другого).",
        ]
        return False
    if starts and ends and opens and closes and not opens < starts < ends < closes:
        form.lunch_starts_at.errors = [*form.lunch_starts_at.errors, LUNCH_OUTSIDE]
        return False
    return True
