"""The panel: one Admin, its views grouped by area in a Russian menu."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user

import models as m

from . import accounts, cases, dashboard, people, reference, rental, reports
from .auth import csp_nonce

REFERENCE = "Справочники"
FAMILIES = "Семьи"
SUPPORT = "Сопровождение"
RENTAL = "Пункт проката"
ADMINISTRATION = "Администрирование"

# (view class, model, menu name, category, endpoint)
VIEWS = (
    (people.FamilyView, m.Family, "Семьи", FAMILIES, "family"),
    (people.PersonView, m.Person, "Члены семей", FAMILIES, "person"),
    (people.ConsentView, m.Consent, "Согласия на обработку ПДн", FAMILIES, "consent"),
    (
        people.ProgrammeEnrolmentView,
        m.ProgrammeEnrolment,
        "Участие в программах",
        FAMILIES,
        "programme_enrolment",
    ),
    (cases.CaseView, m.Case, "Случаи сопровождения", SUPPORT, "case"),
    (cases.TaskView, m.Task, "Задачи", SUPPORT, "task"),
    (cases.AssessmentView, m.Assessment, "Оценка потребностей", SUPPORT, "assessment"),
    (cases.SupportPlanView, m.SupportPlan, "ИПСС", SUPPORT, "support_plan"),
    (cases.PlanActivityView, m.PlanActivity, "Мероприятия ИПСС", SUPPORT, "plan_activity"),
    (cases.PlanRevisionView, m.PlanRevision, "Редакции ИПСС", SUPPORT, "plan_revision"),
    (cases.VisitView, m.Visit, "Визиты", SUPPORT, "visit"),
    (cases.ReviewView, m.Review, "Мониторинг", SUPPORT, "review"),
    (cases.TaskAssignmentView, m.TaskAssignment, "История назначений", SUPPORT, "task_assignment"),
    (cases.AppointmentView, m.Appointment, "Предварительная запись", SUPPORT, "appointment"),
    (rental.EquipmentUnitView, m.EquipmentUnit, "Единицы ТСР", RENTAL, "equipment_unit"),
    (rental.LoanView, m.Loan, "Выдачи", RENTAL, "loan"),
    (rental.ReservationView, m.Reservation, "Очередь", RENTAL, "reservation"),
    (rental.EquipmentTypeView, m.EquipmentType, "Виды ТСР", RENTAL, "equipment_type"),
    (rental.LoanExtensionView, m.LoanExtension, "Продления", RENTAL, "loan_extension"),
    (reference.DepartmentView, m.Department, "Отделения", REFERENCE, "department"),
    (reference.DistrictView, m.District, "Участки", REFERENCE, "district"),
    (reference.StaffView, m.Staff, "Сотрудники", REFERENCE, "staff"),
    (reference.ServiceView, m.Service, "Виды помощи", REFERENCE, "service"),
    (reference.ProgrammeView, m.Programme, "Программы", REFERENCE, "programme"),
    (reference.PartnerView, m.Partner, "Партнёры", REFERENCE, "partner"),
    (
        reference.PartnerAgreementView,
        m.PartnerAgreement,
        "Соглашения с партнёрами",
        REFERENCE,
        "partner_agreement",
    ),
    (
        reference.CouncilMeetingView,
        m.CouncilMeeting,
        "Координационный совет",
        REFERENCE,
        "council_meeting",
    ),
    (reference.EventView, m.Event, "Мероприятия", REFERENCE, "event"),
    (accounts.UserView, m.User, "Учётные записи", ADMINISTRATION, "user"),
    (accounts.AuditRecordView, m.AuditRecord, "Журнал аудита", ADMINISTRATION, "audit_record"),
)


# Pages that are not a table: (view class, menu name, category, endpoint, url).
WORKFLOW_VIEWS = ((reports.ReportsView, "Отчёты", None, "reports", "/reports"),)


class HomeView(AdminIndexView):
    """The start page: who you are, the figures your role acts on, where your work is."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    @expose("/")
    def index(self):
        groups: dict[str, list[tuple[str, str]]] = {}  # in menu order
        for view in self.admin._views:
            if getattr(view, "model", None) is not None and view.is_accessible():
                url = url_for(f"{view.endpoint}.index_view")
                groups.setdefault(view.category, []).append((view.name, url))
        for view in self.admin._views:
            if isinstance(view, reports.ReportsView) and view.is_accessible():
                for title, _description, url in view.items():
                    groups.setdefault(view.name, []).append((title, url))
        today = dt.datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
        figures, charts = dashboard.build(current_user, today)
        return self.render(
            "admin/home.html", groups=groups, figures=figures, charts=charts, today=today
        )


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="Опора",
        index_view=HomeView(name="Главная", url="/"),
        theme=Bootstrap4Theme(base_template="admin/opora_base.html", fluid=True),
        category_icon_classes={},
        csp_nonce_generator=csp_nonce,
        # Our Russian strings for the few messages Flask-Admin's catalogue lacks.
        translations_path=str(Path(__file__).parent / "translations"),
    )
    for view_class, model, name, category, endpoint in VIEWS:
        admin.add_view(view_class(model, name=name, category=category, endpoint=endpoint))
    for view_class, name, category, endpoint, url in WORKFLOW_VIEWS:
        admin.add_view(view_class(name=name, category=category, endpoint=endpoint, url=url))
    return admin
