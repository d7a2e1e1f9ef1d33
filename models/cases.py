"""Social support: cases, needs assessment, the ИПСС, visits, tasks and reviews."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal,
    text,
)
from sqlalchemy import (
    column as sql_column,
)
from sqlalchemy.orm import Mapped, relationship

from .accounts import ROLE
from .base import (
    ArchivedMixin,
    Choices,
    CreatedMixin,
    Model,
    VersionedMixin,
    add_months,
    column,
)
from .keys import key_column
from .terms import SUPPORT_TERM_MONTHS

if TYPE_CHECKING:
    # The models its relationships name, for the type checker only: at run time the
    # model modules import one another and SQLAlchemy resolves the names itself.
    from .people import Family, Person
    from .reference import Service, Staff
    from .referrals import Referral

CASE_STATUS = Choices(
    "case_status",
    {
        "application": "заявление",
        "assessment": "оценка потребностей",
        "active": "сопровождение",
        "closed": "закрыт",
    },
)

CLOSURE_REASON = Choices(
    "closure_reason",
    {
        "goal_achieved": "цель достигнута",
        "refused": "отказ семьи",
        "moved": "переезд",
        "term_expired": "истёк срок",
    },
)

LIFE_DOMAIN = Choices(
    "life_domain",
    {
        "medical": "медицинская",
        "psychological": "психологическая",
        "pedagogical": "педагогическая",
        "legal": "правовая",
        "social": "социальная",
        "material": "материальная",
    },
)

NEED_LEVEL = Choices(
    "need_level", {"none": "нет", "low": "низкая", "medium": "средняя", "high": "высокая"}
)

PLAN_STATUS = Choices("plan_status", {"draft": "проект", "approved": "утверждена"})

ACTIVITY_STATUS = Choices(
    "activity_status",
    {
        "planned": "запланировано",
        "in_progress": "выполняется",
        "done": "выполнено",
        "cancelled": "отменено",
    },
)

TASK_STATUS = Choices(
    "task_status",
    {
        "new": "новая",
        "assigned": "назначена",
        "in_progress": "в работе",
        "done": "выполнена",
        "cancelled": "отменена",
    },
)
OPEN_TASK_STATUSES = ("new", "assigned", "in_progress")
OPEN_TASK_ROWS = "status IN ('new', 'assigned', 'in_progress')"
ACTIVE_CASE_ROWS = "status = 'active' AND archived_at IS NULL"

EFFECTIVENESS = Choices(
    "effectiveness",
    {"high": "высокая", "medium": "средняя", "low": "низкая", "none": "нет результата"},
)


class Case(ArchivedMixin, VersionedMixin, CreatedMixin, Model):
    """A support case (случай сопровождения) of one family, at most six months long."""

    __tablename__ = "support_case"
    __table_args__ = (
        CheckConstraint(
            "planned_end_date IS NULL OR start_date IS NULL OR planned_end_date >= start_date",
            name="end_after_start",
        ),
        CheckConstraint(
            sql_column("planned_end_date").is_(None)
            | sql_column("start_date").is_(None)
            | (
                sql_column("planned_end_date")
                <= add_months(sql_column("start_date"), literal(SUPPORT_TERM_MONTHS))
            ),
            name="six_months",
        ),
        CheckConstraint(
            "(status = 'closed') = (closure_reason IS NOT NULL AND closed_on IS NOT NULL)",
            name="closure_complete",
        ),
        CheckConstraint(
            "status IN ('application', 'assessment') OR start_date IS NOT NULL",
            name="active_has_start",
        ),
        CheckConstraint("closed_on IS NULL OR closed_on >= application_date", name="closed_order"),
        # A case is active only under a signed contract with a planned end.
        CheckConstraint(
            "status IN ('application', 'assessment') OR (contract_number IS NOT NULL "
            "AND contract_date IS NOT NULL AND planned_end_date IS NOT NULL)",
            name="active_has_contract",
        ),
        Index("ix_support_case_status_end", "status", "planned_end_date"),
        # The reports count a period's applications and closures (by reason).
        Index(
            "ix_support_case_live_applied",
            "application_date",
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
        Index(
            "ix_support_case_live_closed",
            "closed_on",
            "closure_reason",
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
        # The board and the home page count and list active cases by their planned end.
        Index(
            "ix_support_case_active_end",
            "planned_end_date",
            "id",
            sqlite_where=text(ACTIVE_CASE_ROWS),
            postgresql_where=text(ACTIVE_CASE_ROWS),
        ),
        # One application covers every kind of help: one open case per family.
        Index(
            "uq_support_case_open_family",
            "family_id",
            unique=True,
            sqlite_where=text("status <> 'closed' AND archived_at IS NULL"),
            postgresql_where=text("status <> 'closed' AND archived_at IS NULL"),
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    family_id: Mapped[int] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    application_date: Mapped[dt.date] = column(Date, label="Дата заявления", index=True)
    applicant_id: Mapped[int] = column(
        ForeignKey("person.id", ondelete="RESTRICT"), label="Заявитель", index=True
    )
    decision_date: Mapped[dt.date | None] = column(Date, label="Дата решения о нуждаемости")
    contract_number: Mapped[str | None] = column(String(64), label="Номер договора", unique=True)
    contract_key: Mapped[str | None] = key_column("support_case", "contract_key")
    contract_date: Mapped[dt.date | None] = column(Date, label="Дата договора")
    start_date: Mapped[dt.date | None] = column(Date, label="Начало сопровождения")
    planned_end_date: Mapped[dt.date | None] = column(Date, label="Плановое окончание")
    lead_worker_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Ведущий специалист", index=True
    )
    status: Mapped[str] = CASE_STATUS.column(label="Статус", default="application")
    closure_reason: Mapped[str | None] = CLOSURE_REASON.column(label="Причина закрытия")
    closed_on: Mapped[dt.date | None] = column(Date, label="Дата закрытия")
    outcome: Mapped[str | None] = column(Text, label="Результат сопровождения")

    family: Mapped[Family] = relationship(back_populates="cases", info={"label": "Семья"})
    applicant: Mapped[Person] = relationship(info={"label": "Заявитель"})
    lead_worker: Mapped[Staff | None] = relationship(info={"label": "Ведущий специалист"})
    # The case's assessment is its live rows: an archived one no longer speaks for the case.
    assessments: Mapped[list[Assessment]] = relationship(
        primaryjoin="and_(Case.id == Assessment.case_id, Assessment.archived_at.is_(None))",
        passive_deletes="all",
        back_populates="case",
        info={"label": "Оценка потребностей"},
    )
    plan: Mapped[SupportPlan | None] = relationship(back_populates="case", info={"label": "ИПСС"})
    activities: Mapped[list[PlanActivity]] = relationship(
        secondary="support_plan",
        primaryjoin="Case.id == SupportPlan.case_id",
        secondaryjoin="SupportPlan.id == PlanActivity.plan_id",
        viewonly=True,
        order_by="PlanActivity.planned_date",
        info={"label": "Мероприятия ИПСС"},
    )
    visits: Mapped[list[Visit]] = relationship(
        passive_deletes="all",
        back_populates="case",
        order_by="Visit.visited_on",
        info={"label": "Визиты"},
    )
    tasks: Mapped[list[Task]] = relationship(
        passive_deletes="all",
        back_populates="case",
        order_by="Task.due_date",
        info={"label": "Задачи"},
    )
    reviews: Mapped[list[Review]] = relationship(
        passive_deletes="all",
        back_populates="case",
        order_by="Review.due_on",
        info={"label": "Мониторинг"},
    )
    referrals: Mapped[list[Referral]] = relationship(
        passive_deletes="all",
        back_populates="case",
        order_by="Referral.prepared_on",
        info={"label": "Направления партнёрам"},
    )

    def __str__(self) -> str:
        return f"Случай № {self.id} от {self.application_date:%d.%m.%Y}"


class Assessment(ArchivedMixin, CreatedMixin, Model):
    """The need level in one life domain (health data for the medical domain)."""

    __tablename__ = "assessment"
    # One live assessment per domain: an archived one does not stop a new one.
    __table_args__ = (
        Index(
            "uq_assessment_case_id_domain",
            "case_id",
            "domain",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    # Its own index: the unique one above holds the live rows only, and the family
    # page's timeline reads a case's assessments archived or not.
    case_id: Mapped[int] = column(
        ForeignKey("support_case.id", ondelete="RESTRICT"), label="Случай", index=True
    )
    domain: Mapped[str] = LIFE_DOMAIN.column(label="Сфера жизнедеятельности")
    need_level: Mapped[str] = NEED_LEVEL.column(label="Нуждаемость", info={"health": True})
    notes: Mapped[str | None] = column(Text, label="Заключение", info={"health": True})
    assessed_on: Mapped[dt.date] = column(Date, label="Дата оценки")
    assessed_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Кто оценил"
    )

    case: Mapped[Case] = relationship(back_populates="assessments", info={"label": "Случай"})
    assessed_by: Mapped[Staff | None] = relationship(info={"label": "Кто оценил"})

    def __str__(self) -> str:
        # Names the row in headings, pickers, lists and flashes that any role with the
        # row may read: the need level and the notes (health data) stay out of it.
        number = f" № {self.id}" if self.id is not None else ""
        domain = f" ({LIFE_DOMAIN.label(self.domain)} сфера)" if self.domain else ""
        when = f" от {self.assessed_on:%d.%m.%Y}" if self.assessed_on is not None else ""
        return f"Оценка потребностей{number}{domain}{when}"

    def health_label(self) -> str:
        """The row's name with its need level, for a role that reads health data only
        (admin_views.modelview.fields.row_label asks the role first)."""
        return f"{self}: нуждаемость {NEED_LEVEL.label(self.need_level)}"


class SupportPlan(VersionedMixin, Model):
    """The individual support programme (ИПСС) of a case."""

    __tablename__ = "support_plan"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    case_id: Mapped[int] = column(
        ForeignKey("support_case.id", ondelete="RESTRICT"), label="Случай", unique=True
    )
    status: Mapped[str] = PLAN_STATUS.column(label="Статус", default="draft")
    goal: Mapped[str | None] = column(Text, label="Цель сопровождения")
    approved_on: Mapped[dt.date | None] = column(Date, label="Утверждена")
    approved_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Утвердил"
    )

    case: Mapped[Case] = relationship(back_populates="plan", info={"label": "Случай"})
    approved_by: Mapped[Staff | None] = relationship(info={"label": "Утвердил"})
    activities: Mapped[list[PlanActivity]] = relationship(
        passive_deletes="all",
        back_populates="plan",
        order_by="PlanActivity.planned_date",
        info={"label": "Мероприятия"},
    )
    revisions: Mapped[list[PlanRevision]] = relationship(
        passive_deletes="all",
        back_populates="plan",
        order_by="PlanRevision.number",
        info={"label": "Редакции"},
    )

    def __str__(self) -> str:
        return f"ИПСС к случаю № {self.case_id}"


class PlanRevision(Model):
    """One revision of an ИПСС: who changed it, when and what."""

    __tablename__ = "plan_revision"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    plan_id: Mapped[int] = column(ForeignKey("support_plan.id", ondelete="RESTRICT"), label="ИПСС")
    number: Mapped[int] = column(Integer, label="Редакция")
    changed_at: Mapped[dt.datetime] = column(DateTime(timezone=True), label="Изменена")
    changed_by_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Кто изменил"
    )
    summary: Mapped[str] = column(Text, label="Что изменено")

    plan: Mapped[SupportPlan] = relationship(back_populates="revisions", info={"label": "ИПСС"})
    changed_by: Mapped[Staff | None] = relationship(info={"label": "Кто изменил"})

    def __str__(self) -> str:
        return f"Редакция {self.number}"


class PlanActivity(VersionedMixin, Model):
    """One activity of an ИПСС: a service, a responsible role and a date."""

    __tablename__ = "plan_activity"
    # The pilot report counts a period's activities by kind and specialist (index-only).
    __table_args__ = (
        Index("ix_plan_activity_planned", "planned_date", "service_id", "specialist_id", "status"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    plan_id: Mapped[int] = column(
        ForeignKey("support_plan.id", ondelete="RESTRICT"), label="ИПСС", index=True
    )
    service_id: Mapped[int] = column(ForeignKey("service.id", ondelete="RESTRICT"), label="Услуга")
    responsible_role: Mapped[str] = ROLE.column(label="Ответственная роль")
    specialist_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Специалист", index=True
    )
    planned_date: Mapped[dt.date] = column(Date, label="Плановая дата")
    status: Mapped[str] = ACTIVITY_STATUS.column(label="Статус", default="planned")
    result: Mapped[str | None] = column(Text, label="Результат")
    done_on: Mapped[dt.date | None] = column(Date, label="Выполнено")

    plan: Mapped[SupportPlan] = relationship(back_populates="activities", info={"label": "ИПСС"})
    service: Mapped[Service] = relationship(info={"label": "Услуга"})
    specialist: Mapped[Staff | None] = relationship(info={"label": "Специалист"})

    def __str__(self) -> str:
        return f"{self.service} до {self.planned_date:%d.%m.%Y}"


class Visit(ArchivedMixin, CreatedMixin, Model):
    """A home visit (патронаж)."""

    __tablename__ = "visit"
    __table_args__ = (
        CheckConstraint("next_visit_on IS NULL OR next_visit_on >= visited_on", name="next_order"),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    case_id: Mapped[int] = column(
        ForeignKey("support_case.id", ondelete="RESTRICT"), label="Случай", index=True
    )
    visited_on: Mapped[dt.date] = column(Date, label="Дата визита", index=True)
    staff_id: Mapped[int] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Специалист", index=True
    )
    purpose: Mapped[str] = column(Text, label="Цель визита")
    findings: Mapped[str | None] = column(Text, label="Результаты", info={"health": True})
    next_visit_on: Mapped[dt.date | None] = column(Date, label="Следующий визит")

    case: Mapped[Case] = relationship(back_populates="visits", info={"label": "Случай"})
    staff: Mapped[Staff] = relationship(info={"label": "Специалист"})

    def __str__(self) -> str:
        return f"Визит {self.visited_on:%d.%m.%Y}"


class Task(VersionedMixin, CreatedMixin, Model):
    """A unit of work for one role, then one specialist of that role."""

    __tablename__ = "task"
    __table_args__ = (
        CheckConstraint(
            "status IN ('new', 'cancelled') OR assignee_id IS NOT NULL",
            name="assigned_has_assignee",
        ),
        CheckConstraint(
            "(status IN ('done', 'cancelled')) = (closed_at IS NOT NULL)",
            name="closed_when_final",
        ),
        Index("ix_task_assignee_status_due", "assignee_id", "status", "due_date"),
        Index("ix_task_role_status", "role", "status"),
        # Everybody's workload (open tasks per assignee, overdue by due date).
        Index(
            "ix_task_open_assignee",
            "assignee_id",
            "due_date",
            sqlite_where=text(OPEN_TASK_ROWS),
            postgresql_where=text(OPEN_TASK_ROWS),
        ),
        # Tasks done in a period, per assignee (the workload report).
        Index(
            "ix_task_done_closed",
            "closed_at",
            "assignee_id",
            sqlite_where=text("status = 'done'"),
            postgresql_where=text("status = 'done'"),
        ),
        # The board: each role's unassigned tasks, most urgent first.
        Index(
            "ix_task_new_role_due",
            "role",
            "due_date",
            "id",
            sqlite_where=text("status = 'new'"),
            postgresql_where=text("status = 'new'"),
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    family_id: Mapped[int] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    case_id: Mapped[int | None] = column(
        ForeignKey("support_case.id", ondelete="RESTRICT"), label="Случай", index=True
    )
    activity_id: Mapped[int | None] = column(
        ForeignKey("plan_activity.id", ondelete="RESTRICT"),
        label="Мероприятие ИПСС",
        unique=True,
    )
    title: Mapped[str] = column(String(255), label="Задача")
    role: Mapped[str] = ROLE.column(label="Роль исполнителя")
    assignee_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Исполнитель"
    )
    status: Mapped[str] = TASK_STATUS.column(label="Статус", default="new")
    due_date: Mapped[dt.date] = column(Date, label="Срок", index=True)
    result: Mapped[str | None] = column(Text, label="Результат")
    closed_at: Mapped[dt.datetime | None] = column(DateTime(timezone=True), label="Завершена")
    # What made the scheduler create the task («review:17», «term:5»): unique, so a
    # job that runs twice, or on two servers at once, cannot create it twice.
    source_key: Mapped[str | None] = column(String(64), label="Основание", unique=True)

    family: Mapped[Family] = relationship(info={"label": "Семья"})
    case: Mapped[Case | None] = relationship(back_populates="tasks", info={"label": "Случай"})
    activity: Mapped[PlanActivity | None] = relationship(info={"label": "Мероприятие ИПСС"})
    assignee: Mapped[Staff | None] = relationship(info={"label": "Исполнитель"})
    assignments: Mapped[list[TaskAssignment]] = relationship(
        passive_deletes="all",
        back_populates="task",
        order_by="TaskAssignment.assigned_at",
        info={"label": "История назначений"},
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TASK_STATUSES

    def is_overdue(self, today: dt.date) -> bool:
        return self.is_open and self.due_date < today

    def __str__(self) -> str:
        return self.title


class TaskAssignment(Model):
    """Who a task was given to, by whom and why: the reassignment history."""

    __tablename__ = "task_assignment"

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    task_id: Mapped[int] = column(
        ForeignKey("task.id", ondelete="RESTRICT"), label="Задача", index=True
    )
    staff_id: Mapped[int] = column(ForeignKey("staff.id", ondelete="RESTRICT"), label="Исполнитель")
    assigned_at: Mapped[dt.datetime] = column(DateTime(timezone=True), label="Назначена")
    assigned_by_id: Mapped[int | None] = column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), label="Кто назначил"
    )
    reason: Mapped[str | None] = column(Text, label="Причина")

    task: Mapped[Task] = relationship(back_populates="assignments", info={"label": "Задача"})
    staff: Mapped[Staff] = relationship(info={"label": "Исполнитель"})

    def __str__(self) -> str:
        return f"{self.staff} с {self.assigned_at:%d.%m.%Y}"


class Review(CreatedMixin, Model):
    """A periodic quality check (мониторинг) of a case."""

    __tablename__ = "review"
    __table_args__ = (
        Index("ix_review_case_due", "case_id", "due_on"),
        Index("ix_review_held_on", "held_on"),
        # One scheduled (not yet held) review per case at a time.
        Index(
            "uq_review_open_case",
            "case_id",
            unique=True,
            sqlite_where=text("held_on IS NULL"),
            postgresql_where=text("held_on IS NULL"),
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    case_id: Mapped[int] = column(
        ForeignKey("support_case.id", ondelete="RESTRICT"), label="Случай"
    )
    due_on: Mapped[dt.date] = column(Date, label="Плановая дата")
    held_on: Mapped[dt.date | None] = column(Date, label="Проведён")
    reviewer_id: Mapped[int | None] = column(
        ForeignKey("staff.id", ondelete="RESTRICT"), label="Проверяющий"
    )
    plan_progress: Mapped[str | None] = column(Text, label="Выполнение ИПСС")
    family_feedback: Mapped[str | None] = column(Text, label="Отзыв семьи")
    effectiveness: Mapped[str | None] = EFFECTIVENESS.column(label="Эффективность")

    case: Mapped[Case] = relationship(back_populates="reviews", info={"label": "Случай"})
    reviewer: Mapped[Staff | None] = relationship(info={"label": "Проверяющий"})

    def __str__(self) -> str:
        return f"Мониторинг {self.due_on:%d.%m.%Y}"
