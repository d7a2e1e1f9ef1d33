"""Tasks: created for a role, given to one specialist of it, carried out or cancelled.

Statuses go `new → assigned → in_progress → done | cancelled`; every change is
one function here, and each locks the task's row first, so two people acting on
the same task at once cannot both succeed: the second reads the first one's
result and gets a Russian refusal.

Auto-assignment gives a task to the least-loaded *active* specialist of its role
(an active staff member of that role whose login account of that role is active):
fewest open tasks, then fewest overdue tasks, then the lower staff id. A district-bound
role (models/roles.py) works on its own territory, so only staff attached to the
family's district (table staff_district) qualify; if nobody fits, the task stays
`new` and waits on the coordinator's board.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from models import ROLE, Case, Family, Staff, Task, TaskAssignment, User, Visit
from models.base import utcnow
from models.cases import OPEN_TASK_STATUSES, TASK_STATUS
from models.live import active_for_new_work, refuse_for_new_work
from models.reference import staff_district
from models.roles import dispatches, district_bound

from .errors import WorkflowError

AUTO_REASON = "Автоназначение: наименьшая загрузка"
# A task is a home visit when its service or title says so (the catalogue's
# «Домашнее визитирование (патронаж) семьи»); its completion records the visit.
VISIT_WORDS = ("визит", "патронаж")
REVIEW_KEY_PREFIX = "review:"
# A task that names a step of the family's case is done by that step (the page that
# records it), never by a line of text: step → the words of a title that name it.
# The first match wins («Проверить сведения…, получить согласие» is the consent).
STEP_WORDS = (
    ("consent", ("получить согласие", "согласие на обработку", "согласия на обработку")),
    ("review", ("провести мониторинг",)),
    ("contract", ("заключить договор", "решение и договор", "оформить договор")),
    ("assessment", ("оценку потребностей", "оценку индивидуальных потребностей")),
)
STEP_NAMES = {
    "consent": "согласие на обработку персональных данных",
    "review": "мониторинг",
    "contract": "решение и договор",
    "assessment": "оценка потребностей",
}
STEP_REFUSAL = (
    "Эта задача выполняется шагом «{step}»: нажмите «Перейти к шагу» и запишите его — "
    "задача закроется сама."
)


# --- what the database can count -----------------------------------------------------


def is_open() -> ColumnElement[bool]:
    return Task.status.in_(OPEN_TASK_STATUSES)


def is_overdue(today: dt.date) -> ColumnElement[bool]:
    """Overdue is a fact of the dates, never a flag some job has to set."""
    return and_(is_open(), Task.due_date < today)


def _eligible() -> tuple[ColumnElement[bool], ...]:
    """Who may take tasks of their role: staff active for new work (working, not archived)
    with an active account of that role."""
    return (active_for_new_work(Staff), User.active.is_(True), User.role == Staff.role)


def eligible_staff(role: str, district_id: int | None) -> Select[int]:
    """Staff ids that may receive a task of `role` for a family of `district_id`."""
    query = (
        select(Staff.id)
        .join(User, User.staff_id == Staff.id)
        .where(Staff.role == role, *_eligible())
    )
    if district_bound(role):
        query = query.where(
            Staff.id.in_(
                select(staff_district.c.staff_id).where(staff_district.c.district_id == district_id)
            )
        )
    return query


def eligible_staff_of(
    session: Session, keys: set[tuple[str, int | None]]
) -> dict[tuple[str, int | None], set[int]]:
    """`eligible_staff` for many (role, district) pairs at once: one query for the roles
    bound to districts (those districts' staff only: a national centre's staff and their
    districts make tens of thousands of pairs), one for the others."""
    bound = {(role, district) for role, district in keys if district_bound(role)}
    free = {role for role, _ in keys if not district_bound(role)}
    by_role: dict[str, set[int]] = defaultdict(set)
    by_district: dict[tuple[str, int | None], set[int]] = defaultdict(set)
    if bound:
        for staff_id, role, district_id in session.execute(
            select(Staff.id, Staff.role, staff_district.c.district_id)
            .join(User, User.staff_id == Staff.id)
            .join(staff_district, staff_district.c.staff_id == Staff.id)
            .where(
                Staff.role.in_({role for role, _ in bound}),
                staff_district.c.district_id.in_({district for _, district in bound}),
                *_eligible(),
            )
        ):
            by_district[role, district_id].add(staff_id)
    if free:
        for staff_id, role in session.execute(
            select(Staff.id, Staff.role)
            .join(User, User.staff_id == Staff.id)
            .where(Staff.role.in_(free), *_eligible())
        ):
            by_role[role].add(staff_id)
    return {
        (role, district_id): (
            by_district[role, district_id] if district_bound(role) else by_role[role]
        )
        for role, district_id in keys
    }


def workload(today: dt.date, staff_ids: Select[int] | None = None) -> Select[int, int, int]:
    """(staff id, open tasks, overdue tasks) per staff member (of `staff_ids`), by SQL
    aggregation of the open tasks alone."""
    overdue = func.sum(case((Task.due_date < today, 1), else_=0))
    per_assignee = select(
        Task.assignee_id.label("staff_id"),
        func.count().label("open"),
        overdue.label("overdue"),
    ).where(is_open(), Task.assignee_id.is_not(None))
    if staff_ids is not None:
        per_assignee = per_assignee.where(Task.assignee_id.in_(staff_ids))
    load = per_assignee.group_by(Task.assignee_id).subquery()
    query = select(
        Staff.id,
        func.coalesce(load.c.open, 0).label("open"),
        func.coalesce(load.c.overdue, 0).label("overdue"),
    ).outerjoin(load, load.c.staff_id == Staff.id)
    if staff_ids is not None:
        query = query.where(Staff.id.in_(staff_ids))
    return query


def pick_assignee(
    session: Session, role: str, district_id: int | None, today: dt.date
) -> Staff | None:
    """The least-loaded eligible specialist: open tasks, then overdue tasks, then staff id."""
    load = workload(today, eligible_staff(role, district_id)).subquery()
    staff_id = session.scalar(
        select(load.c.id).order_by(load.c.open, load.c.overdue, load.c.id).limit(1)
    )
    return None if staff_id is None else session.get(Staff, staff_id)


# --- refusals --------------------------------------------------------------------------


def _locked(session: Session, task_id: int) -> Task:
    """The task, re-read under a row lock (PostgreSQL); the current status, not a stale one."""
    task = session.scalar(
        select(Task)
        .where(Task.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is None:
        raise WorkflowError("Задача не найдена.")
    return task


def _status_word(task: Task) -> str:
    return TASK_STATUS.label(task.status)


def _require_open(task: Task) -> None:
    if not task.is_open:
        raise WorkflowError(f"Задача уже {_status_word(task)}: изменить её нельзя.")


def _require_dispatcher(actor: User | None) -> None:
    if actor is not None and not dispatches(actor.role):
        raise WorkflowError("Назначать и отменять задачи может только руководитель службы.")


def _require_assignee(task: Task, actor: User) -> None:
    if actor.staff_id is None or task.assignee_id != actor.staff_id:
        raise WorkflowError("Это задача другого специалиста.")


def _family_district(session: Session, task: Task) -> int | None:
    return session.scalar(select(Family.district_id).where(Family.id == task.family_id))


def _is_eligible(session: Session, task: Task, staff: Staff) -> bool:
    district_id = _family_district(session, task)
    query = eligible_staff(task.role, district_id).where(Staff.id == staff.id)
    return session.scalar(query) is not None


def _check_eligible(session: Session, task: Task, staff: Staff | None) -> Staff:
    if staff is None:
        raise WorkflowError("Выберите исполнителя.", field="staff")
    refuse_for_new_work(staff, "staff")
    if not _is_eligible(session, task, staff):
        where = " на участке семьи" if district_bound(task.role) else ""
        raise WorkflowError(
            f"{staff} не может получить задачу: нужен работающий сотрудник с действующей "
            f"учётной записью роли «{ROLE.label(task.role)}»{where}.",
            field="staff",
        )
    return staff


def _give(session: Session, task: Task, staff: Staff, actor: User | None, reason: str) -> None:
    task.assignee_id = staff.id
    task.status = "assigned"
    if task.activity is not None:
        task.activity.specialist_id = staff.id  # the plan names who carries it out
    session.add(
        TaskAssignment(
            task=task,
            staff_id=staff.id,
            assigned_at=utcnow(),
            assigned_by_id=actor.id if actor else None,
            reason=reason,
        )
    )


# --- the transitions -----------------------------------------------------------------------


def create_task(
    session: Session,
    *,
    family_id: int,
    title: str,
    role: str,
    due_date: dt.date,
    today: dt.date,
    case_id: int | None = None,
    activity_id: int | None = None,
    source_key: str | None = None,
    assignee: Staff | None = None,
    prefer: Staff | None = None,
    actor: User | None = None,
) -> Task:
    """A new task for `role`; given to `assignee` (who must be eligible), else to
    `prefer` if eligible (the case's lead worker), else to the least-loaded specialist.

    With nobody eligible the task stays `new` (unassigned) for the coordinator's board.
    """
    if role not in ROLE.codes:
        raise WorkflowError("Неизвестная роль исполнителя.", field="role")
    task = Task(
        family_id=family_id,
        case_id=case_id,
        activity_id=activity_id,
        title=title[:255],
        role=role,
        status="new",
        due_date=due_date,
        source_key=source_key,
    )
    session.add(task)
    session.flush()
    if assignee is not None:
        staff = _check_eligible(session, task, assignee)
        _give(session, task, staff, actor, "Назначено при создании")
    else:
        _auto_assign(session, task, today, actor, prefer)
    session.flush()
    return task


def _auto_assign(
    session: Session, task: Task, today: dt.date, actor: User | None, prefer: Staff | None = None
) -> None:
    if prefer is not None and _is_eligible(session, task, prefer):
        _give(session, task, prefer, actor, "Назначено ведущему специалисту случая")
        return
    chosen = pick_assignee(session, task.role, _family_district(session, task), today)
    if chosen is not None:
        _give(session, task, chosen, actor, AUTO_REASON)


def auto_assign_task(session: Session, task_id: int, today: dt.date, actor: User | None) -> Task:
    """Give a new task to the least-loaded eligible specialist, if there is one."""
    task = _locked(session, task_id)
    if task.status == "new":
        _auto_assign(session, task, today, actor)
        session.flush()
    return task


def retarget_task(
    session: Session, task_id: int, role: str, today: dt.date, actor: User | None
) -> Task:
    """The plan changed an activity's responsible role: its open task goes to that role."""
    task = _locked(session, task_id)
    _require_open(task)
    task.role = role
    task.assignee_id = None
    task.status = "new"
    _auto_assign(session, task, today, actor)
    session.flush()
    return task


def assign_task(session: Session, task_id: int, staff: Staff | None, actor: User | None) -> Task:
    """Give an unassigned (`new`) task to a specialist; refused if someone already did."""
    _require_dispatcher(actor)
    task = _locked(session, task_id)
    if task.status != "new":
        who = f": исполнитель — {task.assignee}" if task.assignee_id else ""
        raise WorkflowError(f"Задачу уже назначил другой пользователь{who}.")
    _give(session, task, _check_eligible(session, task, staff), actor, "Назначено руководителем")
    session.flush()
    return task


def reassign_task(
    session: Session,
    task_id: int,
    staff: Staff | None,
    actor: User | None,
    reason: str,
    seen_version: int | None = None,
) -> Task:
    """Give an assigned task to someone else, with a reason; the history keeps both."""
    _require_dispatcher(actor)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("Укажите причину переназначения.", field="reason")
    task = _locked(session, task_id)
    if seen_version is not None and task.version != seen_version:
        raise WorkflowError(
            "Задачу только что изменил другой пользователь; откройте её заново.", field="staff"
        )
    _require_open(task)
    if task.status == "new":
        raise WorkflowError("Задача ещё не назначена: назначьте её исполнителя.")
    staff = _check_eligible(session, task, staff)
    if staff.id == task.assignee_id:
        raise WorkflowError("Задача уже у этого исполнителя.", field="staff")
    _give(session, task, staff, actor, reason)
    session.flush()
    return task


def start_task(session: Session, task_id: int, actor: User) -> Task:
    """The assignee takes the task into work (`assigned → in_progress`)."""
    task = _locked(session, task_id)
    _require_assignee(task, actor)
    _require_open(task)
    if task.status != "assigned":
        raise WorkflowError(
            f"Взять в работу можно только назначенную задачу, а эта — {_status_word(task)}."
        )
    task.status = "in_progress"
    if task.activity is not None and task.activity.status == "planned":
        task.activity.status = "in_progress"
    session.flush()
    return task


@dataclass(frozen=True)
class VisitRecord:
    """What a home visit found, recorded with the task that asked for it."""

    visited_on: dt.date | None
    findings: str
    next_visit_on: dt.date | None = None


def is_visit_task(task: Task) -> bool:
    text = task.activity.service.name if task.activity is not None else task.title
    return any(word in text.lower() for word in VISIT_WORDS)


def is_review_task(task: Task) -> bool:
    """A reminder of a missed review: it closes when the review is held."""
    return (task.source_key or "").startswith(REVIEW_KEY_PREFIX)


def step_of(
    title: str, source_key: str | None = None, activity_id: int | None = None
) -> str | None:
    """The step (a key of STEP_NAMES) a task names, or None for other work.

    An ИПСС activity is recorded with its result, so it names no step here.
    """
    if (source_key or "").startswith(REVIEW_KEY_PREFIX):
        return "review"
    if activity_id is not None:
        return None
    text = (title or "").lower()
    for step, words in STEP_WORDS:
        if any(word in text for word in words):
            return step
    return None


def task_step(task: Task) -> str | None:
    return step_of(task.title, task.source_key, task.activity_id)


def step_case(session: Session, task: Task) -> Case | None:
    """The case the task's step belongs to: its own, else the family's open one."""
    if task.case_id is not None:
        return task.case
    return session.scalar(
        select(Case).where(
            Case.family_id == task.family_id, Case.status != "closed", Case.archived_at.is_(None)
        )
    )


def step_pending(session: Session, task: Task, step: str, today: dt.date) -> bool:
    """Is the step the task names still to be done (so only the step may close it)?"""
    if step == "consent":
        from .consent import has_active_consent  # consent.py closes these tasks: no cycle

        return not has_active_consent(session, task.family_id, today)
    case = step_case(session, task)
    if case is None or case.status == "closed":
        return step != "review"  # the step needs the application first (intake)
    if step == "assessment":  # recorded, and corrected until the contract
        return case.status in ("application", "assessment")
    if step == "contract":
        return case.status in ("application", "assessment")
    return case.status == "active"  # a review is recorded while the case is supported


def complete_step_tasks(
    session: Session, step: str, family_id: int, case_id: int | None, result: str
) -> list[Task]:
    """The step was recorded: close the family's open tasks that named it (those of the
    case, and those of no case). An assigned task is done; one nobody held is cancelled."""
    query = select(Task).where(Task.family_id == family_id, is_open(), Task.activity_id.is_(None))
    if case_id is not None:
        query = query.where(or_(Task.case_id.is_(None), Task.case_id == case_id))
    closed = []
    for task in session.scalars(query.order_by(Task.id).with_for_update()):
        if task_step(task) != step:
            continue
        task.status = "done" if task.assignee_id else "cancelled"
        task.result = result
        task.closed_at = utcnow()
        closed.append(task)
    session.flush()
    return closed


def complete_task(
    session: Session,
    task_id: int,
    actor: User,
    result: str,
    today: dt.date,
    visit: VisitRecord | None = None,
) -> Task:
    """The assignee records the result (and, for a visit task, the visit) and closes the task.

    One step from `assigned` or `in_progress`: the task passes through «в работе».
    A next visit date gives the same specialist the next visit task.
    """
    task = _locked(session, task_id)
    _require_assignee(task, actor)
    _require_open(task)
    if task.status == "new":
        raise WorkflowError("Задача ещё не назначена.")
    if is_review_task(task):
        raise WorkflowError(
            "Это задача мониторинга: запишите мониторинг на странице ИПСС, и задача закроется сама."
        )
    step = task_step(task)
    if step is not None and step_pending(session, task, step, today):
        raise WorkflowError(STEP_REFUSAL.format(step=STEP_NAMES[step]))
    result = (result or "").strip()
    if not result:
        raise WorkflowError("Опишите результат.", field="result")
    if is_visit_task(task):
        _record_visit(session, task, visit, today)
    task.status = "done"
    task.result = result
    task.closed_at = utcnow()
    if task.activity is not None:
        task.activity.status = "done"
        task.activity.result = result
        task.activity.done_on = today
    session.flush()
    if visit is not None and visit.next_visit_on is not None and is_visit_task(task):
        create_task(
            session,
            family_id=task.family_id,
            case_id=task.case_id,
            title="Домашнее визитирование: следующий визит",
            role=task.role,
            due_date=visit.next_visit_on,
            today=today,
            assignee=task.assignee,
            actor=actor,
        )
    return task


def _record_visit(session: Session, task: Task, visit: VisitRecord | None, today: dt.date) -> None:
    if task.case_id is None:
        raise WorkflowError("Визит записывается к случаю сопровождения, а у задачи его нет.")
    if visit is None or visit.visited_on is None:
        raise WorkflowError("Укажите дату визита.", field="visited_on")
    if visit.visited_on > today:
        raise WorkflowError("Дата визита не может быть в будущем.", field="visited_on")
    if not visit.findings.strip():
        raise WorkflowError("Опишите, что установлено при визите.", field="findings")
    if visit.next_visit_on is not None and visit.next_visit_on <= visit.visited_on:
        raise WorkflowError("Следующий визит — позже этого.", field="next_visit_on")
    session.add(
        Visit(
            case_id=task.case_id,
            visited_on=visit.visited_on,
            staff_id=task.assignee_id,
            purpose=task.title,
            findings=visit.findings.strip(),
            next_visit_on=visit.next_visit_on,
        )
    )


def cancel_task(session: Session, task_id: int, actor: User | None, reason: str) -> Task:
    """Cancel an open task with a reason (the coordinator, or the system for a revised plan)."""
    _require_dispatcher(actor)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("Укажите причину отмены.", field="reason")
    task = _locked(session, task_id)
    _require_open(task)
    task.status = "cancelled"
    task.result = f"Отменена: {reason}"
    task.closed_at = utcnow()
    if task.activity is not None and task.activity.status in ("planned", "in_progress"):
        task.activity.status = "cancelled"
    session.flush()
    return task


def close_task_by_key(session: Session, source_key: str, result: str) -> Task | None:
    """The work a scheduler task asked for was done another way: close the task.

    An assigned task is done; one nobody held is cancelled (done needs a doer).
    """
    task = session.scalar(
        select(Task)
        .where(Task.source_key == source_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is None or not task.is_open:
        return None
    task.status = "done" if task.assignee_id else "cancelled"
    task.result = result
    task.closed_at = utcnow()
    session.flush()
    return task
