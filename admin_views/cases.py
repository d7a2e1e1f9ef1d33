"""Сопровождение: cases, assessments, the ИПСС, visits, tasks, reviews, reception."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from models import Person, db
from models.cases import CASE_STATUS, CLOSURE_REASON
from models.guards import case_refusal
from models.roles import reads_health
from workflows import documents as wf_documents
from workflows import rehab
from workflows.dates import centre_today
from workflows.scope import where_visible
from workflows.search import case_matches
from workflows.tasks import auto_assign_task

from . import documents
from .base import OporaModelView
from .people import KeySearchMixin
from .permissions import allowed
from .printing import signed_upload_url
from .rehab import ipra_links


class CaseView(KeySearchMixin, OporaModelView):
    """Cases: read and lightly corrected here; created through «Новое обращение» and
    moved through their statuses only by the case_flow pages (workflows/cases.py)."""

    audit_opening = True
    details_template = "admin/case_details.html"
    details_loads = ("plan",)  # the next steps ask whether the case has its ИПСС
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
    # A contract number from its beginning, a family's surname in any form (the keys).
    key_matches = staticmethod(case_matches)
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
    # Status, contract and closure fields are set by the workflows only.
    form_columns = ("application_date", "applicant", "lead_worker")
    column_details_list = (
        "family",
        "application_date",
        "applicant",
        "status",
        "decision_date",
        "contract_number",
        "contract_date",
        "start_date",
        "planned_end_date",
        "lead_worker",
        "closure_reason",
        "closed_on",
        "outcome",
        "created_at",
    )
    details_related = (
        ("assessments", ("domain", "need_level", "notes", "assessed_on")),
        ("plan", ("status", "goal", "approved_on")),
        ("activities", ("service", "responsible_role", "specialist", "planned_date", "status")),
        ("tasks", ("title", "role", "assignee", "status", "due_date")),
        ("visits", ("visited_on", "staff", "purpose", "next_visit_on")),
        ("reviews", ("due_on", "held_on", "effectiveness", "reviewer")),
        ("referrals", ("partner", "service", "status", "sent_on", "answer_due")),
        ("family_loans", ("unit", "child", "issued_on", "due_on", "returned_on")),
        ("family_reservations", ("type", "child", "requested_on", "priority", "status")),
    )

    def signed_contract(self, case):
        """The signed contract's scans the user may see (the case page says so)."""
        return wf_documents.signed_copies(db.session, current_user, case=case)

    def signed_upload(self, case):
        return signed_upload_url(case=case.id, type="signed_contract")

    # The assessment, the ИПСС, tasks and reviews are made by the case's workflow pages.
    details_related_by_workflow = frozenset(
        {"assessments", "plan", "tasks", "reviews", "referrals"}
    )

    column_formatters_detail = {
        "closure_reason": lambda view, context, model, name: CLOSURE_REASON.label(
            model.closure_reason
        ),
    }

    def documents_section(self, model):
        return documents.section("case", model, lambda a: allowed(self.role, "documents", a))

    def details_actions(self, model):
        return ipra_links(self.role, model.family_id)

    def details_notices(self, model):
        # The child's ИПРА is health data: the warning is for a role that reads it.
        if not reads_health(self.role):
            return []
        return [("warning", text) for text in rehab.case_outlasts_ipra(db.session, model)]

    def about(self, model) -> tuple[str | None, list[Person]]:
        """The family's page (if the user may open it) and the children the case is about:
        the family's children who are not archived, one query."""
        url = None
        if allowed(self.role, "family", "details"):
            url = url_for("family.details_view", id=model.family_id)
        children = db.session.scalars(
            select(Person)
            .where(
                Person.family_id == model.family_id,
                Person.relation == "child",
                Person.archived_at.is_(None),
                where_visible(Person, current_user),
            )
            .order_by(Person.birth_date, Person.id)
        ).all()
        return url, list(children)

    def status_label(self, model) -> str:
        return CASE_STATUS.label(model.status)

    def next_actions(self, model):
        from .case_steps import next_actions

        return next_actions(model, self.role)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """A closed or archived case is read-only: its edit page sends back to its details.

        A save that gets past this is refused by the closed-case guard (models/guards.py).
        """
        row_id = request.args.get("id")
        if row_id is not None:
            case = self.get_one(row_id)
            reason = case_refusal(case)
            if reason:
                flash(reason, "error")
                return redirect(url_for(".details_view", id=case.id))
        return super().edit_view()

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form.case_family_id = obj.family_id if obj is not None else None
        return form

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        applicant, family_id = (
            getattr(form, "applicant", None),
            getattr(form, "case_family_id", None),
        )
        if (
            valid
            and applicant is not None
            and applicant.data
            and family_id is not None
            and applicant.data.family_id != family_id
        ):
            applicant.errors = [*applicant.errors, "Заявитель должен быть членом этой семьи."]
            valid = False
        return valid


class AssessmentView(OporaModelView):
    audit_opening = True  # need levels and notes are health data
    column_list = ("case", "domain", "need_level", "assessed_on", "assessed_by")
    column_filters = ("domain", "need_level", "assessed_on")
    column_default_sort = ("assessed_on", True)
    form_columns = ("case", "domain", "need_level", "notes", "assessed_on", "assessed_by")


class SupportPlanView(OporaModelView):
    column_list = ("case", "status", "approved_on", "approved_by")
    column_filters = ("status", "approved_on")
    column_default_sort = ("id", True)
    # Status and approval change only through the ИПСС editor (workflows/plans.py).
    form_columns = ("case", "goal")
    column_details_list = ("case", "goal", "status", "approved_on", "approved_by")
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
    )
    # Status, result and date done come from the activity's task (workflows/tasks.py).
    column_details_list = (*form_columns, "status", "result", "done_on")


class VisitView(OporaModelView):
    audit_opening = True  # the findings are health data
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
    # Assignee, status and result change only through workflows/tasks.py («Мои задачи»,
    # the coordinator's board); a task created here is auto-assigned like any other.
    form_columns = ("family", "case", "title", "role", "due_date")
    column_details_list = (
        "family",
        "case",
        "activity",
        "title",
        "role",
        "assignee",
        "status",
        "due_date",
        "result",
        "closed_at",
        "created_at",
    )
    details_related = (("assignments", ("staff", "assigned_at", "reason")),)

    def edit_form(self, obj=None):
        # Who and what the task is for is fixed once it exists; title and due date may change.
        form = super().edit_form(obj)
        for name in ("family", "case", "role"):
            if name in form:
                delattr(form, name)
        return form

    def after_model_change(self, form, model, is_created):
        if is_created:
            today = centre_today()
            auto_assign_task(db.session, model.id, today, current_user)
            db.session.commit()


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
    # Booked only at reception (workflows/reception.py: the slot grid, opening days, one
    # visitor per slot); here the who, why and outcome are corrected, never the slot.
    form_columns = ("channel", "family", "citizen_name", "citizen_phone", "purpose", "outcome")
    column_details_list = ("specialist", "starts_at", *form_columns, "case")

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        family, name = getattr(form, "family", None), getattr(form, "citizen_name", None)
        if valid and family is not None and name is not None and not family.data and not name.data:
            name.errors = [*name.errors, "Укажите семью или ФИО заявителя."]
            valid = False
        return valid
