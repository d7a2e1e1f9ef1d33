"""Outgoing referrals of a case: the case's page of referrals (prepare, send, the
partner's answer, «нет ответа»), the printable referral letter and the scoped list.

Every change comes from workflows/referrals.py through `PageView.run`; a refusal is
shown under its field of the referral's row. Cases and referrals come through the row
scope, so another district's case answers 404; a medical reason and answer are shown
only to a role that reads health data (and the letter of a medical referral only
prints for one).
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField

from models import Case, Partner, Service, db
from models.guards import case_refusal
from models.live import active_for_new_work
from models.people import RELATION
from models.reference import PARTNER_KIND
from models.referrals import REFERRAL_REASON
from models.roles import reads_health
from workflows import referrals as wf
from workflows.dates import centre_today
from workflows.errors import WorkflowError

from .base import OporaModelView
from .forms import IdField, WorkflowForm, date_field, live_partner_contacts
from .openings import record_opening
from .pages import PageView
from .printing import printed


class PrepareForm(WorkflowForm):
    partner = IdField()
    contact = IdField()
    service = IdField()
    reason_kind = StringField()
    reason = StringField()


class MoveForm(WorkflowForm):
    """The fields of every step; each step reads those it needs."""

    sent_on = date_field("Дата отправки")
    answer_due = date_field("Ответ ожидается до")
    accepted_on = date_field("Дата принятия")
    answered_on = date_field("Дата ответа")
    answer = StringField()


# (the step's URL word, the workflow's call with the form's fields, what was done)
STEPS = {
    "send": (
        lambda s, u, rid, form, today: wf.send_referral(
            s, u, rid, sent_on=form.sent_on.data, answer_due=form.answer_due.data, today=today
        ),
        "Направление отправлено: ждём ответа до {:%d.%m.%Y}.",
    ),
    "accept": (
        lambda s, u, rid, form, today: wf.accept_referral(
            s, u, rid, accepted_on=form.accepted_on.data, today=today
        ),
        "Партнёр принял направление.",
    ),
    "fulfil": (
        lambda s, u, rid, form, today: wf.fulfil_referral(
            s, u, rid, answered_on=form.answered_on.data, answer=form.answer.data, today=today
        ),
        "Направление исполнено: результат записан.",
    ),
    "refuse": (
        lambda s, u, rid, form, today: wf.refuse_referral(
            s, u, rid, answered_on=form.answered_on.data, answer=form.answer.data, today=today
        ),
        "Отказ партнёра записан.",
    ),
    "no-answer": (
        lambda s, u, rid, form, today: wf.no_answer_referral(s, u, rid, today=today),
        "Направление закрыто: партнёр не ответил.",
    ),
}


class ReferralsView(PageView):
    """The referrals of one case: its list, the new referral, each step, the letter."""

    menu_visible = False

    @expose("/")
    def index(self):
        return redirect(url_for("referral.index_view"))

    def _case(self, case_id: int) -> Case:
        return self.visible_or_404(Case, case_id)

    @expose("/case/<int:case_id>")
    def case(self, case_id: int):
        self.require("details")
        case = self._case(case_id)
        record_opening(case)  # the referrals tell of the family's needs
        return self._render(self._case(case_id), None, None, {})

    def _render(self, case: Case, error: WorkflowError | None, error_row, values):
        today = centre_today()
        partners = db.session.scalars(
            active_for_new_work(select(Partner)).order_by(Partner.name)
        ).all()
        contacts = live_partner_contacts()
        services = db.session.scalars(
            select(Service).where(active_for_new_work(Service)).order_by(Service.kind, Service.name)
        ).all()
        writable = self.may("edit") and case_refusal(case) is None
        return self.render(
            "admin/workflow/referrals.html",
            case=case,
            rows=wf.case_referrals(db.session, current_user, case.id, today),
            partners=partners,
            partner_kind=PARTNER_KIND,
            contacts=contacts,
            services=services,
            reasons=REFERRAL_REASON.pairs(),
            may_prepare=self.may("create") and case_refusal(case) is None,
            writable=writable,
            error=error,
            error_row=error_row,
            values=values,
            today=today,
            default_due=wf.default_answer_due(today),
            case_url=self.case_url(case.id),
        )

    @expose("/case/<int:case_id>/prepare", methods=("POST",))
    def prepare(self, case_id: int):
        self.require("create")
        case = self._case(case_id)
        form = PrepareForm()

        def prepare():
            form.checked()
            return wf.prepare_referral(
                db.session,
                current_user,
                case.id,
                partner_id=form.partner.data,
                contact_id=form.contact.data,
                service_id=form.service.data,
                reason_kind=form.reason_kind.data,
                reason=form.reason.data,
                today=centre_today(),
            )

        outcome = self.run(prepare)
        if not outcome.ok:
            return self._render(self._case(case_id), outcome.refusal, "new", request.form)
        flash(f"{outcome.value} подготовлено. Распечатайте письмо и отправьте его.", "success")
        return redirect(url_for(".case", case_id=case_id, _anchor=f"referral-{outcome.value.id}"))

    @expose("/<int:referral_id>/send", methods=("POST",))
    def send(self, referral_id: int):
        return self._move(referral_id, "send")

    @expose("/<int:referral_id>/accept", methods=("POST",))
    def accept(self, referral_id: int):
        return self._move(referral_id, "accept")

    @expose("/<int:referral_id>/fulfil", methods=("POST",))
    def fulfil(self, referral_id: int):
        return self._move(referral_id, "fulfil")

    @expose("/<int:referral_id>/refuse", methods=("POST",))
    def refuse_step(self, referral_id: int):
        return self._move(referral_id, "refuse")

    @expose("/<int:referral_id>/no-answer", methods=("POST",))
    def no_answer(self, referral_id: int):
        return self._move(referral_id, "no-answer")

    def _move(self, referral_id: int, step: str):
        self.require("edit")
        referral = wf.visible_referral(db.session, current_user, referral_id)
        if referral is None:
            abort(404)
        case_id = referral.case_id
        call, done = STEPS[step]
        form = MoveForm()

        def move():
            form.checked()
            return call(db.session, current_user, referral_id, form, centre_today())

        outcome = self.run(move)
        if not outcome.ok:
            return self._render(self._case(case_id), outcome.refusal, referral_id, request.form)
        flash(done.format(outcome.value.answer_due), "success")
        return redirect(url_for(".case", case_id=case_id, _anchor=f"referral-{referral_id}"))

    @expose("/<int:referral_id>/print.pdf")
    @expose("/<int:referral_id>/print")
    def print_view(self, referral_id: int):
        self.require("details")
        referral = wf.visible_referral(db.session, current_user, referral_id)
        if referral is None:
            abort(404)
        if referral.is_health and not reads_health(current_user.role):
            abort(403)  # the letter states the medical reason
        record_opening(referral)
        referral = wf.visible_referral(db.session, current_user, referral_id)
        assert referral is not None  # seen a moment ago
        return printed(
            self,
            "admin/workflow/referral_print.html",
            (f"Направление № {referral.id}.pdf", f"referral-{referral.id}.pdf"),
            ("referral", referral.id),
            referral=referral,
            row=wf.referral_row(referral, current_user.role, centre_today()),
            case=referral.case,
            relation=RELATION.label(referral.case.applicant.relation),
            printed_on=centre_today(),
        )


class ReferralView(OporaModelView):
    """Every referral the user may see (the case's scope); made and moved only on the
    case's referral page, so this table is for reading and exporting."""

    audit_opening = True  # a medical reason is health data
    column_list = (
        "case",
        "partner",
        "service",
        "reason_kind",
        "status",
        "sent_on",
        "answer_due",
        "answered_on",
        "handled_by",
    )
    # The export carries the reasons and answers; a medical one only for a role that
    # reads health data (its columns are health columns).
    column_export_list = (
        *column_list,
        "contact",
        "reason",
        "health_reason",
        "prepared_on",
        "accepted_on",
        "answer",
        "health_answer",
    )
    column_filters = (
        "status",
        "reason_kind",
        "sent_on",
        "answer_due",
        "answered_on",
        "partner",
        "partner.kind",
        "handled_by",
    )
    column_labels = {"partner.kind": "Тип партнёра"}
    column_sortable_list = ("sent_on", "answer_due", "answered_on", "status")
    column_default_sort = ("prepared_on", True)
    column_details_list = (
        "case",
        "partner",
        "contact",
        "service",
        "reason_kind",
        "reason",
        "health_reason",
        "status",
        "prepared_on",
        "sent_on",
        "answer_due",
        "accepted_on",
        "answered_on",
        "answer",
        "health_answer",
        "handled_by",
        "prepared_by",
        "created_at",
    )

    def on_model_delete(self, model):
        """«В архив»: the referral's task of an overdue answer is cancelled with it."""
        wf.archive_referral(db.session, model)
        return super().on_model_delete(model)

    def details_actions(self, model):
        actions = []
        if self.may_open("referrals", "details"):
            actions.append(
                (
                    "Направления по случаю",
                    url_for("referrals.case", case_id=model.case_id),
                    "open-referrals",
                )
            )
            if not model.is_health or reads_health(self.role):
                actions.append(
                    (
                        "Письмо для печати",
                        url_for("referrals.print_view", referral_id=model.id),
                        "print-referral",
                    )
                )
        return actions

    def may_open(self, view: str, action: str) -> bool:
        from .permissions import allowed

        return allowed(self.role, view, action)
