"""The one way a workflow page runs a change and reads its input, without HTTP:
PageView.run (commit, or roll back and say why in Russian) and admin_views/forms.py.
"""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from flask import get_flashed_messages
from flask_admin import expose
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import StringField

from admin_views.base import STALE_MESSAGE
from admin_views.forms import MAX_ID, IdField, WorkflowForm, date_field, parse_date, parse_id
from admin_views.pages import PageView
from models import District, EquipmentUnit, db
from workflows.errors import WorkflowError


class Page(PageView):
    @expose("/")
    def index(self):
        return ""


@pytest.fixture
def page(app):
    """A page inside a POST request, as a view runs its change."""
    with app.test_request_context("/", method="POST"):
        yield Page()
        db.session.rollback()


def districts() -> int:
    return db.session.scalar(select(func.count()).select_from(District))


class NameForm(WorkflowForm):
    class Meta:
        csrf = False

    name = StringField()
    day = date_field("День")
    staff = IdField()


def refuse_after_writing(field: str | None = None):
    def step():
        f.district(name="Недописанный")
        raise WorkflowError("Так нельзя.", field=field)

    return step


def test_a_change_that_passes_is_committed(page):
    """Is the value of a change returned and what it wrote committed?"""
    outcome = page.run(lambda: f.district(name="Новый").name)
    db.session.rollback()
    assert outcome.ok and outcome.value == "Новый"
    assert districts() == 1


def test_a_refusal_writes_nothing_and_stands_by_its_field(page):
    """Does a refused change leave nothing half-written, and is its Russian reason put
    next to the form's field it names?"""
    form = NameForm(formdata=None)
    outcome = page.run(refuse_after_writing("name"), form=form)
    assert not outcome.ok and str(outcome.refusal) == "Так нельзя."
    assert districts() == 0
    assert form.name.errors == ["Так нельзя."]
    assert get_flashed_messages() == []


def test_a_refusal_of_no_field_is_shown_above_the_page(page):
    """Is a refusal that names no field of the form flashed above the page instead?"""
    outcome = page.run(refuse_after_writing("nowhere"), form=NameForm(formdata=None))
    assert not outcome.ok
    assert get_flashed_messages(with_categories=True) == [("error", "Так нельзя.")]


def test_a_workflows_field_can_be_named_as_the_form_names_it(page):
    """Does `fields` put a refusal of the workflow's `starts_at` on the form's `day`?"""
    form = NameForm(formdata=None)
    outcome = page.run(refuse_after_writing("starts_at"), form=form, fields={"starts_at": "day"})
    assert outcome.refusal.field == "day" and form.day.errors == ["Так нельзя."]


def test_without_a_form_the_refusal_is_the_callers_to_show(page):
    """Without a form, is the refusal only returned (for the page to show), not flashed?"""
    outcome = page.run(refuse_after_writing("name"))
    assert outcome.refusal.field == "name"
    assert get_flashed_messages() == []


def test_a_stale_version_is_refused_as_a_race(page):
    """Is a change that met a row someone else changed meanwhile refused with the
    Russian «changed by another user» message, and rolled back?"""

    def stale():
        f.district()
        raise StaleDataError("UPDATE statement expected to update 1 row(s); 0 were matched.")

    outcome = page.run(stale)
    assert str(outcome.refusal) == STALE_MESSAGE
    assert districts() == 0


def test_a_broken_constraint_is_refused_in_russian(page):
    """Is a change the database refuses (a unique inventory number) answered with the
    constraint's Russian message rather than a 500, and rolled back?"""
    f.equipment_unit(inventory_number="КК-001")
    db.session.commit()
    outcome = page.run(lambda: f.equipment_unit(inventory_number="КК-001"))
    assert str(outcome.refusal) == "Такой инвентарный номер уже есть."
    assert db.session.scalar(select(func.count()).select_from(EquipmentUnit)) == 1


def test_steps_committed_before_a_refused_one_stand(page):
    """With several steps, does a step committed before a refused one stand, and do the
    steps after it not run?"""
    ran = []
    outcome = page.run(
        lambda: f.district(name="Первый"),
        refuse_after_writing(),
        lambda: ran.append("третий"),
    )
    assert not outcome.ok and ran == []
    assert db.session.scalars(select(District.name)).all() == ["Первый"]


def test_a_button_without_a_form_is_told_how_its_change_came_out(page):
    """For a button with no form (take a task, lend from the queue), is the success
    message flashed when the change was made, and the Russian refusal when not?"""
    assert page.tell(page.run(lambda: f.district(name="Новый")), lambda d: f"Создан: {d.name}.")
    assert not page.tell(page.run(refuse_after_writing("name")), "Не будет показано.")
    assert get_flashed_messages(with_categories=True) == [
        ("success", "Создан: Новый."),
        ("error", "Так нельзя."),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("9" * 40, None),
        ("-1", None),
        ("1.5", None),
        ("١٢", None),  # digits, but not ASCII ones
        ("", None),
        (None, None),
    ],
)
def test_an_id_is_a_number_a_table_can_hold(raw, expected):
    """Is an id from a URL or a form read only when it is a whole number an integer
    column holds, so a forged one names no row instead of reaching the database?"""
    assert parse_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-10", dt.date(2025, 3, 10)),
        ("когда-нибудь", None),
        ("0001-01-01", None),
        ("9999-12-31", None),
        ("", None),
        (None, None),
    ],
)
def test_a_date_from_a_url_is_one_a_clerk_can_mean(raw, expected):
    """Is a date in a URL read only when it is a date between 1900 and 2100?"""
    assert parse_date(raw) == expected


def test_a_form_that_cannot_be_read_refuses_its_first_field(app):
    """Does a hand-drawn form raise its first unreadable field as a refusal of that field,
    with the Russian message WTForms gives, and an id that names no row read as None?"""
    data = {"name": "x", "day": "когда-нибудь", "staff": "99999999999999999999"}
    with app.test_request_context("/", method="POST", data=data):
        form = NameForm()
        with pytest.raises(WorkflowError) as refused:
            form.checked()
        assert refused.value.field == "day"
        assert str(refused.value) == "Неверное значение даты."
        assert form.staff.data is None
    with app.test_request_context("/", method="POST", data={"day": "2025-03-10", "staff": "4"}):
        form = NameForm().checked()
        assert (form.day.data, form.staff.data) == (dt.date(2025, 3, 10), 4)
