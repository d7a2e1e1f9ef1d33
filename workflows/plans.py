"""The ИПСС (individual support programme): edited, revised, approved into tasks.

Every save that changes something writes a PlanRevision naming who changed what.
Approval turns every planned activity into a task due on its planned date; after
approval a revision creates tasks for new activities, cancels the tasks of removed
ones (the activity itself stays, «отменено»: nothing is lost) and carries date,
service and role changes over to the open task.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from models import ROLE, Case, PlanActivity, PlanRevision, Service, SupportPlan, Task, User
from models.base import utcnow
from models.live import refuse_for_new_work
from models.roles import takes_activities

from .cases import ensure_open
from .errors import WorkflowError
from .reviews import schedule_next_review
from .tasks import cancel_task, create_task, retarget_task

CLOSED_ACTIVITY = ("done", "cancelled")


@dataclass(frozen=True)
class ActivityDraft:
    """One row of the editor: an existing activity (id) or a new one (id None)."""

    id: int | None
    service_id: int | None
    responsible_role: str
    planned_date: dt.date | None
    remove: bool = False
    row: str = ""  # the editor's row name, so a refusal lands next to the right field


def _describe(service: Service, role: str, day: dt.date) -> str:
    return f"{service.name} — {ROLE.label(role)}, {day:%d.%m.%Y}"


def _locked_plan(session: Session, case_id: int) -> SupportPlan | None:
    return session.scalar(
        select(SupportPlan)
        .where(SupportPlan.case_id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _active_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise WorkflowError("Случай не найден.")
    ensure_open(case)
    if case.status != "active":
        raise WorkflowError("ИПСС составляется и меняется только для случая на сопровождении.")
    return case


def _check_row(
    session: Session, case: Case, draft: ActivityDraft, kept_service_id: int | None = None
) -> tuple[Service, dt.date]:
    """The row's service and planned date, checked; a wrong row is refused next to its field.
    A new choice of service must be one active for new work; an activity keeps its own
    service (`kept_service_id`) though archived since."""
    service = session.get(Service, draft.service_id) if draft.service_id else None
    if service is None:
        raise WorkflowError("Выберите услугу.", field=f"{draft.row}service")
    if service.id != kept_service_id:
        refuse_for_new_work(service, f"{draft.row}service")
    if not takes_activities(draft.responsible_role):
        raise WorkflowError("Выберите ответственную роль.", field=f"{draft.row}role")
    day = draft.planned_date
    if day is None:
        raise WorkflowError("Укажите плановую дату.", field=f"{draft.row}planned_date")
    start, end = case.start_date, case.planned_end_date
    if (start and day < start) or (end and day > end):
        raise WorkflowError(
            f"Дата — в пределах срока сопровождения: с {start:%d.%m.%Y}"
            + (f" по {end:%d.%m.%Y}." if end else "."),
            field=f"{draft.row}planned_date",
        )
    return service, day


def save_plan(
    session: Session,
    case_id: int,
    actor: User,
    goal: str,
    drafts: list[ActivityDraft],
    today: dt.date,
    seen_version: int | None = None,
) -> PlanRevision | None:
    """Save the editor's plan; returns the revision written, or None if nothing changed."""
    case = _active_case(session, case_id)
    plan = _plan_to_edit(session, case_id, seen_version)
    approved = plan.status == "approved"
    changes = _set_goal(plan, goal)
    existing = {a.id: a for a in plan.activities}
    for draft in drafts:
        change = _apply_draft(session, case, plan, existing, draft, approved, today, actor)
        if change:
            changes.append(change)
    if not changes:
        return None
    summary = "; ".join(changes)
    return _revision(session, plan, actor, summary[0].upper() + summary[1:] + ".")


def _plan_to_edit(session: Session, case_id: int, seen_version: int | None) -> SupportPlan:
    """The case's plan, locked (a new draft if it has none); a stale editor is refused."""
    plan = _locked_plan(session, case_id)
    if plan is not None and seen_version is not None and plan.version != seen_version:
        raise WorkflowError(
            "ИПСС только что изменил другой пользователь. Ниже — текущая редакция; "
            "внесите свои изменения ещё раз."
        )
    if plan is None:
        plan = SupportPlan(case_id=case_id, status="draft")
        session.add(plan)
        session.flush()
    return plan


def _set_goal(plan: SupportPlan, goal: str) -> list[str]:
    """Set the plan's goal; the change in words, none if the goal is the same."""
    goal = (goal or "").strip()
    if goal == (plan.goal or ""):
        return []
    change = "цель изменена" if plan.goal else "указана цель"
    plan.goal = goal or None
    return [change]


def _apply_draft(
    session: Session,
    case: Case,
    plan: SupportPlan,
    existing: dict[int, PlanActivity],
    draft: ActivityDraft,
    approved: bool,
    today: dt.date,
    actor: User,
) -> str | None:
    """One row of the editor applied to the plan: the change it made in words, or None."""
    activity = existing.get(draft.id) if draft.id is not None else None
    if draft.id is not None and activity is None:
        raise WorkflowError("Мероприятие не относится к этой ИПСС.")
    if activity is not None and activity.status in CLOSED_ACTIVITY:
        return None  # a done or cancelled activity is history: not editable
    if draft.remove:
        if activity is None:
            return None
        removed = _describe(activity.service, activity.responsible_role, activity.planned_date)
        _remove(session, activity, approved)
        return f"исключено: {removed}"
    if activity is None and draft.service_id is None and draft.planned_date is None:
        return None  # an empty new row
    service, day = _check_row(
        session, case, draft, activity.service_id if activity is not None else None
    )
    if activity is None:
        activity = PlanActivity(
            plan_id=plan.id,
            service_id=service.id,
            responsible_role=draft.responsible_role,
            planned_date=day,
            status="planned",
        )
        session.add(activity)
        session.flush()
        added = _describe(service, draft.responsible_role, day)
        if approved:
            _task_for(session, case, activity, today, actor)
        return f"добавлено: {added}"
    diff = _update(session, activity, service, draft, day, approved, today, actor)
    return f"{service.name}: {', '.join(diff)}" if diff else None


def _update(
    session: Session,
    activity: PlanActivity,
    service: Service,
    draft: ActivityDraft,
    day: dt.date,
    approved: bool,
    today: dt.date,
    actor: User,
) -> list[str]:
    diff = []
    task = session.scalar(select(Task).where(Task.activity_id == activity.id))
    if activity.service_id != service.id:
        diff.append(f"услуга «{activity.service.name}» → «{service.name}»")
        activity.service_id = service.id
        activity.service = service
        if task is not None and task.is_open:
            task.title = service.name
    if activity.planned_date != day:
        diff.append(f"дата {activity.planned_date:%d.%m.%Y} → {day:%d.%m.%Y}")
        activity.planned_date = day
        if task is not None and task.is_open:
            task.due_date = day
    if activity.responsible_role != draft.responsible_role:
        diff.append(
            f"роль «{ROLE.label(activity.responsible_role)}» → «{ROLE.label(draft.responsible_role)}»"
        )
        activity.responsible_role = draft.responsible_role
        activity.specialist_id = None
        if task is not None and task.is_open:
            retarget_task(session, task.id, draft.responsible_role, today, actor)
    return diff


def _remove(session: Session, activity: PlanActivity, approved: bool) -> None:
    if not approved:
        session.delete(activity)
        session.flush()
        return
    # An approved plan's activity may have a task and a history: it is cancelled, not deleted.
    activity.status = "cancelled"
    task = session.scalar(select(Task).where(Task.activity_id == activity.id))
    if task is not None and task.is_open:
        cancel_task(session, task.id, None, "мероприятие исключено из ИПСС")


def _task_for(
    session: Session, case: Case, activity: PlanActivity, today: dt.date, actor: User | None
) -> Task:
    return create_task(
        session,
        family_id=case.family_id,
        case_id=case.id,
        activity_id=activity.id,
        title=activity.service.name,
        role=activity.responsible_role,
        due_date=activity.planned_date,
        today=today,
        prefer=activity.specialist,
        actor=actor,
    )


def _revision(session: Session, plan: SupportPlan, actor: User, summary: str) -> PlanRevision:
    number = session.execute(
        select(func.coalesce(func.max(PlanRevision.number), 0)).where(
            PlanRevision.plan_id == plan.id
        )
    ).scalar_one()
    revision = PlanRevision(
        plan_id=plan.id,
        number=number + 1,
        changed_at=utcnow(),
        changed_by_id=actor.staff_id,
        summary=summary,
    )
    session.add(revision)
    # A revision is a change of the plan: its version moves, so a stale editor is refused.
    flag_modified(plan, "goal")
    session.flush()
    return revision


def approve_plan(
    session: Session, case_id: int, actor: User, today: dt.date, seen_version: int | None = None
) -> list[Task]:
    """Approve a draft ИПСС: every planned activity becomes a task, auto-assigned."""
    case = _active_case(session, case_id)
    plan = _locked_plan(session, case_id)
    if plan is None:
        raise WorkflowError("ИПСС ещё не составлена.")
    if seen_version is not None and plan.version != seen_version:
        raise WorkflowError("ИПСС только что изменил другой пользователь; проверьте её ещё раз.")
    if plan.status == "approved":
        raise WorkflowError(f"ИПСС уже утверждена {plan.approved_on:%d.%m.%Y}.")
    if not plan.goal:
        raise WorkflowError("Укажите цель сопровождения.", field="goal")
    planned = [a for a in plan.activities if a.status not in CLOSED_ACTIVITY]
    if not planned:
        raise WorkflowError("В ИПСС нет ни одного мероприятия.")
    plan.status = "approved"
    plan.approved_on = today
    plan.approved_by_id = actor.staff_id
    tasks = [
        _task_for(session, case, a, today, actor)
        for a in planned
        if session.scalar(select(Task.id).where(Task.activity_id == a.id)) is None
    ]
    unassigned = sum(1 for t in tasks if t.assignee_id is None)
    summary = f"ИПСС утверждена: мероприятий {len(planned)}, создано задач {len(tasks)}"
    if unassigned:
        summary += f", без исполнителя {unassigned}"
    _revision(session, plan, actor, summary + ".")
    if not case.reviews:
        assert case.start_date is not None  # an active case has started (_active_case)
        schedule_next_review(session, case, case.start_date)
    return tasks
