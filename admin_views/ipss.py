"""The ИПСС of a case: writing it (goal and activities, each save a revision), approving
it (each activity becomes a task), monitoring, the printed programme.

Every change comes from workflows/plans.py and workflows/reviews.py; a refusal is
shown next to its field.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, StringField

from models import ROLE, Case, Family, Person, Review, Service, SupportPlan, Task, db
from models.cases import ACTIVITY_STATUS, EFFECTIVENESS, PLAN_STATUS, TASK_STATUS
from models.live import active_for_new_work
from models.roles import roles_that
from workflows import plans, reviews
from workflows.centre import centre_settings
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from .forms import IdField, WorkflowForm, date_field
from .openings import record_opening
from .pages import PageView
from .printing import IPSS_STYLE_SHEET, printed

NEW_ACTIVITY_ROWS = 3


class PlanForm(WorkflowForm):
    """The goal and the version seen; `plan_form` adds a row of fields per activity."""

    goal = StringField()
    version = IdField()

    rows: tuple[str, ...] = ()

    def drafts(self) -> list[plans.ActivityDraft]:
        """An ActivityDraft for each row the page sent."""
        drafts = []
        for row in self.rows:
            if not self[f"{row}role"].raw_data:
                continue
            drafts.append(
                plans.ActivityDraft(
                    id=int(row.split("-")[1]) if row.startswith("a-") else None,
                    service_id=self[f"{row}service"].data,
                    responsible_role=self[f"{row}role"].data or "",
                    planned_date=self[f"{row}planned_date"].data,
                    remove=self[f"{row}remove"].data,
                    row=row,
                )
            )
        return drafts


def activity_rows(case: Case, new_rows: range) -> list[str]:
    """The row prefixes of a plan's activities, then of the empty rows for new ones."""
    rows = [f"a-{a.id}-" for a in (case.plan.activities if case.plan else [])]
    return rows + [f"new-{n}-" for n in new_rows]


def plan_form(case: Case) -> PlanForm:
    """The PlanForm of `case`, with the fields of each of its activities and new rows,
    each named `{row}{field}` as the page draws them."""
    rows = activity_rows(case, range(NEW_ACTIVITY_ROWS))
    fields: dict = {"rows": tuple(rows)}
    for row in rows:
        fields[f"{row}service"] = IdField()
        fields[f"{row}role"] = StringField()
        fields[f"{row}planned_date"] = date_field("Плановая дата")
        fields[f"{row}remove"] = BooleanField()
    return type("CasePlanForm", (PlanForm,), fields)()


class ReviewForm(WorkflowForm):
    held_on = date_field("Дата мониторинга")
    plan_progress = StringField()
    family_feedback = StringField()
    effectiveness = StringField()


class ApproveForm(WorkflowForm):
    version = IdField()


class IpssView(PageView):
    """The ИПСС of a case: edit, revisions, approval, tasks, monitoring, print."""

    def _case(self, case_id: int) -> Case:
        case = db.session.scalar(
            select(Case).where(
                Case.id == case_id, Case.archived_at.is_(None), where_visible(Case, current_user)
            )
        )
        if case is None:
            abort(404)
        return case

    @staticmethod
    def _record_view(case: Case) -> None:
        """A programme holds a family's needs: every reading of it is in the audit log."""
        record_opening(case)

    @expose("/")
    def index(self):
        cases = db.session.execute(
            select(Case, SupportPlan.status)
            .outerjoin(SupportPlan, SupportPlan.case_id == Case.id)
            .options(joinedload(Case.family), joinedload(Case.lead_worker))
            .where(
                Case.status == "active",
                Case.archived_at.is_(None),
                where_visible(Case, current_user),
            )
            .order_by(Case.planned_end_date, Case.id)
            .limit(300)
        ).all()
        return self.render("admin/workflow/ipss_list.html", cases=cases, plan_status=PLAN_STATUS)

    @expose("/<int:case_id>", methods=("GET", "POST"))
    def plan(self, case_id: int):
        case = self._case(case_id)
        self.require("details")
        if request.method == "GET":
            self._record_view(case)
            return self._render_plan(case, None, request.form)  # a restored draft's, or none
        self.require("edit")
        form = plan_form(case)

        def save():
            form.checked()
            return plans.save_plan(
                db.session,
                case.id,
                current_user,
                form.goal.data or "",
                form.drafts(),
                centre_today(),
                form.version.data,
            )

        outcome = self.run(save)
        if not outcome.ok:
            return self._render_plan(self._case(case_id), outcome.refusal, request.form)
        revision = outcome.value
        if revision:
            flash(f"ИПСС сохранена: редакция {revision.number}.", "success")
        else:
            flash("Изменений нет.", "info")
        return redirect(url_for(".plan", case_id=case_id))

    def _render_plan(self, case: Case, error: WorkflowError | None, values):
        plan = case.plan
        tasks = {}
        if plan is not None:
            ids = [a.id for a in plan.activities]
            for task in db.session.scalars(
                select(Task).options(joinedload(Task.assignee)).where(Task.activity_id.in_(ids))
            ):
                tasks[task.activity_id] = task
        held = db.session.scalars(
            select(Review)
            .options(joinedload(Review.reviewer))
            .where(Review.case_id == case.id)
            .order_by(Review.due_on)
        ).all()
        # New rows offer the services active for new work; a row keeps its own (archived
        # since) — `kept` names those, the template offers them on their rows only.
        kept = {a.service_id for a in plan.activities} if plan is not None else set()
        services = db.session.scalars(
            select(Service)
            .where(or_(active_for_new_work(Service), Service.id.in_(kept)))
            .order_by(Service.kind, Service.name)
        ).all()
        editable = self.may("edit") and case.status == "active"
        new_rows = range(NEW_ACTIVITY_ROWS) if editable else range(0)
        # Fields that show their own refusal; any other refusal goes above the form.
        field_names = ["goal", "held_on", "plan_progress", "effectiveness"] + [
            f"{row}{name}"
            for row in activity_rows(case, new_rows)
            for name in ("service", "role", "planned_date")
        ]
        return self.render(
            "admin/workflow/ipss.html",
            case=case,
            plan=plan,
            tasks=tasks,
            reviews=held,
            services=services,
            roles=[(r, ROLE.label(r)) for r in roles_that("takes_activities")],
            role_label=ROLE.label,
            activity_status=ACTIVITY_STATUS,
            task_status=TASK_STATUS,
            plan_status=PLAN_STATUS,
            effectiveness=EFFECTIVENESS,
            new_rows=new_rows,
            field_names=field_names,
            editable=editable,
            may_approve=self.may("approve") and editable,
            may_review=self.may("review") and case.status == "active",
            error=error,
            values=values,
            today=centre_today(),
            case_url=self.case_url(case.id),
        )

    @expose("/<int:case_id>/approve", methods=("POST",))
    def approve(self, case_id: int):
        self.require("approve")
        case = self._case(case_id)
        form = ApproveForm()

        def approve():
            form.checked()
            return plans.approve_plan(
                db.session, case.id, current_user, centre_today(), form.version.data
            )

        outcome = self.run(approve)
        if not outcome.ok:
            return self._render_plan(self._case(case_id), outcome.refusal, {})
        made = outcome.value
        unassigned = sum(1 for task in made if task.assignee_id is None)
        message = f"ИПСС утверждена. Создано задач: {len(made)}."
        if unassigned:
            message += f" Без исполнителя: {unassigned} — они на доске руководителя."
        flash(message, "success")
        return redirect(url_for(".plan", case_id=case_id))

    @expose("/<int:case_id>/review", methods=("POST",))
    def review(self, case_id: int):
        self.require("review")
        case = self._case(case_id)
        form = ReviewForm()

        def hold():
            form.checked()
            reviews.hold_review(
                db.session,
                case.id,
                current_user,
                form.held_on.data,
                form.plan_progress.data or "",
                form.family_feedback.data or "",
                form.effectiveness.data or "",
                centre_today(),
            )

        outcome = self.run(hold)
        if not outcome.ok:
            return self._render_plan(self._case(case_id), outcome.refusal, request.form)
        flash("Мониторинг записан.", "success")
        return redirect(url_for(".plan", case_id=case_id, _anchor="review"))

    @expose("/<int:case_id>/print.pdf")
    @expose("/<int:case_id>/print")
    def print_view(self, case_id: int):
        self.require("details")
        case = self._case(case_id)
        self._record_view(case)
        children = db.session.scalars(
            select(Person)
            .where(Person.family_id == case.family_id, Person.relation == "child")
            .order_by(Person.birth_date)
        ).all()
        return printed(
            self,
            "admin/workflow/ipss_print.html",
            (f"ИПСС, случай № {case.id}.pdf", f"ipss-{case.id}.pdf"),
            ("support_case", case.id),
            style_sheet=IPSS_STYLE_SHEET,
            case=case,
            plan=case.plan,
            family=db.session.get(Family, case.family_id),
            children=children,
            centre_name=centre_settings(db.session).full_name,
            role_label=ROLE.label,
            activity_status=ACTIVITY_STATUS,
            printed_on=centre_today(),
        )
