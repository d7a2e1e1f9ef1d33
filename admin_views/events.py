"""Мероприятия: events with their participants, volunteers and the project's budget.

The coordinator and the social pedagogue record events (models.roles `keeps_events`,
the `event`, `event_attendance` and `volunteer` rows of MATRIX); the administrator
keeps the budget's measures. The rules of a saved event are workflows/events.py.
"""

from __future__ import annotations

from decimal import Decimal

from flask import request

from models import Partner
from workflows.errors import WorkflowError
from workflows.events import check_attendance, check_event, check_volunteer_group

from .base import OporaModelView
from .modelview.rowscope import pickable

NEGATIVE_SUM = "Сумма не может быть отрицательной."


def _refuse(form, error: WorkflowError, fallback: str) -> bool:
    field = getattr(form, error.field or fallback, None) or getattr(form, fallback)
    field.errors = [*field.errors, str(error)]
    return False


def _data(form, name: str):
    field = getattr(form, name, None)
    return None if field is None else field.data


class EventView(OporaModelView):
    """An event's page shows who took part: staff and volunteers at a training, families
    and their children (only the families the user may see) at the others."""

    column_list = ("held_on", "kind", "title", "organiser", "channel", "reach")
    column_searchable_list = ("title",)
    column_filters = ("kind", "held_on", "organiser", "channel")
    column_default_sort = ("held_on", True)
    form_columns = (
        "kind",
        "title",
        "held_on",
        "organiser",
        "description",
        "channel",
        "print_run",
        "reach",
        "staff",
        "volunteers",
    )
    column_details_list = (
        "kind",
        "title",
        "held_on",
        "organiser",
        "description",
        "channel",
        "print_run",
        "reach",
    )
    details_related = (
        ("attendances", ("family", "children")),
        ("staff", ("last_name", "first_name", "middle_name", "position")),
        ("volunteers", ("last_name", "first_name", "middle_name", "group")),
    )

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if not valid or request.method != "POST" or not hasattr(form, "kind"):
            return valid
        listeners = len(_data(form, "staff") or ()) + len(_data(form, "volunteers") or ())
        try:
            check_event(
                _data(form, "kind"),
                _data(form, "channel") or None,
                _data(form, "print_run"),
                _data(form, "reach"),
                listeners,
            )
        except WorkflowError as error:
            return _refuse(form, error, "kind")
        return valid

    def on_model_change(self, form, model, is_created):
        # An empty choice of the select is «no channel», not an empty code.
        if not model.channel:
            model.channel = None
        return super().on_model_change(form, model, is_created)


class EventAttendanceView(OporaModelView):
    """A family at an event, with the children of the family who came."""

    column_list = ("event", "family", "children")
    column_filters = ("event", "event.kind", "event.held_on")
    column_labels = {"event.kind": "Вид мероприятия", "event.held_on": "Дата мероприятия"}
    column_sortable_list = (("event", "event.held_on"),)
    column_default_sort = ("event.held_on", True)
    form_columns = ("event", "family", "children")
    column_details_list = form_columns

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if not valid or request.method != "POST" or not hasattr(form, "event"):
            return valid
        family = _data(form, "family")
        try:
            check_attendance(
                _data(form, "event"),
                family.id if family is not None else None,
                _data(form, "children") or (),
            )
        except WorkflowError as error:
            return _refuse(form, error, "event")
        return valid


class VolunteerView(OporaModelView):
    """The volunteers' register: their group and the trainings they attended."""

    column_list = ("last_name", "first_name", "middle_name", "group", "phone", "email")
    column_searchable_list = ("last_name", "first_name")
    column_filters = ("group",)
    column_default_sort = "last_name"
    form_columns = ("last_name", "first_name", "middle_name", "phone", "email", "group")
    column_details_list = form_columns
    details_related = (("trainings", ("held_on", "title", "organiser")),)

    def _groups_only(self, form):
        field = getattr(form, "group", None)
        if field is not None:
            field.query = pickable(Partner).filter(Partner.kind == "volunteers")
        return form

    def create_form(self, obj=None):
        return self._groups_only(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._groups_only(super().edit_form(obj))

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if not valid or request.method != "POST" or not hasattr(form, "group"):
            return valid
        try:
            check_volunteer_group(_data(form, "group"))
        except WorkflowError as error:
            return _refuse(form, error, "group")
        return valid


class ProjectMeasureView(OporaModelView):
    """The pilot's complex of measures and its money: the project's own funds."""

    column_list = ("name", "funding_source", "planned", "spent")
    column_searchable_list = ("name",)
    column_filters = ("funding_source",)
    column_default_sort = "name"
    form_columns = ("name", "funding_source", "planned", "spent", "notes")
    column_details_list = form_columns

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if request.method != "POST":
            return valid
        for name in ("planned", "spent"):
            field = getattr(form, name, None)
            if field is not None and isinstance(field.data, Decimal) and field.data < 0:
                field.errors = [*field.errors, NEGATIVE_SUM]
                valid = False
        return valid
