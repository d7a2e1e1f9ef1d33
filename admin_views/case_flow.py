"""The case lifecycle pages: reception, «Новое обращение», assessment, contract, closure.

Each page only collects input, calls a workflow (workflows/reception.py,
workflows/cases.py) and shows its Russian message next to the field. Access
comes from the permission matrix (endpoints `reception`, `intake`,
`case_flow`); rows from the row scope, so an out-of-scope case or family
answers 404.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from models import Appointment, Case, Family, Person, Staff, Task, db
from models.cases import CLOSURE_REASON, LIFE_DOMAIN, NEED_LEVEL
from models.people import RELATION, SEX
from models.reference import APPOINTMENT_CHANNEL
from models.roles import reads_health
from workflows import cases as wf
from workflows import reception
from workflows.consent import DEFAULT_SCOPE, NO_CONSENT, has_active_consent, record_consent
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from . import validators as v
from .pages import PageView
from .permissions import allowed

REQUIRED = "Обязательное поле."


def _required():
    return DataRequired(REQUIRED)


def _date_field(label: str, *validators, past_only: bool = False, **kw) -> DateField:
    return DateField(
        label,
        validators=[*validators, v.DateInRange(past_only=past_only)],
        format="%Y-%m-%d",
        **kw,
    )


def _text(label: str, *validators, **kw) -> StringField:
    return StringField(label, validators=[*validators, Length(max=255), v.NoMarkup()], **kw)


# --- reception -------------------------------------------------------------------------------


class BookingForm(FlaskForm):
    specialist = SelectField("Специалист", coerce=int, validators=[InputRequired(REQUIRED)])
    day = _date_field("День приёма", _required())
    time = SelectField("Время", validators=[_required()])
    channel = SelectField(
        "Способ записи", choices=APPOINTMENT_CHANNEL.pairs(), validators=[_required()]
    )
    citizen_name = _text("Заявитель (ФИО)", Optional())
    citizen_phone = StringField("Телефон заявителя", validators=[Optional(), v.Phone()])
    purpose = TextAreaField("Цель обращения", validators=[_required(), v.text_length()])
    family = HiddenField()


def _slot_times() -> list[tuple[str, str]]:
    day = dt.date(2000, 1, 3)  # a Monday: the grid of times is the same every working day
    return [(f"{s:%H:%M}", f"{s:%H:%M}") for s in reception.day_slots(day)]


def _parse_day(raw: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else centre_today()
    except ValueError:
        return centre_today()


class ReceptionView(PageView):
    """Предварительная запись: a specialist's day, slot by slot; booking a free slot."""

    @expose("/")
    def index(self):
        self.require("list")
        staff = reception.receiving_staff(db.session)
        chosen = request.args.get("specialist", type=int)
        specialist = next((s for s in staff if s.id == chosen), None)
        if specialist is None and current_user.staff_id:
            specialist = next((s for s in staff if s.id == current_user.staff_id), None)
        day = _parse_day(request.args.get("day"))
        slots = reception.day_view(db.session, current_user, specialist, day) if specialist else []
        return self.render(
            "case_flow/reception.html",
            staff=staff,
            specialist=specialist,
            day=day,
            slots=slots,
            previous_day=day - dt.timedelta(days=1),
            next_day=day + dt.timedelta(days=1),
            may_book=self.may("create") and day >= centre_today(),
            may_intake=allowed(current_user.role, "intake", "create"),
            channels=dict(APPOINTMENT_CHANNEL.pairs()),
        )

    @expose("/book", methods=("GET", "POST"))
    def book(self):
        self.require("create")
        form = BookingForm()
        staff = reception.receiving_staff(db.session)
        form.specialist.choices = [(0, "— выберите —")] + [
            (s.id, f"{s.full_name} ({s.position})") for s in staff
        ]
        form.time.choices = _slot_times()
        family = None
        family_id = request.values.get("family", type=int)
        if family_id:
            family = self.visible_or_404(Family, family_id)
        if request.method == "GET":
            form.specialist.data = request.args.get("specialist", type=int) or 0
            form.day.data = _parse_day(request.args.get("day"))
            form.time.data = request.args.get("time") or form.time.choices[0][0]
            form.family.data = family.id if family else ""
        if form.validate_on_submit():
            specialist = (
                db.session.get(Staff, form.specialist.data) if form.specialist.data else None
            )
            starts_at = dt.datetime.combine(form.day.data, dt.time.fromisoformat(form.time.data))
            try:
                appointment = reception.book_appointment(
                    db.session,
                    current_user,
                    specialist=specialist,
                    starts_at=starts_at,
                    channel=form.channel.data,
                    purpose=form.purpose.data,
                    family=family,
                    citizen_name=form.citizen_name.data,
                    citizen_phone=form.citizen_phone.data,
                )
                db.session.commit()
            except WorkflowError as error:
                db.session.rollback()
                if error.field == "starts_at":
                    error.field = "time"
                self.refuse(form, error)
            else:
                flash(f"Записано: {appointment.specialist}, {starts_at:%d.%m.%Y %H:%M}.", "success")
                return redirect(
                    url_for(".index", specialist=specialist.id, day=starts_at.date().isoformat())
                )
        return self.render("case_flow/book.html", form=form, family=family)


# --- Новое обращение ------------------------------------------------------------------------------


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    surname = StringField("Фамилия", validators=[Optional(), Length(max=64)])
    address = StringField("Адрес", validators=[Optional(), Length(max=255)])
    snils = StringField("СНИЛС", validators=[Optional(), v.Snils()])


class ApplicantFields:
    last_name = StringField("Фамилия", validators=[_required(), Length(max=64), v.PersonName()])
    first_name = StringField("Имя", validators=[_required(), Length(max=64), v.PersonName()])
    middle_name = StringField("Отчество", validators=[Optional(), Length(max=64), v.PersonName()])
    birth_date = _date_field("Дата рождения", _required(), past_only=True)
    sex = SelectField("Пол", choices=[("", "— выберите —"), *SEX.pairs()], validators=[_required()])
    relation = SelectField(
        "Кем приходится",
        choices=[("", "— выберите —")] + [(c, RELATION.label(c)) for c in wf.APPLICANT_RELATIONS],
        validators=[_required()],
    )
    snils = StringField("СНИЛС", validators=[Optional(), v.Snils()])
    phone = StringField("Телефон", validators=[Optional(), v.Phone()])

    def applicant_data(self) -> wf.ApplicantData:
        return wf.ApplicantData(
            last_name=self.last_name.data,
            first_name=self.first_name.data,
            middle_name=self.middle_name.data,
            birth_date=self.birth_date.data,
            sex=self.sex.data,
            relation=self.relation.data,
            snils=self.snils.data,
            phone=self.phone.data,
        )


class ApplicantForm(ApplicantFields, FlaskForm):
    pass


class NewFamilyForm(ApplicantFields, FlaskForm):
    surname = StringField("Фамилия семьи", validators=[_required(), Length(max=64), v.PersonName()])
    district = SelectField("Участок", coerce=int, validators=[InputRequired(REQUIRED)])
    address = _text("Адрес", _required())
    family_phone = StringField("Телефон семьи", validators=[Optional(), v.Phone()])
    confirm_duplicate = BooleanField("Это другая семья — всё равно зарегистрировать")


class ApplicationForm(FlaskForm):
    applicant = SelectField("Заявитель", coerce=int, validators=[InputRequired(REQUIRED)])
    application_date = _date_field("Дата заявления", _required(), past_only=True)


class ConsentForm(FlaskForm):
    person = SelectField("Кто дал согласие", coerce=int, validators=[InputRequired(REQUIRED)])
    given_on = _date_field("Дата согласия", _required(), past_only=True)
    scope = TextAreaField("Объём согласия", validators=[_required(), v.text_length()])


class IntakeView(PageView):
    """Новое обращение: find or register the family, record the applicant and consent,
    then open the case in status «заявление»."""

    def _appointment(self) -> Appointment | None:
        appointment_id = request.values.get("appointment", type=int)
        if not appointment_id:
            return None
        appointment = self.visible_or_404(Appointment, appointment_id)
        try:
            reception.check_convertible(appointment)
        except WorkflowError as error:
            flash(str(error), "error")
            return None
        return appointment

    @expose("/")
    def index(self):
        self.require("create")
        appointment = self._appointment()
        form = SearchForm(formdata=request.args)
        if (
            appointment is not None
            and not request.args.get("surname")
            and not any(request.args.get(k) for k in ("address", "snils"))
        ):
            if appointment.family_id:
                return redirect(
                    url_for(".family", family_id=appointment.family_id, appointment=appointment.id)
                )
            if appointment.citizen_name:
                form.surname.data = appointment.citizen_name.split()[0]
        searched = any((form.surname.data, form.address.data, form.snils.data))
        families = []
        if searched and form.validate():
            families = wf.find_families(
                db.session,
                current_user,
                surname=form.surname.data or "",
                address=form.address.data or "",
                snils=form.snils.data or "",
            )
        rows = [
            (
                family,
                wf.applicants_of(family),
                has_active_consent(db.session, family.id, centre_today()),
                wf.open_case_of(db.session, family.id),
            )
            for family in families
        ]
        return self.render(
            "case_flow/intake_search.html",
            form=form,
            searched=searched,
            rows=rows,
            appointment=appointment,
        )

    @expose("/new", methods=("GET", "POST"))
    def new_family(self):
        self.require("create")
        appointment = self._appointment()
        form = NewFamilyForm()
        districts = wf.allowed_districts(db.session, current_user)
        form.district.choices = [(0, "— выберите —")] + [(d.id, d.name) for d in districts]
        if request.method == "GET":
            form.surname.data = request.args.get("surname", "")
            form.address.data = request.args.get("address", "")
            if appointment is not None and appointment.citizen_name:
                parts = appointment.citizen_name.split()
                form.last_name.data = parts[0] if parts else ""
                form.first_name.data = parts[1] if len(parts) > 1 else ""
                form.middle_name.data = " ".join(parts[2:])
                form.phone.data = appointment.citizen_phone or ""
        duplicates = None
        if form.validate_on_submit():
            district = next((d for d in districts if d.id == form.district.data), None)
            try:
                family, _person = wf.register_family(
                    db.session,
                    current_user,
                    surname=form.surname.data,
                    district=district,
                    address=form.address.data,
                    phone=form.family_phone.data,
                    applicant=form.applicant_data(),
                    confirm_duplicate=form.confirm_duplicate.data,
                )
                db.session.commit()
            except WorkflowError as error:
                db.session.rollback()
                if error.field == "confirm_duplicate":
                    duplicates = str(error)
                else:
                    self.refuse(form, error)
            else:
                flash(f"Семья зарегистрирована: {family}.", "success")
                return redirect(
                    url_for(
                        ".family",
                        family_id=family.id,
                        appointment=appointment.id if appointment else None,
                    )
                )
        return self.render(
            "case_flow/intake_new.html", form=form, appointment=appointment, duplicates=duplicates
        )

    def _family_page(self, family, appointment, application=None, applicant=None, consent=None):
        applicants = wf.applicants_of(family)
        application = application or ApplicationForm(formdata=None)
        application.applicant.choices = [(p.id, p.full_name) for p in applicants]
        if application.application_date.data is None:
            application.application_date.data = (
                appointment.starts_at.date() if appointment else centre_today()
            )
            if application.application_date.data > centre_today():
                application.application_date.data = centre_today()
        consent = consent or ConsentForm(formdata=None)
        consent.person.choices = application.applicant.choices
        if consent.given_on.data is None:
            consent.given_on.data = centre_today()
        if not consent.scope.data:
            consent.scope.data = DEFAULT_SCOPE
        return self.render(
            "case_flow/intake_family.html",
            family=family,
            applicants=applicants,
            consented=has_active_consent(db.session, family.id, centre_today()),
            no_consent=NO_CONSENT,
            open_case=wf.open_case_of(db.session, family.id),
            application=application,
            applicant_form=applicant or ApplicantForm(formdata=None),
            consent_form=consent,
            appointment=appointment,
        )

    @expose("/family/<int:family_id>", methods=("GET", "POST"))
    def family(self, family_id: int):
        self.require("create")
        family = self.visible_or_404(Family, family_id)
        appointment = self._appointment()
        form = ApplicationForm()
        form.applicant.choices = [(p.id, p.full_name) for p in wf.applicants_of(family)]
        if form.validate_on_submit():
            applicant = db.session.get(Person, form.applicant.data)
            try:
                case = wf.open_case(
                    db.session,
                    current_user,
                    family=family,
                    applicant=applicant,
                    application_date=form.application_date.data,
                    appointment=appointment,
                )
                db.session.commit()
            except WorkflowError as error:
                self.refuse(form, error)
            else:
                flash(
                    f"Заявление принято: случай № {case.id}. "
                    "Следующий шаг — оценка потребностей семьи.",
                    "success",
                )
                return redirect(url_for("case.details_view", id=case.id))
        return self._family_page(family, appointment, application=form)

    @expose("/family/<int:family_id>/applicant", methods=("POST",))
    def applicant(self, family_id: int):
        self.require("create")
        family = self.visible_or_404(Family, family_id)
        appointment = self._appointment()
        form = ApplicantForm()
        if form.validate_on_submit():
            try:
                person = wf.add_applicant(db.session, current_user, family, form.applicant_data())
                db.session.commit()
            except WorkflowError as error:
                self.refuse(form, error)
            else:
                flash(f"Заявитель добавлен: {person.full_name}.", "success")
                return redirect(
                    url_for(
                        ".family",
                        family_id=family.id,
                        appointment=appointment.id if appointment else None,
                    )
                )
        return self._family_page(family, appointment, applicant=form)

    @expose("/family/<int:family_id>/consent", methods=("POST",))
    def consent(self, family_id: int):
        self.require("create")
        family = self.visible_or_404(Family, family_id)
        appointment = self._appointment()
        form = ConsentForm()
        form.person.choices = [(p.id, p.full_name) for p in wf.applicants_of(family)]
        if form.validate_on_submit():
            person = db.session.get(Person, form.person.data)
            try:
                record_consent(db.session, family, person, form.given_on.data, form.scope.data)
                db.session.commit()
            except WorkflowError as error:
                self.refuse(form, error)
            else:
                flash("Согласие на обработку персональных данных записано.", "success")
                return redirect(
                    url_for(
                        ".family",
                        family_id=family.id,
                        appointment=appointment.id if appointment else None,
                    )
                )
        return self._family_page(family, appointment, consent=form)


# --- assessment, contract, closure, print ----------------------------------------------------------


def _assessment_form_class():
    fields = {
        "assessed_on": _date_field("Дата оценки", _required(), past_only=True),
    }
    for domain in LIFE_DOMAIN.codes:
        fields[f"{domain}_level"] = SelectField(
            "Нуждаемость",
            choices=[("", "— выберите —"), *NEED_LEVEL.pairs()],
            validators=[_required()],
        )
        fields[f"{domain}_notes"] = TextAreaField(
            "Заключение", validators=[Optional(), v.text_length(), v.NoMarkup()]
        )
    return type("AssessmentForm", (FlaskForm,), fields)


AssessmentForm = _assessment_form_class()


class DecisionForm(FlaskForm):
    decision_date = _date_field("Дата решения о нуждаемости", _required(), past_only=True)
    contract_number = _text("Номер договора", _required(), Length(max=64))
    contract_date = _date_field("Дата договора", _required(), past_only=True)
    start_date = _date_field("Начало сопровождения", _required())
    planned_end_date = _date_field(
        "Плановое окончание",
        Optional(),
        description="Пусто — ровно шесть месяцев от начала.",
    )
    lead_worker = SelectField(
        "Ведущий специалист", coerce=int, validators=[InputRequired(REQUIRED)]
    )

    def validate_planned_end_date(self, field):
        if field.data and self.start_date.data:
            try:
                wf.check_planned_end(self.start_date.data, field.data)
            except WorkflowError as error:
                raise ValidationError(str(error)) from error


class ClosureForm(FlaskForm):
    reason = SelectField(
        "Причина закрытия",
        choices=[("", "— выберите —"), *CLOSURE_REASON.pairs()],
        validators=[_required()],
    )
    closed_on = _date_field("Дата закрытия", _required(), past_only=True)
    outcome = TextAreaField(
        "Результат сопровождения", validators=[Optional(), v.text_length(), v.NoMarkup()]
    )
    open_tasks = RadioField(
        "Незавершённые задачи",
        choices=[
            ("refuse", "Не закрывать, пока есть незавершённые задачи"),
            ("cancel", "Отменить незавершённые задачи"),
        ],
        default="refuse",
        validators=[_required()],
    )
    cancel_reason = _text("Причина отмены задач", Optional())


class CaseFlowView(PageView):
    """The steps of one case: assessment, decision and contract, closure, the printed contract."""

    menu_visible = False

    @expose("/")
    def index(self):
        return redirect(url_for("case.index_view"))

    def _case(self, case_id: int, action: str = "edit") -> Case:
        self.require(action)
        return self.visible_or_404(Case, case_id)

    def _refuse_if_closed(self, case: Case):
        try:
            wf.ensure_open(case)
        except WorkflowError as error:
            flash(str(error), "error")
            return redirect(url_for("case.details_view", id=case.id))
        return None

    def _done(self, case: Case, message: str):
        flash(message, "success")
        return redirect(url_for("case.details_view", id=case.id))

    @expose("/<int:case_id>/assessment", methods=("GET", "POST"))
    def assessment(self, case_id: int):
        case = self._case(case_id)
        if not reads_health(current_user.role):
            abort(403)  # need levels and notes are health data
        refusal = self._refuse_if_closed(case)
        if refusal:
            return refusal
        form = AssessmentForm()
        if request.method == "GET":
            for row in case.assessments:
                getattr(form, f"{row.domain}_level").data = row.need_level
                getattr(form, f"{row.domain}_notes").data = row.notes
            form.assessed_on.data = centre_today()
        if form.validate_on_submit():
            levels = {
                d: (getattr(form, f"{d}_level").data, getattr(form, f"{d}_notes").data)
                for d in LIFE_DOMAIN.codes
            }
            try:
                wf.record_assessment(
                    db.session,
                    current_user,
                    case,
                    levels=levels,
                    assessed_on=form.assessed_on.data,
                )
                db.session.commit()
            except WorkflowError as error:
                self.refuse(form, error)
            else:
                return self._done(
                    case, "Оценка потребностей сохранена. Следующий шаг — решение и договор."
                )
        domains = [
            (LIFE_DOMAIN.label(d), getattr(form, f"{d}_level"), getattr(form, f"{d}_notes"))
            for d in LIFE_DOMAIN.codes
        ]
        return self.render("case_flow/assessment.html", case=case, form=form, domains=domains)

    @expose("/<int:case_id>/decision", methods=("GET", "POST"))
    def decision(self, case_id: int):
        case = self._case(case_id)
        refusal = self._refuse_if_closed(case)
        if refusal:
            return refusal
        form = DecisionForm()
        workers = wf.lead_workers(db.session)
        form.lead_worker.choices = [(0, "— выберите —")] + [(w.id, w.full_name) for w in workers]
        if request.method == "GET":
            today = centre_today()
            form.decision_date.data = form.contract_date.data = form.start_date.data = today
            form.lead_worker.data = case.lead_worker_id or (
                current_user.staff_id if current_user.role == "district_worker" else 0
            )
        if form.validate_on_submit():
            lead = db.session.get(Staff, form.lead_worker.data) if form.lead_worker.data else None
            try:
                wf.sign_contract(
                    db.session,
                    current_user,
                    case,
                    decision_date=form.decision_date.data,
                    contract_number=form.contract_number.data,
                    contract_date=form.contract_date.data,
                    start_date=form.start_date.data,
                    planned_end_date=form.planned_end_date.data,
                    lead_worker=lead,
                )
                db.session.commit()
            except WorkflowError as error:
                self.refuse(form, error)
            else:
                return self._done(
                    case,
                    f"Договор № {case.contract_number} заключён: сопровождение "
                    f"с {case.start_date:%d.%m.%Y} по {case.planned_end_date:%d.%m.%Y}.",
                )
        return self.render("case_flow/decision.html", case=case, form=form)

    @expose("/<int:case_id>/closure", methods=("GET", "POST"))
    def closure(self, case_id: int):
        case = self._case(case_id)
        refusal = self._refuse_if_closed(case)
        if refusal:
            return refusal
        form = ClosureForm()
        if request.method == "GET":
            form.closed_on.data = centre_today()
        if form.validate_on_submit():
            try:
                cancelled = wf.close_case(
                    db.session,
                    current_user,
                    case,
                    reason=form.reason.data,
                    closed_on=form.closed_on.data,
                    outcome=form.outcome.data,
                    cancel_open_tasks=form.open_tasks.data == "cancel",
                    cancel_reason=form.cancel_reason.data,
                )
                db.session.commit()
            except WorkflowError as error:
                self.refuse(form, error)
            else:
                extra = f" Отменено задач: {cancelled}." if cancelled else ""
                return self._done(case, "Случай закрыт." + extra)
        tasks = db.session.scalars(
            select(Task)
            .where(Task.id.in_([t.id for t in wf.open_tasks(db.session, case)]))
            .where(where_visible(Task, current_user))
            .order_by(Task.due_date)
        ).all()
        hidden = len(wf.open_tasks(db.session, case)) - len(tasks)
        return self.render(
            "case_flow/closure.html", case=case, form=form, tasks=tasks, hidden_tasks=hidden
        )

    @expose("/<int:case_id>/contract")
    def contract(self, case_id: int):
        case = self._case(case_id, "details")
        if not case.contract_number:
            flash("Договор по этому случаю ещё не заключён.", "error")
            return redirect(url_for("case.details_view", id=case.id))
        return self.render(
            "case_flow/contract.html",
            case=case,
            centre=current_app.config["CENTRE_NAME"],
            relation=RELATION.label(case.applicant.relation),
            months=wf.SUPPORT_TERM_MONTHS,
        )


def next_actions(case: Case, role: str | None) -> list[tuple[str, str, str]]:
    """(words, url, element id) of what to do with a case now, for its details page."""
    actions = []
    step = wf.next_step(case)
    if step is not None and allowed(role, "case_flow", "edit"):
        name, words = step
        if name != "assessment" or reads_health(role):
            actions.append((words, url_for(f"case_flow.{name}", case_id=case.id), f"next-{name}"))
    if case.status == "active" and allowed(role, "ipss", "details"):
        # The plan is the work of an active case; closing it comes after.
        actions.insert(0, ("ИПСС и мониторинг", url_for("ipss.plan", case_id=case.id), "open-ipss"))
    if case.contract_number and allowed(role, "case_flow", "details"):
        actions.append(
            (
                "Договор для печати",
                url_for("case_flow.contract", case_id=case.id),
                "print-contract",
            )
        )
    if case.plan is not None and allowed(role, "ipss", "details"):
        actions.append(
            ("ИПСС для печати", url_for("ipss.print_view", case_id=case.id), "print-ipss")
        )
    return actions
