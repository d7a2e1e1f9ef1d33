"""Предварительная запись: a specialist's day slot by slot, and booking a free slot.

The page collects input and calls workflows/reception.py; a refusal is shown next to
its field. Access comes from the permission matrix (endpoint `reception`).
"""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Optional

from models import Family, Staff, db
from models.reference import APPOINTMENT_CHANNEL
from workflows import reception
from workflows.centre import working_hours
from workflows.dates import centre_today

from . import validators as v
from .forms import (
    PageForm,
    RowField,
    answered,
    date_field,
    parse_date,
    parse_id,
    required,
    text_area,
    text_field,
)
from .pages import PageView
from .permissions import allowed


class BookingForm(PageForm):
    specialist = RowField("Специалист", model=Staff, validators=[answered()])
    day = date_field("День приёма", required=True)
    time = SelectField("Время", validators=[required()])
    channel = SelectField(
        "Способ записи", choices=APPOINTMENT_CHANNEL.pairs(), validators=[required()]
    )
    citizen_name = text_field("Заявитель (ФИО)", Optional())
    citizen_phone = StringField("Телефон заявителя", validators=[Optional(), v.Phone()])
    purpose = text_area("Цель обращения", required())
    family = HiddenField()


def _slot_times() -> list[tuple[str, str]]:
    day = dt.date(2000, 1, 3)  # a Monday: the grid of times is the same every working day
    hours = working_hours(db.session)
    return [(f"{s:%H:%M}", f"{s:%H:%M}") for s in reception.day_slots(day, hours)]


NO_SUCH_DAY = (
    "Такого дня нет в расписании: дата должна быть настоящей и лежать между 01.01.1900 "
    "и 31.12.2100. Показан сегодняшний день."
)


def _day() -> dt.date:
    """The day the URL asks for, or today (saying so when the URL named no such day)."""
    raw = request.args.get("day")
    day = parse_date(raw)
    if day is None and raw:
        flash(NO_SUCH_DAY, "error")
    return day or centre_today()


class ReceptionView(PageView):
    """Предварительная запись: a specialist's day, slot by slot; booking a free slot."""

    @expose("/")
    def index(self):
        self.require("list")
        staff = reception.receiving_staff(db.session)
        chosen = parse_id(request.args.get("specialist"))
        specialist = next((s for s in staff if s.id == chosen), None)
        if specialist is None and current_user.staff_id:
            specialist = next((s for s in staff if s.id == current_user.staff_id), None)
        day = _day()
        slots = reception.day_view(db.session, current_user, specialist, day) if specialist else []
        return self.render(
            "case_flow/reception.html",
            staff=staff,
            specialist=specialist,
            day=day,
            slots=slots,
            previous_day=day - dt.timedelta(days=1),
            next_day=day + dt.timedelta(days=1),
            may_book=self.may("create") and day >= centre_today(),
            may_intake=allowed(current_user.role, "intake", "create"),
            channels=dict(APPOINTMENT_CHANNEL.pairs()),
            hours=working_hours(db.session).words(),
        )

    @expose("/book", methods=("GET", "POST"))
    def book(self):
        self.require("create")
        form = BookingForm()
        staff = reception.receiving_staff(db.session)
        form.specialist.choices = [(0, "— выберите —")] + [
            (s.id, f"{s.full_name} ({s.position})") for s in staff
        ]
        form.time.choices = _slot_times()
        family = None
        family_id = parse_id(request.values.get("family"))
        if family_id:
            family = self.visible_or_404(Family, family_id)
        if request.method == "GET":
            form.specialist.data = parse_id(request.args.get("specialist")) or 0
            form.day.data = _day()
            form.time.data = request.args.get("time") or form.time.choices[0][0]
            form.family.data = family.id if family else ""
        if form.validate_on_submit():
            specialist = (
                db.session.get(Staff, form.specialist.data) if form.specialist.data else None
            )
            starts_at = dt.datetime.combine(form.day.data, dt.time.fromisoformat(form.time.data))
            outcome = self.run(
                lambda: reception.book_appointment(
                    db.session,
                    current_user,
                    specialist=specialist,
                    starts_at=starts_at,
                    channel=form.channel.data,
                    purpose=form.purpose.data,
                    family=family,
                    citizen_name=form.citizen_name.data,
                    citizen_phone=form.citizen_phone.data,
                ),
                form=form,
                fields={"starts_at": "time"},
            )
            if outcome.ok:
                appointment = outcome.value
                flash(f"Записано: {appointment.specialist}, {starts_at:%d.%m.%Y %H:%M}.", "success")
                return redirect(
                    url_for(".index", specialist=specialist.id, day=starts_at.date().isoformat())
                )
        return self.render("case_flow/book.html", form=form, family=family)
