"""The panel: one Admin, its views grouped by area in a Russian menu."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user

import models as m
from models.declension import (
    agree,
    agree_with,
    family_surname,
    person_name,
    plural,
    position_in_case,
)
from workflows.dates import centre_today

from . import (
    accounts,
    board,
    calls,
    case_steps,
    cases,
    centre,
    channels,
    council,
    dashboard,
    documents,
    events,
    intake,
    ipss,
    menu,
    my_tasks,
    notify,
    people,
    reception,
    reference,
    referrals,
    rehab,
    rental,
    rental_desk,
    reports,
    search,
)
from .auth import csp_nonce
from .forms import picker_options
from .notices import init_notices
from .permissions import matrix_table

REFERENCE = "Справочники"
FAMILIES = "Семьи"
SUPPORT = "Сопровождение"
EVENTS = "Мероприятия"
RENTAL = "Пункт проката"
ADMINISTRATION = "Администрирование"
WORK = "Работа"
# The navbar's order of the categories after the role's own work (admin_views/menu.py).
CATEGORIES = (FAMILIES, SUPPORT, EVENTS, RENTAL, REFERENCE, ADMINISTRATION)
# The records of the steps (the work pages write them; read, filtered, exported in their
# tables): at the foot of their category, under this heading, after the work.
RECORDS = "Журналы"
RECORD_TABLES = frozenset(
    {
        "assessment",
        "support_plan",
        "plan_activity",
        "plan_revision",
        "visit",
        "review",
        "task_assignment",
        "appointment",
        "loan_extension",
    }
)

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
    (rehab.RehabProgrammeView, m.RehabProgramme, "ИПРА детей", FAMILIES, "rehab_programme"),
    (rehab.RehabMeasureView, m.RehabMeasure, "Мероприятия ИПРА", FAMILIES, "rehab_measure"),
    (rehab.RehabTsrView, m.RehabTsr, "ТСР по ИПРА", FAMILIES, "rehab_tsr"),
    (cases.CaseView, m.Case, "Случаи сопровождения", SUPPORT, "case"),
    (cases.TaskView, m.Task, "Задачи", SUPPORT, "task"),
    (cases.AssessmentView, m.Assessment, "Оценки потребностей", SUPPORT, "assessment"),
    (cases.SupportPlanView, m.SupportPlan, "Реестр ИПСС", SUPPORT, "support_plan"),
    (cases.PlanActivityView, m.PlanActivity, "Мероприятия ИПСС", SUPPORT, "plan_activity"),
    (cases.PlanRevisionView, m.PlanRevision, "Редакции ИПСС", SUPPORT, "plan_revision"),
    (cases.VisitView, m.Visit, "Визиты", SUPPORT, "visit"),
    (cases.ReviewView, m.Review, "Мониторинг", SUPPORT, "review"),
    (cases.TaskAssignmentView, m.TaskAssignment, "История назначений", SUPPORT, "task_assignment"),
    (cases.AppointmentView, m.Appointment, "Журнал записей на приём", SUPPORT, "appointment"),
    (referrals.ReferralView, m.Referral, "Направления партнёрам", SUPPORT, "referral"),
    (
        channels.IncomingReferralView,
        m.IncomingReferral,
        "Направления от партнёров",
        FAMILIES,
        "incoming_referral",
    ),
    (channels.SocialRaidView, m.SocialRaid, "Социальные рейды", FAMILIES, "social_raid"),
    (rental.EquipmentUnitView, m.EquipmentUnit, "Единицы ТСР", RENTAL, "equipment_unit"),
    (rental.LoanView, m.Loan, "Выдачи", RENTAL, "loan"),
    (rental.ReservationView, m.Reservation, "Очередь", RENTAL, "reservation"),
    (rental.EquipmentTypeView, m.EquipmentType, "Виды ТСР", REFERENCE, "equipment_type"),
    (rental.LoanExtensionView, m.LoanExtension, "Продления выдач", RENTAL, "loan_extension"),
    (reference.DepartmentView, m.Department, "Отделения", REFERENCE, "department"),
    (reference.DistrictView, m.District, "Участки", REFERENCE, "district"),
    (reference.StaffView, m.Staff, "Сотрудники", REFERENCE, "staff"),
    (reference.ServiceView, m.Service, "Виды помощи", REFERENCE, "service"),
    (reference.ProgrammeView, m.Programme, "Программы", REFERENCE, "programme"),
    (reference.PartnerView, m.Partner, "Партнёры", REFERENCE, "partner"),
    (
        reference.PartnerContactView,
        m.PartnerContact,
        "Контактные лица партнёров",
        REFERENCE,
        "partner_contact",
    ),
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
        "Журнал заседаний совета",
        REFERENCE,
        "council_meeting",
    ),
    (events.EventView, m.Event, "Мероприятия", EVENTS, "event"),
    (
        events.EventAttendanceView,
        m.EventAttendance,
        "Участие семей в мероприятиях",
        EVENTS,
        "event_attendance",
    ),
    (events.VolunteerView, m.Volunteer, "Волонтёры", EVENTS, "volunteer"),
    (
        events.ProjectMeasureView,
        m.ProjectMeasure,
        "Бюджет проекта: мероприятия комплекса",
        EVENTS,
        "project_measure",
    ),
    (
        documents.RequiredDocumentView,
        m.RequiredDocument,
        "Пакет документов",
        REFERENCE,
        "required_document",
    ),
    (accounts.UserView, m.User, "Учётные записи", ADMINISTRATION, "user"),
    (
        centre.CentreSettingsView,
        m.CentreSettings,
        "Реквизиты центра",
        ADMINISTRATION,
        "centre_settings",
    ),
    (accounts.AuditRecordView, m.AuditRecord, "Журнал аудита", ADMINISTRATION, "audit_record"),
    (notify.MessageView, m.Message, "Сообщения семьям", ADMINISTRATION, "message"),
    (
        notify.MessageTemplateView,
        m.MessageTemplate,
        "Шаблоны сообщений",
        ADMINISTRATION,
        "message_template",
    ),
)

# The workflow pages beside the tables: (view class, menu name, category, endpoint).
# In the menu they come first within their category; those without one come first of all.
WORKFLOW_VIEWS = (
    (my_tasks.MyTasksView, "Мои задачи", None, "my_tasks"),
    (board.BoardView, "Доска", None, "board"),
    (documents.DocumentsView, "Документы", FAMILIES, "documents"),
    (calls.CallsView, "Звонки", None, "calls"),
    (
        notify.TemplatePreviewView,
        "Предпросмотр сообщений",
        ADMINISTRATION,
        "message_preview",
    ),
    (rehab.IpraView, "ИПРА: предложения", FAMILIES, "ipra"),
    (intake.IntakeView, "Новое обращение", SUPPORT, "intake"),
    (channels.ChannelsView, "Направления партнёров и рейды", FAMILIES, "channels"),
    (reception.ReceptionView, "Приём по записи", SUPPORT, "reception"),
    (ipss.IpssView, "ИПСС: составление и мониторинг", SUPPORT, "ipss"),
    (case_steps.CaseFlowView, "Шаги случая", SUPPORT, "case_flow"),
    (referrals.ReferralsView, "Направления по случаю", SUPPORT, "referrals"),
    (council.CouncilView, "Координационный совет", SUPPORT, "council"),
    (council.AgreementLedgerView, "Пакет к продлению соглашения", REFERENCE, "agreement_ledger"),
    (rental_desk.RentalDeskView, "Рабочее место проката", RENTAL, "rental_desk"),
    (reports.ReportsView, "Отчёты", None, "reports"),
)


def work_menu(admin: Admin) -> list[menu.Item | menu.Group]:
    """The signed-in user's menu (the home page, the navbar): their work first."""
    views = [view for view in admin._views if view is not admin.index_view]
    return menu.build(views, CATEGORIES, {endpoint: RECORDS for endpoint in RECORD_TABLES})


class HomeView(AdminIndexView):
    """The start page: who you are, the figures your role acts on, where your work is."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    def admin_view_of(self, endpoint: str):
        return next(view for view in self.admin._views if view.endpoint == endpoint)

    @expose("/")
    def index(self):
        groups: dict[str, list[tuple[str, str]]] = {}  # in menu order
        for entry in current_app.extensions["opora_navbar"].entries():
            if isinstance(entry, menu.Group):
                groups[entry.name] = [(item.name, item.url) for item in entry.items]
            elif entry.endpoint == "reports":
                for title, _description, url in self.admin_view_of("reports").items():
                    groups.setdefault(entry.name, []).append((title, url))
            else:
                groups.setdefault(WORK, []).append((entry.name, entry.url))
        today = centre_today()
        figures, charts = dashboard.build(current_user, today)
        m.db.session.commit()  # the figures it counted are kept for the next one (workflows/kept.py)
        return self.render(
            "admin/home.html", groups=groups, figures=figures, charts=charts, today=today
        )


TRANSLATIONS = Path(__file__).parent / "translations"


def _our_words_win() -> None:
    """Flask-Babel merges the catalogues in order, a later one winning, and Flask-Admin
    puts ours first: for a message both have («Save and Add Another»), its clumsy Russian
    would win. The merged Russian catalogue is built once here, ours last."""
    from babel import support
    from flask_admin import babel as admin_babel
    from flask_admin import translations as admin_translations

    merged = support.Translations.load(admin_translations.__path__[0], ["ru"], "admin")
    merged.merge(support.Translations.load(str(TRANSLATIONS), ["ru"], "admin"))
    admin_babel.domain.cache[("ru", "admin")] = merged


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="Опора",
        index_view=HomeView(name="Главная", url="/"),
        theme=Bootstrap4Theme(base_template="admin/opora_base.html", fluid=True),
        category_icon_classes={},
        csp_nonce_generator=csp_nonce,
        # Our Russian strings for the few messages Flask-Admin's catalogue lacks.
        translations_path=str(TRANSLATIONS),
    )
    _our_words_win()
    app.jinja_env.globals["search_hint"] = search.hint  # the navbar box's placeholder
    navbar = menu.Navbar(
        lambda: work_menu(admin), app.jinja_env.get_template("admin/_work_menu.html")
    )
    app.extensions["opora_navbar"] = navbar
    app.jinja_env.globals["navbar_menu"] = navbar.html
    # «3 случая», «25 случаев»; «семье Константиновых»; «Емельяновой Алёны Алексеевны»; «поставлена».
    app.jinja_env.globals.update(
        plural=plural,
        family_surname=family_surname,
        person_name=person_name,
        agree=agree,
        position_in_case=position_in_case,
        agree_with=agree_with,
        picker_options=picker_options,
    )
    init_notices(app)
    views = [
        *(cls(name=name, category=cat, endpoint=ep) for cls, name, cat, ep in WORKFLOW_VIEWS),
        *(cls(model, name=name, category=cat, endpoint=ep) for cls, model, name, cat, ep in VIEWS),
    ]
    categories = [None, *CATEGORIES]
    for view in sorted(views, key=lambda view: categories.index(view.category)):
        admin.add_view(view)
    # The navbar's box (every role; not a menu item).
    admin.add_view(search.SearchView(name="Поиск", endpoint="search", url="/search"))

    @app.cli.command("permissions")
    def permissions_command():
        """Print the permission matrix as the README's Markdown table."""
        click.echo(matrix_table())

    return admin
