"""«Мои задачи»: a specialist's open tasks by due date; taking one into work, completing it.

The lists come from workflows/task_lists.py, every change from workflows/tasks.py;
a refusal is shown next to its field.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField

from models import Task, db
from models.cases import TASK_STATUS
from models.roles import reads_health
from workflows import task_lists
from workflows import tasks as t
from workflows.dates import centre_today
from workflows.scope import where_visible

from .forms import WorkflowForm, date_field
from .pages import PageView
from .permissions import allowed

GROUP_TITLES = {
    "overdue": "Просрочено",
    "today": "Сегодня",
    "week": "На этой неделе",
    "later": "Позже",
}


class CompleteTaskForm(WorkflowForm):
    """The result of a task and, for a home visit, what the visit found."""

    result = StringField()
    visited_on = date_field("Дата визита")
    findings = StringField()
    next_visit_on = date_field("Следующий визит")

    def visit_record(self) -> t.VisitRecord:
        return t.VisitRecord(
            self.visited_on.data, self.findings.data or "", self.next_visit_on.data
        )


class MyTasksView(PageView):
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
        return self.render(
            "admin/workflow/my_tasks.html",
            groups=task_lists.my_tasks(db.session, current_user, day),
            titles=GROUP_TITLES,
            today=day,
            status=TASK_STATUS,
            may_edit=self.may("edit"),
        )

    @expose("/<int:task_id>/start", methods=("POST",))
    def start(self, task_id: int):
        self.require("edit")
        task = self._mine(task_id)
        outcome = self.run(lambda: t.start_task(db.session, task.id, current_user))
        self.tell(outcome, f"Задача «{task.title}» в работе.")
        return redirect(url_for(".index"))

    @expose("/<int:task_id>/", methods=("GET", "POST"))
    def task(self, task_id: int):
        task = self._mine(task_id)
        visit = t.is_visit_task(task)
        review = t.is_review_task(task)
        step = t.task_step(task)
        by_step = step is not None and t.step_pending(db.session, task, step, centre_today())
        error = None
        if request.method == "POST" and task.is_open and not review:
            self.require("edit")
            form = CompleteTaskForm()

            def complete():
                form.checked()
                t.complete_task(
                    db.session,
                    task.id,
                    current_user,
                    form.result.data or "",
                    centre_today(),
                    form.visit_record() if visit else None,
                )

            error = self.run(complete).refusal
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
            by_step=by_step and not review,
            step_name=t.STEP_NAMES.get(step or ""),
            step_url=self.step_url(step, task.case_id, task.family_id),
            may_edit=self.may("edit"),
        )

    @staticmethod
    def step_url(step: str | None, case_id: int | None, family_id: int) -> str | None:
        """The page that records the step a task names, if the user may record it there;
        a task of no case goes to the family's intake page (its application, its consent)."""
        role = current_user.role
        if step is None:
            return None
        if step == "consent" or case_id is None:
            if allowed(role, "intake", "create"):
                return url_for("intake.family", family_id=family_id)
            return None
        if step == "review":
            if allowed(role, "ipss", "review"):
                return url_for("ipss.plan", case_id=case_id, _anchor="review")
            return None
        if not allowed(role, "case_flow", "edit"):
            return None
        if step == "assessment" and not reads_health(role):
            return None  # need levels are health data
        page = "assessment" if step == "assessment" else "decision"
        return url_for(f"case_flow.{page}", case_id=case_id)

    def _review_url(self, task: Task) -> str | None:
        if t.is_review_task(task) and allowed(current_user.role, "ipss", "review"):
            return url_for("ipss.plan", case_id=task.case_id, _anchor="review")
        return None
