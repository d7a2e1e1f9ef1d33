"""The child's ИПРА: its tables (the programme, its measures, its ТСР) and the page of
its proposals, where the worker confirms an ИПСС activity or a rental queue place.

ИПРА is health data: the row scope (workflows.scope) shows it only to a role that reads
health, of a family the user may see — any other answers 404; every opening of a row is
audited. The proposals are made only by workflows/rehab.py, one click each.
"""

from __future__ import annotations

from flask import redirect, url_for
from flask_admin import expose
from flask_login import current_user

from models import ROLE, Partner, Person, RehabMeasure, RehabProgramme, RehabTsr, db
from models.guards import case_refusal
from workflows import rehab as wf
from workflows.dates import centre_today
from workflows.rental import active_case

from .base import OporaModelView
from .forms import WorkflowForm
from .modelview.rowscope import ScopedAjaxLoader, pickable
from .openings import record_opening
from .pages import PageView
from .permissions import allowed

NOT_A_CHILD = "ИПРА оформляется на ребёнка: выберите ребёнка семьи."
NOT_A_BUREAU = "Выберите бюро медико-социальной экспертизы (партнёр вида «бюро МСЭ»)."
VALID_AFTER_ISSUE = "Срок действия ИПРА — позже даты её выдачи."


class CoordinatorRestores:
    """The ИПРА is health data the administrator does not read, so the coordinator — who
    archives it and reads health — restores what was archived in error."""

    def is_action_allowed(self, name: str) -> bool:
        if name == "restore":
            return self.role == "coordinator"
        return super().is_action_allowed(name)


class ChildLoader(ScopedAjaxLoader):
    """The child picker: the children the user may see, not archived."""

    def get_query(self):
        return super().get_query().filter(Person.relation == "child")


class RehabProgrammeView(CoordinatorRestores, OporaModelView):
    audit_opening = True  # health data
    column_list = ("child", "number", "issued_on", "valid_until", "bureau")
    column_searchable_list = ("number",)
    column_filters = ("issued_on", "valid_until", "bureau")
    column_sortable_list = ("number", "issued_on", "valid_until")
    column_default_sort = ("valid_until", True)
    form_columns = ("child", "number", "issued_on", "valid_until", "bureau", "notes")
    column_details_list = (
        "child",
        "number",
        "issued_on",
        "valid_until",
        "bureau",
        "notes",
        "created_at",
    )
    # Read by OporaModelView.__init__ over the default Person picker: children only.
    form_ajax_refs = {
        "child": ChildLoader(
            "child",
            db.session,
            Person,
            fields=("last_name", "first_name", "snils"),
            placeholder="Начните вводить фамилию ребёнка…",
            minimum_input_length=2,
        )
    }
    details_related = (
        ("measures", ("kind", "description", "activity")),
        ("tsr_items", ("name", "by_fund", "equipment_type", "reservation")),
    )

    def _scope_pickers(self, form):
        form = super()._scope_pickers(form)
        bureau = getattr(form, "bureau", None)
        if bureau is not None:
            bureau.query = pickable(Partner).filter(Partner.kind == "mse").order_by(Partner.name)
        return form

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        child, bureau = getattr(form, "child", None), getattr(form, "bureau", None)
        if child is not None and child.data is not None and child.data.relation != "child":
            child.errors = [*child.errors, NOT_A_CHILD]
            valid = False
        if bureau is not None and bureau.data is not None and bureau.data.kind != "mse":
            bureau.errors = [*bureau.errors, NOT_A_BUREAU]
            valid = False
        issued, until = getattr(form, "issued_on", None), getattr(form, "valid_until", None)
        dates = (issued.data, until.data) if issued is not None and until is not None else ()
        if all(dates) and dates and dates[1] <= dates[0]:
            until.errors = [*until.errors, VALID_AFTER_ISSUE]
            valid = False
        return valid

    def details_actions(self, model):
        if not allowed(self.role, "ipra", "details"):
            return []
        url = url_for("ipra.programme", programme_id=model.id)
        return [("Предложения по ИПРА: ИПСС и очередь проката", url, "open-ipra")]


class RehabMeasureView(CoordinatorRestores, OporaModelView):
    audit_opening = True
    column_list = ("programme", "kind", "description", "activity")
    column_filters = ("kind",)
    form_columns = ("programme", "kind", "description")
    column_details_list = ("programme", "kind", "description", "activity")


class RehabTsrView(CoordinatorRestores, OporaModelView):
    audit_opening = True
    column_list = ("programme", "name", "by_fund", "equipment_type", "reservation")
    column_filters = ("by_fund", "equipment_type")
    form_columns = ("programme", "name", "by_fund", "equipment_type")
    column_details_list = ("programme", "name", "by_fund", "equipment_type", "reservation")


class ConfirmForm(WorkflowForm):
    """A confirmation button: the CSRF token only."""


class IpraView(PageView):
    """The proposals of one ИПРА: ИПСС activities for its measures, queue places for its ТСР."""

    menu_visible = False

    @expose("/")
    def index(self):
        return redirect(url_for("rehab_programme.index_view"))

    def _programme(self, programme_id: int) -> RehabProgramme:
        return self.visible_or_404(RehabProgramme, programme_id)

    @expose("/<int:programme_id>")
    def programme(self, programme_id: int):
        self.require("details")
        record_opening(self._programme(programme_id))
        programme = self._programme(programme_id)
        today = centre_today()
        case = active_case(db.session, programme.child.family_id)
        return self.render(
            "admin/workflow/ipra.html",
            programme=programme,
            child=programme.child,
            case=case,
            case_url=self.case_url(case.id) if case is not None else None,
            measures=wf.measure_proposals(db.session, programme, today),
            tsr=wf.tsr_proposals(db.session, programme),
            role_label=ROLE.label,
            writable=(
                self.may("edit")
                and programme.archived_at is None
                and (case is None or case_refusal(case) is None)
            ),
            details_url=url_for("rehab_programme.details_view", id=programme.id)
            if allowed(current_user.role, "rehab_programme", "details")
            else None,
            today=today,
        )

    @expose("/measure/<int:measure_id>/confirm", methods=("POST",))
    def confirm_measure(self, measure_id: int):
        self.require("edit")
        programme_id = self._owner(RehabMeasure, measure_id)
        form = ConfirmForm()

        def confirm():
            form.checked()
            return wf.confirm_measure(db.session, current_user, measure_id, centre_today())

        self.tell(self.run(confirm), lambda a: f"Мероприятие внесено в ИПСС: {a}.")
        return redirect(url_for(".programme", programme_id=programme_id))

    @expose("/tsr/<int:tsr_id>/confirm", methods=("POST",))
    def confirm_tsr(self, tsr_id: int):
        self.require("edit")
        programme_id = self._owner(RehabTsr, tsr_id)
        form = ConfirmForm()

        def confirm():
            form.checked()
            return wf.confirm_tsr(db.session, current_user, tsr_id, centre_today())

        self.tell(self.run(confirm), lambda r: f"Ребёнок поставлен в очередь: заявка № {r.id}.")
        return redirect(url_for(".programme", programme_id=programme_id))

    def _owner(self, model, row_id: int) -> int:
        row = self.visible_or_404(model, row_id)
        return row.programme_id


def ipra_links(
    role: str | None, family_id: int, child_id: int | None = None
) -> list[tuple[str, str, str]]:
    """Links to the ИПРА pages of the family's children (or of one child), for a role
    that may open them."""
    if not allowed(role, "ipra", "details"):
        return []
    return [
        (
            f"ИПРА: {p.child.full_name}",
            url_for("ipra.programme", programme_id=p.id),
            f"open-ipra-{p.id}",
        )
        for p in wf.latest_programmes(db.session, family_id)
        if child_id is None or p.child_id == child_id
    ]
