"""Workflow pages beside the tables: «Мои задачи», the coordinator's board, the ИПСС.

The pages collect input and call workflows/; every state change and every
refusal (a Russian WorkflowError, shown next to its field) comes from there.
Access comes from the permission matrix; rows from workflows.scope.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from models import ROLE, Case, Family, Person, Review, Service, Staff, SupportPlan, Task, db
from models.audit import record_event
from models.base import full_name
from models.cases import ACTIVITY_STATUS, EFFECTIVENESS, PLAN_STATUS, TASK_STATUS
from models.constraints import integrity_message
from models.roles import roles_that
from models.terms import CASE_END_WINDOWS
from workflows import plans, reviews
from workflows import tasks as t
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from .base import STALE_MESSAGE
from .dashboard import cases_ending_url, cases_past_end_url
from .pages import PageView
from .permissions import allowed

NEW_ACTIVITY_ROWS = 3
# Unassigned tasks shown per role on the board, and cases of each end list, most urgent
# first; the rest are in the task and case lists the board links to.
UNASSIGNED_SHOWN = 15
ENDING_SHOWN = 10
# Candidates offered for an unassigned task (least loaded first; its page offers all), and
# specialists of a role in the board's workload table (most overdue first; the workload
# report lists all).
CANDIDATES_SHOWN = 10
WORKLOAD_SHOWN = 10


def parse_date(raw: str | None, field: str, required: bool = False) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise WorkflowError("Укажите дату.", field=field)
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise WorkflowError("Дата в формате дд.мм.гггг.", field=field) from None


def parse_int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


class WorkflowView(PageView):
    """A page of the task workflow: runs a change and turns a refusal into a message."""

    def attempt(self, change) -> WorkflowError | None:
        """Run a workflow change and commit it; a refusal rolls everything back."""
        try:
            change()
            db.session.commit()
        except WorkflowError as refused:
            db.session.rollback()
            return refused
        except StaleDataError:
            db.session.rollback()
            return WorkflowError(STALE_MESSAGE)
        except IntegrityError as exc:
            db.session.rollback()
            return WorkflowError(integrity_message(exc))
        return None

    def case_url(self, case_id: int | None) -> str | None:
        """The case's page if the user may open cases; lists ask per row, so built once a request."""
        if case_id is None:
            return None
        if "case_details_url" not in g:
            may = allowed(current_user.role, "case", "details")
            g.case_details_url = url_for("case.details_view") if may else None
        return None if g.case_details_url is None else f"{g.case_details_url}?id={case_id}"


def task_rows(query, limit: int = 500) -> list[Task]:
    return db.session.scalars(
        query.options(joinedload(Task.family), joinedload(Task.assignee)).limit(limit)
    ).all()


# --- «Мои задачи» -----------------------------------------------------------------------------


class MyTasksView(WorkflowView):
    """A specialist's open tasks: overdue, today, this week, later."""

    def _mine(self, task_id: int) -> Task:
        """One of the user's own tasks; anything else is 404, as if it did not exist."""
        if current_user.staff_id is None:
            abort(404)
        task = db.session.scalar(
            select(Task).where(
                Task.id == task_id,
                Task.assignee_id == current_user.staff_id,
                where_visible(Task, current_user),
            )
        )
        if task is None:
            abort(404)
        return task

    @expose("/")
    def index(self):
        day = centre_today()
        week_end = day + dt.timedelta(days=6 - day.weekday())
        tasks = []
        if current_user.staff_id is not None:  # an account without a staff member has no tasks
            tasks = task_rows(
                select(Task)
                .where(Task.assignee_id == current_user.staff_id, t.is_open())
                .where(where_visible(Task, current_user))
                .order_by(Task.due_date, Task.id)
            )
        groups = {"overdue": [], "today": [], "week": [], "later": []}
        for task in tasks:
            if task.due_date < day:
                groups["overdue"].append(task)
            elif task.due_date == day:
                groups["today"].append(task)
            elif task.due_date <= week_end:
                groups["week"].append(task)
            else:
                groups["later"].append(task)
        titles = {
            "overdue": "Просрочено",
            "today": "Сегодня",
            "week": "На этой неделе",
            "later": "Позже",
        }
        return self.render(
            "admin/workflow/my_tasks.html",
            groups=groups,
            titles=titles,
            today=day,
            status=TASK_STATUS,
            may_edit=self.may("edit"),
        )

    @expose("/<int:task_id>/start", methods=("POST",))
    def start(self, task_id: int):
        self.require("edit")
        task = self._mine(task_id)
        refused = self.attempt(lambda: t.start_task(db.session, task.id, current_user))
        flash(
            str(refused) if refused else f"Задача «{task.title}» в работе.",
            "error" if refused else "success",
        )
        return redirect(url_for(".index"))

    @expose("/<int:task_id>/", methods=("GET", "POST"))
    def task(self, task_id: int):
        task = self._mine(task_id)
        visit = t.is_visit_task(task)
        review = t.is_review_task(task)
        error = None
        if request.method == "POST" and task.is_open and not review:
            self.require("edit")
            form = request.form

            def complete():
                record = None
                if visit:
                    record = t.VisitRecord(
                        parse_date(form.get("visited_on"), "visited_on", required=True),
                        form.get("findings", ""),
                        parse_date(form.get("next_visit_on"), "next_visit_on"),
                    )
                t.complete_task(
                    db.session,
                    task.id,
                    current_user,
                    form.get("result", ""),
                    centre_today(),
                    record,
                )

            error = self.attempt(complete)
            if error is None:
                flash(f"Задача «{task.title}» выполнена.", "success")
                return redirect(url_for(".index"))
            task = self._mine(task_id)
        return self.render(
            "admin/workflow/task.html",
            task=task,
            visit=visit,
            review=review,
            error=error,
            values=request.form,
            today=centre_today(),
            status=TASK_STATUS,
            case_url=self.case_url(task.case_id),
            review_url=self._review_url(task),
            may_edit=self.may("edit"),
        )

    def _review_url(self, task: Task) -> str | None:
        if t.is_review_task(task) and allowed(current_user.role, "ipss", "review"):
            return url_for("ipss.plan", case_id=task.case_id, _anchor="review")
        return None


# --- the coordinator's board -------------------------------------------------------------------


class Load(NamedTuple):
    """A specialist who may take tasks, with their open and overdue task counts."""

    id: int
    name: str
    role: str
    open: int
    overdue: int


def staff_load(day: dt.date, role: str | None = None, district_id: int | None = None):
    """The Load of the staff who may take tasks (of `role` in `district_id`), as plain rows:
    a centre has thousands of specialists at national scale."""
    if role is None:
        staff_ids = select(Staff.id).where(
            Staff.active.is_(True), Staff.role.in_(roles_that("takes_activities"))
        )
    else:
        staff_ids = t.eligible_staff(role, district_id)
    load = t.workload(day, staff_ids).subquery()
    query = select(
        Staff.id,
        Staff.last_name,
        Staff.first_name,
        Staff.middle_name,
        Staff.role,
        load.c.open,
        load.c.overdue,
    ).join(load, load.c.id == Staff.id)
    if role is None:
        query = query.order_by(Staff.role, Staff.last_name, Staff.first_name, Staff.id)
    else:
        query = query.order_by(load.c.open, load.c.overdue, Staff.id)
    return [
        Load(staff_id, full_name(last, first, middle), staff_role, int(open_), int(overdue))
        for staff_id, last, first, middle, staff_role, open_, overdue in db.session.execute(query)
    ]


class BoardView(WorkflowView):
    """Unassigned tasks by role, each specialist's load, cases near or past their end."""

    @expose("/")
    def index(self):
        day = centre_today()
        role_counts = dict(
            db.session.execute(
                select(Task.role, func.count())
                .where(Task.status == "new", where_visible(Task, current_user))
                .group_by(Task.role)
                .order_by(Task.role)
            ).all()
        )
        # The most urgent unassigned tasks of each role, each with its candidates;
        # the rest wait in the task list («все» links there).
        load = staff_load(day)
        loads = {row.id: row for row in load}
        urgent = {
            role: task_rows(
                select(Task)
                .where(Task.status == "new", Task.role == role, where_visible(Task, current_user))
                .order_by(Task.due_date, Task.id),
                limit=UNASSIGNED_SHOWN,
            )
            for role in role_counts
        }
        # Who may take each task, least loaded first: one query for all of them.
        keys = {(task.role, task.family.district_id) for tasks in urgent.values() for task in tasks}
        candidates = {
            key: sorted(
                (loads[i] for i in eligible if i in loads),
                key=lambda row: (row.open, row.overdue, row.id),
            )[:CANDIDATES_SHOWN]
            for key, eligible in t.eligible_staff_of(db.session, keys).items()
        }
        by_role = {
            role: [(task, candidates[task.role, task.family.district_id]) for task in tasks]
            for role, tasks in urgent.items()
        }
        by_load: dict[str, list] = {}  # the workload table: each role, most overdue first
        for row in sorted(load, key=lambda row: (row.role, -row.overdue, -row.open, row.name)):
            by_load.setdefault(row.role, []).append(row)
        chosen = parse_int(request.args.get("staff"))
        chosen_tasks = []
        if chosen is not None:
            chosen_tasks = task_rows(
                select(Task)
                .where(Task.assignee_id == chosen, t.is_open(), where_visible(Task, current_user))
                .order_by(Task.due_date, Task.id)
            )
        soon = day + dt.timedelta(days=CASE_END_WINDOWS[0])
        active = and_(
            Case.status == "active",
            Case.archived_at.is_(None),
            Case.planned_end_date <= soon,  # the windows and the lists end there
            where_visible(Case, current_user),
        )
        windows = db.session.execute(
            select(
                *(
                    func.count()
                    .filter(Case.planned_end_date.between(day, day + dt.timedelta(days=n)))
                    .label(f"d{n}")
                    for n in CASE_END_WINDOWS
                ),
                func.count().filter(Case.planned_end_date < day).label("past"),
            ).where(active)
        ).one()
        ending, past = (
            db.session.scalars(
                select(Case)
                .options(joinedload(Case.family), joinedload(Case.lead_worker))
                .where(active, window)
                .order_by(Case.planned_end_date, Case.id)
                .limit(ENDING_SHOWN)
            ).all()
            for window in (Case.planned_end_date.between(day, soon), Case.planned_end_date < day)
        )
        all_ending = cases_ending_url(current_user.role, day, CASE_END_WINDOWS[0])
        all_past = cases_past_end_url(current_user.role, day)
        return self.render(
            "admin/workflow/board.html",
            by_role=by_role,
            role_counts=role_counts,
            by_load=by_load,
            workload_shown=WORKLOAD_SHOWN,
            workload_report=(
                url_for("reports.report", slug="workload")
                if allowed(current_user.role, "report_workload", "list")
                else None
            ),
            chosen=db.session.get(Staff, chosen) if chosen else None,
            chosen_tasks=chosen_tasks,
            windows=dict(zip([*(f"d{n}" for n in CASE_END_WINDOWS), "past"], windows, strict=True)),
            end_windows=CASE_END_WINDOWS,
            ending=ending,
            past=past,
            all_ending=all_ending,
            all_past=all_past,
            today=day,
            roles=ROLE,
            status=TASK_STATUS,
            may_edit=self.may("edit"),
            case_url=self.case_url,
        )

    def _task(self, task_id: int) -> Task:
        return self.visible_or_404(Task, task_id)

    @expose("/assign/<int:task_id>", methods=("POST",))
    def assign(self, task_id: int):
        self.require("edit")
        task = self._task(task_id)
        staff = db.session.get(Staff, parse_int(request.form.get("staff")) or 0)
        refused = self.attempt(lambda: t.assign_task(db.session, task.id, staff, current_user))
        if refused:
            flash(str(refused), "error")
        else:
            flash(f"Задача «{task.title}» назначена: {task.assignee}.", "success")
        return redirect(url_for(".index"))

    @expose("/task/<int:task_id>", methods=("GET", "POST"))
    def task(self, task_id: int):
        task = self._task(task_id)
        error = None
        if request.method == "POST":
            self.require("edit")
            form = request.form
            if form.get("do") == "cancel":
                error = self.attempt(
                    lambda: t.cancel_task(db.session, task.id, current_user, form.get("reason"))
                )
                done = "Задача отменена."
            else:
                staff = db.session.get(Staff, parse_int(form.get("staff")) or 0)
                error = self.attempt(
                    lambda: t.reassign_task(
                        db.session,
                        task.id,
                        staff,
                        current_user,
                        form.get("reason", ""),
                        parse_int(form.get("version")),
                    )
                )
                done = "Задача переназначена."
            if error is None:
                flash(done, "success")
                return redirect(url_for(".task", task_id=task_id))
            task = self._task(task_id)
        return self.render(
            "admin/workflow/board_task.html",
            task=task,
            error=error,
            values=request.form,
            candidates=staff_load(centre_today(), task.role, task.family.district_id),
            today=centre_today(),
            status=TASK_STATUS,
            case_url=self.case_url(task.case_id),
            may_edit=self.may("edit"),
        )


# --- the ИПСС editor ---------------------------------------------------------------------------


class IpssView(WorkflowView):
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
        error = None
        if request.method == "POST":
            self.require("edit")
            drafts = []

            def save():
                drafts.extend(self._drafts(case))
                revision = plans.save_plan(
                    db.session,
                    case.id,
                    current_user,
                    request.form.get("goal", ""),
                    drafts,
                    centre_today(),
                    parse_int(request.form.get("version")),
                )
                flash(
                    f"ИПСС сохранена: редакция {revision.number}."
                    if revision
                    else "Изменений нет.",
                    "success" if revision else "info",
                )

            error = self.attempt(save)
            if error is None:
                return redirect(url_for(".plan", case_id=case_id))
            case = self._case(case_id)
        else:
            record_event(db.session, "view", Case.__tablename__, case.id)
            db.session.commit()
        return self._render_plan(case, error, request.form if error else {})

    def _drafts(self, case: Case) -> list[plans.ActivityDraft]:
        form = request.form
        rows = [f"a-{a.id}-" for a in (case.plan.activities if case.plan else [])]
        rows += [f"new-{n}-" for n in range(NEW_ACTIVITY_ROWS)]
        drafts = []
        for row in rows:
            if f"{row}role" not in form:
                continue
            drafts.append(
                plans.ActivityDraft(
                    id=int(row.split("-")[1]) if row.startswith("a-") else None,
                    service_id=parse_int(form.get(f"{row}service")),
                    responsible_role=form.get(f"{row}role", ""),
                    planned_date=parse_date(form.get(f"{row}planned_date"), f"{row}planned_date"),
                    remove=form.get(f"{row}remove") == "y",
                    row=row,
                )
            )
        return drafts

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
        services = db.session.scalars(select(Service).order_by(Service.kind, Service.name)).all()
        editable = self.may("edit") and case.status == "active"
        new_rows = range(NEW_ACTIVITY_ROWS) if editable else range(0)
        rows = [f"a-{a.id}-" for a in (plan.activities if plan else [])]
        rows += [f"new-{n}-" for n in new_rows]
        # Fields that show their own refusal; any other refusal goes above the form.
        field_names = ["goal", "held_on", "plan_progress", "effectiveness"] + [
            f"{row}{name}" for row in rows for name in ("service", "role", "planned_date")
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
        made: list = []

        def approve():
            made.extend(
                plans.approve_plan(
                    db.session,
                    case.id,
                    current_user,
                    centre_today(),
                    parse_int(request.form.get("version")),
                )
            )

        error = self.attempt(approve)
        if error is not None:
            return self._render_plan(self._case(case_id), error, {})
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
        form = request.form
        error = self.attempt(
            lambda: reviews.hold_review(
                db.session,
                case.id,
                current_user,
                parse_date(form.get("held_on"), "held_on", required=True),
                form.get("plan_progress", ""),
                form.get("family_feedback", ""),
                form.get("effectiveness", ""),
                centre_today(),
            )
        )
        if error is not None:
            return self._render_plan(self._case(case_id), error, form)
        flash("Мониторинг записан.", "success")
        return redirect(url_for(".plan", case_id=case_id, _anchor="review"))

    @expose("/<int:case_id>/print")
    def print_view(self, case_id: int):
        self.require("details")
        case = self._case(case_id)
        record_event(db.session, "view", Case.__tablename__, case.id)
        db.session.commit()
        children = db.session.scalars(
            select(Person)
            .where(Person.family_id == case.family_id, Person.relation == "child")
            .order_by(Person.birth_date)
        ).all()
        return self.render(
            "admin/workflow/ipss_print.html",
            case=case,
            plan=case.plan,
            family=db.session.get(Family, case.family_id),
            children=children,
            centre=current_app.config["CENTRE_NAME"],
            role_label=ROLE.label,
            activity_status=ACTIVITY_STATUS,
            printed_on=centre_today(),
        )
