"""The coordinator's board: unassigned tasks by role, each specialist's load, cases near
or past their end; a task's page to assign, reassign or cancel it.

What the board shows comes from workflows/board.py, every change from workflows/tasks.py;
a refusal is shown next to its field.
"""

from __future__ import annotations

import html

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup
from wtforms import StringField

from models import ROLE, Staff, Task, db
from models.cases import TASK_STATUS
from models.terms import CASE_END_WINDOWS
from workflows import board as read
from workflows import tasks as t
from workflows.dates import centre_today

from .dashboard import cases_ending_url, cases_past_end_url
from .forms import IdField, WorkflowForm, parse_id
from .pages import PageView
from .permissions import allowed

# Specialists of a role in the workload table, most overdue first; the report lists all.
WORKLOAD_SHOWN = 10
# Specialists in the table of work done this week, most done first (a national centre has
# a thousand; the workload report lists all).
DONE_SHOWN = 30


class AssignForm(WorkflowForm):
    staff = IdField()


class BoardTaskForm(WorkflowForm):
    """Reassign (`do=reassign`: a new specialist, a reason, the version seen) or cancel."""

    do = StringField()
    staff = IdField()
    reason = StringField()
    version = IdField()


def candidate_options(candidates: list[read.Load]) -> Markup:
    """The <option>s of an assign form: written in one pass, not by a template loop (the
    board of a national centre offers a thousand of them)."""
    return Markup(
        "".join(
            f'<option value="{staff.id}">{html.escape(staff.name)} — открытых {staff.open}, '
            f"просрочено {staff.overdue}</option>"
            for staff in candidates
        )
    )


def _staff(staff_id: int | None) -> Staff | None:
    return db.session.get(Staff, staff_id) if staff_id is not None else None


class BoardView(PageView):
    """Unassigned tasks by role, each specialist's load, cases near or past their end."""

    @expose("/")
    def index(self):
        day = centre_today()
        board = read.board(db.session, current_user, day)
        chosen_id = parse_id(request.args.get("staff"))
        chosen = read.staff_tasks(db.session, current_user, chosen_id) if chosen_id else None
        db.session.commit()  # the load it counted is kept for the next one (workflows/kept.py)
        return self.render(
            "admin/workflow/board.html",
            by_role=board.unassigned,
            role_counts=board.unassigned_counts,
            by_load=board.load,
            workload_shown=WORKLOAD_SHOWN,
            done_shown=DONE_SHOWN,
            candidate_options=candidate_options,
            workload_report=(
                url_for("reports.report", slug="workload")
                if allowed(current_user.role, "report_workload", "list")
                else None
            ),
            chosen=chosen.name if chosen else None,
            chosen_tasks=chosen.tasks if chosen else [],
            windows=board.ending_counts,
            end_windows=CASE_END_WINDOWS,
            ending=board.ending,
            past=board.past,
            done=board.done,
            all_ending=cases_ending_url(current_user.role, day, CASE_END_WINDOWS[0]),
            all_past=cases_past_end_url(current_user.role, day),
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
        form = AssignForm()

        def assign():
            form.checked()
            t.assign_task(db.session, task.id, _staff(form.staff.data), current_user)

        self.tell(self.run(assign), lambda _: f"Задача «{task.title}» назначена: {task.assignee}.")
        return redirect(url_for(".index"))

    @expose("/task/<int:task_id>", methods=("GET", "POST"))
    def task(self, task_id: int):
        task = self._task(task_id)
        error = None
        if request.method == "POST":
            self.require("edit")
            form = BoardTaskForm()
            cancel = form.do.data == "cancel"

            def change():
                form.checked()
                if cancel:
                    t.cancel_task(db.session, task.id, current_user, form.reason.data)
                else:
                    t.reassign_task(
                        db.session,
                        task.id,
                        _staff(form.staff.data),
                        current_user,
                        form.reason.data or "",
                        form.version.data,
                    )

            error = self.run(change).refusal
            if error is None:
                flash("Задача отменена." if cancel else "Задача переназначена.", "success")
                return redirect(url_for(".task", task_id=task_id))
            task = self._task(task_id)
        district_id = task.family.district_id
        candidates = read.staff_load(db.session, centre_today(), task.role, district_id)
        others = [staff for staff in candidates if staff.id != task.assignee_id]
        nobody = (
            read.nobody_to_take(db.session, task.role, district_id, task.assignee_id)
            if task.is_open and not others
            else []
        )
        return self.render(
            "admin/workflow/board_task.html",
            task=task,
            error=error,
            values=request.form,
            candidates=others,
            nobody=nobody,
            today=centre_today(),
            status=TASK_STATUS,
            case_url=self.case_url(task.case_id),
            may_edit=self.may("edit"),
        )
