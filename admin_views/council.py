"""The coordination council (`council`): the meetings one may see, a new meeting, the
meeting's page (participants, agenda cases, decisions and their state), its printable
protocol; and the agreements ledger (`agreement_ledger`), the renewal pack of one
partner agreement.

Every change comes from workflows/council.py through `PageView.run`; meetings come
through the row scope (another district's meeting answers 404), agenda cases and
decisions only as far as the reader sees their cases.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import StringField

from models import (
    CouncilMeeting,
    Partner,
    PartnerAgreement,
    Service,
    db,
)
from models.council import DECISION_STATE
from models.referrals import REFERRAL_REASON, REFERRAL_STATUS
from workflows import council as wf
from workflows.dates import centre_today
from workflows.errors import WorkflowError

from .forms import (
    IdField,
    WorkflowForm,
    date_field,
    live_choices,
    live_staff_choices,
    parse_id,
    partner_contact_choices,
)
from .openings import record_opening
from .pages import PageView


class MeetingForm(WorkflowForm):
    held_on = date_field("Дата заседания")
    district = IdField()
    agenda = StringField()


class AgendaForm(WorkflowForm):
    case = IdField()
    note = StringField()


class DecisionForm(WorkflowForm):
    case = IdField()
    what = StringField()
    due_on = date_field("Срок")
    staff = IdField()
    partner = IdField()
    contact = IdField()
    service = IdField()
    reason_kind = StringField()


def _ids(name: str) -> list[int | None]:
    return [parse_id(raw) for raw in request.form.getlist(name)]


def requisites() -> dict:
    """The centre's name and requisites, as the referral letter prints them."""
    config = current_app.config
    return {
        "centre": config["CENTRE_NAME"],
        "requisites": [
            line
            for line in (
                config.get("CENTRE_ADDRESS"),
                config.get("CENTRE_PHONE") and f"тел. {config['CENTRE_PHONE']}",
                config.get("CENTRE_EMAIL") and f"эл. почта {config['CENTRE_EMAIL']}",
            )
            if line
        ],
        "head": config.get("CENTRE_HEAD"),
        "printed_on": centre_today(),
    }


def picked(values, error: WorkflowError | None) -> Callable[[str], set[str]]:
    """`picked(name)`: the values a refused form had chosen in `name`, to show them chosen
    again; nothing when the page is not a refusal."""
    return lambda name: set(values.getlist(name)) if error is not None and values else set()


class CouncilView(PageView):
    """The council's meetings: L the list, D a meeting and its protocol, C a new meeting,
    E its participants, agenda cases and decisions."""

    @staticmethod
    def _pickers() -> dict:
        return {"staff": live_staff_choices(), "contacts": partner_contact_choices()}

    @expose("/")
    def index(self, error: WorkflowError | None = None, values=None):
        self.require("list")
        pickers = {}
        if self.may("create"):
            districts = wf.recorded_districts(db.session, current_user)
            pickers = {"districts": [(d.id, d.name) for d in districts], **self._pickers()}
        return self.render(
            "admin/workflow/council_list.html",
            rows=wf.meetings_list(db.session, current_user),
            may_create=self.may("create"),
            error=error,
            values=values or {},
            picked=picked(values, error),
            today=centre_today(),
            **pickers,
        )

    @expose("/new", methods=("POST",))
    def new(self):
        self.require("create")
        form = MeetingForm()

        def record():
            form.checked()
            return wf.record_meeting(
                db.session,
                current_user,
                held_on=form.held_on.data,
                district_id=form.district.data,
                agenda=form.agenda.data,
                staff_ids=_ids("staff"),
                contact_ids=_ids("contacts"),
                today=centre_today(),
            )

        outcome = self.run(record)
        if not outcome.ok:
            return self.index(outcome.refusal, request.form)
        flash(f"{outcome.value} записано. Добавьте случаи повестки и решения.", "success")
        return redirect(url_for(".meeting", meeting_id=outcome.value.id))

    @expose("/<int:meeting_id>")
    def meeting(self, meeting_id: int, error: WorkflowError | None = None, form_name=None):
        self.require("details")
        meeting = self.visible_or_404(CouncilMeeting, meeting_id)
        record_opening(meeting)  # the agenda names families
        meeting = self.visible_or_404(CouncilMeeting, meeting_id)
        page = wf.meeting_page(db.session, current_user, meeting)
        writable = (
            self.may("edit")
            and meeting.archived_at is None
            and wf.records_for(db.session, current_user, meeting.district_id)
        )
        extra = {}
        if writable:
            extra = {
                **self._pickers(),
                "cases": [
                    (case.id, f"№ {case.id} · {case.family.surname}")
                    for case in wf.recordable_cases(db.session, current_user, meeting)
                ],
                "partners": live_choices(Partner, Partner.name),
                "services": live_choices(Service, Service.kind, Service.name),
                "reasons": REFERRAL_REASON.pairs(),
            }
        return self.render(
            "admin/workflow/council_meeting.html",
            page=page,
            meeting=meeting,
            writable=writable,
            states=DECISION_STATE,
            referral_status=REFERRAL_STATUS,
            error=error,
            form_name=form_name,
            values=request.form if error else {},
            picked=picked(request.form, error),
            default_due=wf.default_due(meeting.held_on),
            case_url=self.case_url,
            **extra,
        )

    def _change(self, meeting_id: int, form_name: str, step, done: str):
        self.require("edit")
        self.visible_or_404(CouncilMeeting, meeting_id)
        outcome = self.run(step)
        if not outcome.ok:
            return self.meeting(meeting_id, outcome.refusal, form_name)
        flash(done, "success")
        return redirect(url_for(".meeting", meeting_id=meeting_id, _anchor=form_name))

    @expose("/<int:meeting_id>/participants", methods=("POST",))
    def participants(self, meeting_id: int):
        form = WorkflowForm()

        def add():
            form.checked()
            return wf.add_participants(
                db.session,
                current_user,
                meeting_id,
                staff_ids=_ids("staff"),
                contact_ids=_ids("contacts"),
            )

        return self._change(meeting_id, "participants", add, "Участники добавлены.")

    @expose("/<int:meeting_id>/agenda", methods=("POST",))
    def agenda(self, meeting_id: int):
        form = AgendaForm()

        def add():
            form.checked()
            return wf.add_agenda_case(
                db.session, current_user, meeting_id, case_id=form.case.data, note=form.note.data
            )

        return self._change(meeting_id, "agenda", add, "Случай внесён в повестку.")

    @expose("/<int:meeting_id>/decide", methods=("POST",))
    def decide(self, meeting_id: int):
        form = DecisionForm()
        executor = request.form.get("executor")

        def decide():
            form.checked()
            return wf.decide(
                db.session,
                current_user,
                meeting_id,
                wf.Decision(
                    case_id=form.case.data,
                    what=form.what.data,
                    due_on=form.due_on.data,
                    staff_id=form.staff.data if executor == "staff" else None,
                    partner_id=form.partner.data if executor == "partner" else None,
                    contact_id=form.contact.data if executor == "partner" else None,
                    service_id=form.service.data,
                    reason_kind=form.reason_kind.data,
                ),
                today=centre_today(),
            )

        return self._change(
            meeting_id,
            "decisions",
            decide,
            "Решение записано: поручение стало задачей сотрудника или направлением партнёру.",
        )

    @expose("/<int:meeting_id>/protocol")
    def protocol(self, meeting_id: int):
        self.require("details")
        meeting = self.visible_or_404(CouncilMeeting, meeting_id)
        record_opening(meeting)
        meeting = self.visible_or_404(CouncilMeeting, meeting_id)
        return self.render(
            "admin/workflow/council_protocol.html",
            page=wf.meeting_page(db.session, current_user, meeting),
            meeting=meeting,
            states=DECISION_STATE,
            **requisites(),
        )


class AgreementLedgerView(PageView):
    """D: the agreements ledger of one partner agreement («пакет к продлению»)."""

    menu_visible = False

    @expose("/")
    def index(self):
        return redirect(url_for("partner_agreement.index_view"))

    @expose("/<int:agreement_id>")
    def ledger(self, agreement_id: int):
        self.require("details")
        agreement = self.visible_or_404(PartnerAgreement, agreement_id)
        ledger = wf.agreement_ledger(db.session, current_user, agreement)
        return self.render(
            "admin/workflow/agreement_ledger.html",
            ledger=ledger,
            agreement=agreement,
            partner=agreement.partner,
            states=DECISION_STATE,
            referral_status=REFERRAL_STATUS,
            answer_days=wf.answer_days,
            **requisites(),
        )
