"""The steps of one case after its application: the needs assessment, the decision and
contract, the closure, the printed contract — and which step a case's page offers next.

Each page collects input and calls workflows/cases.py; a refusal is shown next to its
field. Access comes from the permission matrix (endpoint `case_flow`); cases from the
row scope, so an out-of-scope case answers 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import RadioField, SelectField
from wtforms.validators import Length, Optional, ValidationError

from models import Case, Person, Staff, Task, db
from models.accounts import ROLE
from models.cases import CLOSURE_REASON, LIFE_DOMAIN, NEED_LEVEL
from models.people import RELATION
from models.reference import staff_district
from models.referrals import REFERRAL_STATUS
from models.roles import reads_health
from models.terms import SUPPORT_TERM_IN_WORDS
from workflows import cases as wf
from workflows import documents
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.referrals import open_referrals_of
from workflows.scope import where_visible

from .forms import PageForm, RowField, answered, date_field, required, text_area, text_field
from .openings import record_opening
from .pages import PageView
from .permissions import allowed
from .printing import printed, signed_upload_url


def _assessment_form_class():
    fields = {"assessed_on": date_field("Дата оценки", required=True, past_only=True)}
    for domain in LIFE_DOMAIN.codes:
        fields[f"{domain}_level"] = SelectField(
            "Нуждаемость",
            choices=[("", "— выберите —"), *NEED_LEVEL.pairs()],
            validators=[required()],
        )
        fields[f"{domain}_notes"] = text_area("Заключение", Optional(), no_markup=True)
    return type("AssessmentForm", (PageForm,), fields)


AssessmentForm = _assessment_form_class()


class DecisionForm(PageForm):
    decision_date = date_field("Дата решения о нуждаемости", required=True, past_only=True)
    contract_number = text_field("Номер договора", required(), Length(max=64))
    contract_date = date_field("Дата договора", required=True, past_only=True)
    start_date = date_field("Начало сопровождения", required=True)
    planned_end_date = date_field(
        "Плановое окончание", description="Пусто — ровно шесть месяцев от начала."
    )
    lead_worker = RowField("Ведущий специалист", model=Staff, validators=[answered()])

    def validate_planned_end_date(self, field):
        if field.data and self.start_date.data:
            try:
                wf.check_planned_end(self.start_date.data, field.data)
            except WorkflowError as error:
                raise ValidationError(str(error)) from error


class ClosureForm(PageForm):
    reason = SelectField(
        "Причина закрытия",
        choices=[("", "— выберите —"), *CLOSURE_REASON.pairs()],
        validators=[required()],
    )
    closed_on = date_field("Дата закрытия", required=True, past_only=True)
    outcome = text_area("Результат сопровождения", Optional(), no_markup=True)
    open_tasks = RadioField(
        "Незавершённые задачи",
        choices=[
            ("refuse", "Не закрывать, пока есть незавершённые задачи"),
            ("cancel", "Отменить незавершённые задачи"),
        ],
        default="refuse",
        validators=[required()],
    )
    cancel_reason = text_field("Причина отмены задач", Optional())


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
        record_opening(case)  # the form shows the case's need levels and notes
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
            outcome = self.run(
                lambda: wf.record_assessment(
                    db.session,
                    current_user,
                    case,
                    levels=levels,
                    assessed_on=form.assessed_on.data,
                ),
                form=form,
            )
            if outcome.ok:
                return self._done(
                    case, "Оценка потребностей сохранена. Следующий шаг — решение и договор."
                )
        domains = [
            (LIFE_DOMAIN.label(d), getattr(form, f"{d}_level"), getattr(form, f"{d}_notes"))
            for d in LIFE_DOMAIN.codes
        ]
        return self.render("case_flow/assessment.html", case=case, form=form, domains=domains)

    @staticmethod
    def _likely_lead(case: Case, worker_ids: list[int]) -> int:
        """The lead worker the decision form offers first (one click fewer): the case's own,
        the district worker filling it in, the district's responsible worker, or the only
        district worker of the family's district; else none (0, «— выберите —»)."""
        if case.lead_worker_id:
            return case.lead_worker_id
        if current_user.role == "district_worker" and current_user.staff_id in worker_ids:
            return current_user.staff_id
        district = case.family.district
        if district is None:
            return 0
        if district.responsible_worker_id in worker_ids:
            return district.responsible_worker_id
        local = db.session.scalars(
            select(staff_district.c.staff_id).where(
                staff_district.c.district_id == district.id,
                staff_district.c.staff_id.in_(worker_ids),
            )
        ).all()
        return local[0] if len(local) == 1 else 0

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
            form.lead_worker.data = self._likely_lead(case, [w.id for w in workers])
        if form.validate_on_submit():
            lead = db.session.get(Staff, form.lead_worker.data) if form.lead_worker.data else None
            outcome = self.run(
                # the package's blocking documents first (workflows/documents.py)
                lambda: documents.check_package(db.session, case),
                lambda: wf.sign_contract(
                    db.session,
                    current_user,
                    case,
                    decision_date=form.decision_date.data,
                    contract_number=form.contract_number.data,
                    contract_date=form.contract_date.data,
                    start_date=form.start_date.data,
                    planned_end_date=form.planned_end_date.data,
                    lead_worker=lead,
                ),
                form=form,
            )
            if outcome.ok:
                return self._done(
                    case,
                    f"Договор № {case.contract_number} заключён: сопровождение "
                    f"с {case.start_date:%d.%m.%Y} по {case.planned_end_date:%d.%m.%Y}.",
                )
        blocking, missing = documents.missing_for_contract(db.session, current_user, case)
        return self.render(
            "case_flow/decision.html", case=case, form=form, blocking=blocking, missing=missing
        )

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
            outcome = self.run(
                lambda: wf.close_case(
                    db.session,
                    current_user,
                    case,
                    reason=form.reason.data,
                    closed_on=form.closed_on.data,
                    outcome=form.outcome.data,
                    cancel_open_tasks=form.open_tasks.data == "cancel",
                    cancel_reason=form.cancel_reason.data,
                ),
                form=form,
            )
            if outcome.ok:
                extra = f" Отменено задач: {outcome.value}." if outcome.value else ""
                return self._done(case, "Случай закрыт." + extra)
        tasks = db.session.scalars(
            select(Task)
            .where(Task.id.in_([t.id for t in wf.open_tasks(db.session, case)]))
            .where(where_visible(Task, current_user))
            .order_by(Task.due_date)
        ).all()
        hidden = len(wf.open_tasks(db.session, case)) - len(tasks)
        return self.render(
            "case_flow/closure.html",
            case=case,
            form=form,
            tasks=tasks,
            hidden_tasks=hidden,
            referrals=open_referrals_of(db.session, case.id, lock=False),
            status_label=REFERRAL_STATUS.label,
        )

    @expose("/<int:case_id>/contract.pdf")
    @expose("/<int:case_id>/contract")
    def contract(self, case_id: int):
        case = self._case(case_id, "details")
        if not case.contract_number:
            flash("Договор по этому случаю ещё не заключён.", "error")
            return redirect(url_for("case.details_view", id=case.id))
        record_opening(case)  # the contract names the family, its passport and SNILS
        case = self._case(case_id, "details")
        children = db.session.scalars(
            select(Person)
            .where(
                Person.family_id == case.family_id,
                Person.relation == "child",
                Person.archived_at.is_(None),
            )
            .order_by(Person.birth_date, Person.id)
        ).all()
        activities = [
            a for a in (case.plan.activities if case.plan else []) if a.status != "cancelled"
        ]
        return printed(
            self,
            "case_flow/contract.html",
            (f"Договор № {case.contract_number}.pdf", f"contract-{case.id}.pdf"),
            ("support_case", case.id),
            case=case,
            children=children,
            plan=case.plan,
            activities=activities,
            relation=RELATION.label(case.applicant.relation),
            term_in_words=SUPPORT_TERM_IN_WORDS,
            role_label=ROLE.label,
            signed=documents.signed_copies(db.session, current_user, case=case),
            upload_url=signed_upload_url(case=case.id, type="signed_contract"),
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
    if allowed(role, "referrals", "details"):
        actions.append(
            (
                "Направления партнёрам",
                url_for("referrals.case", case_id=case.id),
                "open-referrals",
            )
        )
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
