"""Сопровождение: cases, assessments, the ИПСС, visits, tasks, reviews, reception."""

from __future__ import annotations

from flask import request

from models import db
from models.cases import SUPPORT_TERM_MONTHS
from workflows.consent import NO_CONSENT, has_active_consent
from workflows.dates import add_months

from .base import OporaModelView


class CaseView(OporaModelView):
    audit_opening = True
    column_list = (
        "id",
        "family",
        "application_date",
        "status",
        "start_date",
        "planned_end_date",
        "lead_worker",
    )
    column_searchable_list = ("contract_number", "family.surname")
    column_labels = {"family.surname": "Фамилия семьи", "family.district": "Участок"}
    column_filters = (
        "status",
        "closure_reason",
        "application_date",
        "start_date",
        "closed_on",
        "planned_end_date",
        "lead_worker",
        "family.district",
    )
    column_sortable_list = ("id", "application_date", "status", "start_date", "planned_end_date")
    column_default_sort = ("application_date", True)
    form_columns = (
        "family",
        "application_date",
        "applicant",
        "decision_date",
        "contract_number",
        "contract_date",
        "start_date",
        "planned_end_date",
        "lead_worker",
        "status",
        "closure_reason",
        "closed_on",
        "outcome",
    )
    column_details_list = form_columns + ("created_at",)
    date_order = (
        ("start_date", "planned_end_date"),
        ("application_date", "closed_on"),
        ("application_date", "decision_date"),
    )
    details_related = (
        ("assessments", ("domain", "need_level", "notes", "assessed_on")),
        ("plan", ("status", "goal", "approved_on")),
        ("activities", ("service", "responsible_role", "specialist", "planned_date", "status")),
        ("tasks", ("title", "role", "assignee", "status", "due_date")),
        ("visits", ("visited_on", "staff", "purpose", "next_visit_on")),
        ("reviews", ("due_on", "held_on", "effectiveness", "reviewer")),
    )

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        start, end = getattr(form, "start_date", None), getattr(form, "planned_end_date", None)
        if valid and start and end and start.data and end.data:
            limit = add_months(start.data, SUPPORT_TERM_MONTHS)
            if end.data > limit:
                end.errors = list(end.errors) + [
                    f"Не позднее {limit:%d.%m.%Y}: сопровождение длится не больше шести месяцев."
                ]
                valid = False
        family, applied = getattr(form, "family", None), getattr(form, "application_date", None)
        creating = request.endpoint == f"{self.endpoint}.create_view"
        if valid and creating and family and family.data and applied and applied.data:
            if not has_active_consent(db.session, family.data.id, applied.data):
                family.errors = list(family.errors) + [NO_CONSENT]
                valid = False
        applicant = getattr(form, "applicant", None)
        if valid and applicant and family and applicant.data and family.data:
            if applicant.data.family_id != family.data.id:
                applicant.errors = list(applicant.errors) + [
                    "Заявитель должен быть членом этой семьи."
                ]
                valid = False
        return valid


class AssessmentView(OporaModelView):
    column_list = ("case", "domain", "need_level", "assessed_on", "assessed_by")
    column_filters = ("domain", "need_level", "assessed_on")
    column_default_sort = ("assessed_on", True)
    form_columns = ("case", "domain", "need_level", "notes", "assessed_on", "assessed_by")


class SupportPlanView(OporaModelView):
    column_list = ("case", "status", "approved_on", "approved_by")
    column_filters = ("status", "approved_on")
    column_default_sort = ("id", True)
    form_columns = ("case", "goal", "status", "approved_on", "approved_by")
    details_related = (
        (
            "activities",
            ("service", "responsible_role", "specialist", "planned_date", "status", "result"),
        ),
        ("revisions", ("number", "changed_at", "changed_by", "summary")),
    )


class PlanRevisionView(OporaModelView):
    column_list = ("plan", "number", "changed_at", "changed_by", "summary")
    column_filters = ("changed_at",)
    column_default_sort = ("changed_at", True)
    form_columns = ("plan", "number", "changed_at", "changed_by", "summary")


class PlanActivityView(OporaModelView):
    column_list = ("plan", "service", "responsible_role", "specialist", "planned_date", "status")
    column_filters = (
        "status",
        "responsible_role",
        "planned_date",
        "service",
        "service.kind",
        "specialist",
    )
    column_labels = {"service.kind": "Вид помощи"}
    column_default_sort = ("planned_date", False)
    form_columns = (
        "plan",
        "service",
        "responsible_role",
        "specialist",
        "planned_date",
        "status",
        "result",
        "done_on",
    )


class VisitView(OporaModelView):
    column_list = ("case", "visited_on", "staff", "purpose", "next_visit_on")
    column_searchable_list = ("purpose",)
    column_filters = ("visited_on", "staff", "next_visit_on")
    column_default_sort = ("visited_on", True)
    form_columns = ("case", "visited_on", "staff", "purpose", "findings", "next_visit_on")
    date_order = (("visited_on", "next_visit_on"),)


class TaskView(OporaModelView):
    column_list = ("title", "family", "role", "assignee", "status", "due_date")
    column_searchable_list = ("title",)
    column_filters = ("status", "role", "assignee", "due_date")
    column_default_sort = ("due_date", False)
    form_columns = (
        "family",
        "case",
        "title",
        "role",
        "assignee",
        "status",
        "due_date",
        "result",
    )
    details_related = (("assignments", ("staff", "assigned_at", "reason")),)


class TaskAssignmentView(OporaModelView):
    column_list = ("task", "staff", "assigned_at", "reason")
    column_filters = ("assigned_at", "staff")
    column_default_sort = ("assigned_at", True)
    form_columns = ("task", "staff", "assigned_at", "reason")


class ReviewView(OporaModelView):
    column_list = ("case", "due_on", "held_on", "reviewer", "effectiveness")
    column_filters = ("due_on", "held_on", "effectiveness", "reviewer")
    column_default_sort = ("due_on", True)
    form_columns = (
        "case",
        "due_on",
        "held_on",
        "reviewer",
        "plan_progress",
        "family_feedback",
        "effectiveness",
    )


class AppointmentView(OporaModelView):
    column_list = ("starts_at", "specialist", "family", "citizen_name", "channel", "purpose")
    column_searchable_list = ("citizen_name", "purpose")
    column_filters = ("starts_at", "specialist", "channel")
    column_default_sort = ("starts_at", True)
    form_columns = (
        "specialist",
        "starts_at",
        "channel",
        "family",
        "citizen_name",
        "citizen_phone",
        "purpose",
        "outcome",
    )

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        family, name = getattr(form, "family", None), getattr(form, "citizen_name", None)
        if valid and family is not None and name is not None:
            if not family.data and not name.data:
                name.errors = list(name.errors) + ["Укажите семью или ФИО заявителя."]
                valid = False
        return valid
