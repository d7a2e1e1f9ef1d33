"""Направления партнёров и рейды: the incoming referrals of families and the social raids
(seed 002 §2.1) — registered by the staff who do intake, each the start of a family's
intake («Новое обращение» prefilled from it), and their tables for reading.

Every change comes from workflows/channels.py through `PageView.run`; a refusal is
shown next to its field. Referrals and raids come through the row scope (the family's
district), so another district's answers 404. A referral's reason may tell of a child's
health: the table hides it from a role without the health right, and the pages are
only for the intake roles, which have it.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectMultipleField, StringField
from wtforms.validators import Optional

from models import District, IncomingReferral, Partner, PartnerContact, SocialRaid, Staff, db
from models.channels import INCOMING_STATUS
from models.live import active_for_new_work
from models.roles import reads_health
from workflows import cases as case_wf
from workflows import channels as wf
from workflows.dates import centre_today
from workflows.scope import where_visible

from . import validators as v
from .base import OporaModelView
from .forms import (
    PageForm,
    RowField,
    answered,
    date_field,
    live_choices,
    partner_contact_choices,
    required,
    text_area,
    text_field,
)
from .openings import record_opening
from .pages import PageView
from .permissions import allowed

NONE = (0, "— выберите —")
NOBODY = (0, "— не указано (организация) —")


def _districts():
    return [(d.id, d.name) for d in case_wf.allowed_districts(db.session, current_user)]


class IncomingForm(PageForm):
    partner = RowField("Партнёр, который направил семью", model=Partner, validators=[answered()])
    contact = RowField("Контактное лицо партнёра", model=PartnerContact)
    district = RowField("Участок, где живёт семья", model=District, validators=[answered()])
    person_name = text_field("Кого направили (ФИО родителя или ребёнка)", required())
    address = text_field("Адрес семьи", Optional())
    phone = StringField("Телефон семьи", validators=[Optional(), v.Phone()])
    referred_on = date_field("Дата направления", required=True, past_only=True)
    received_on = date_field("Дата получения", required=True, past_only=True)
    reason = text_area("Причина направления", required())


class DeclineForm(PageForm):
    decided_on = date_field("Дата решения", required=True, past_only=True)
    decline_reason = text_area("Что не подтвердилось", required())


class RaidForm(PageForm):
    held_on = date_field("Дата рейда", required=True, past_only=True)
    district = RowField("Участок", model=District, validators=[answered()])
    area = text_field("Территория (улицы, дома)", required())
    staff = SelectMultipleField("Сотрудники центра", coerce=int)
    contacts = SelectMultipleField("Представители партнёров", coerce=int)
    notes = text_area("Итоги рейда", Optional())


class ChannelsView(PageView):
    """Incoming referrals and raids: the waiting list, a new referral or raid, each one's page."""

    def may_intake(self) -> bool:
        return allowed(current_user.role, "intake", "create")

    @expose("/")
    def index(self):
        self.require("details")
        raids = db.session.scalars(
            select(SocialRaid)
            .options(joinedload(SocialRaid.district))
            .where(where_visible(SocialRaid, current_user), SocialRaid.archived_at.is_(None))
            .order_by(SocialRaid.held_on.desc(), SocialRaid.id.desc())
            .limit(20)
        ).all()
        return self.render(
            "admin/workflow/channels.html",
            waiting=wf.waiting_referrals(db.session, current_user),
            raids=raids,
            may_create=self.may("create"),
            may_intake=self.may_intake(),
        )

    # --- incoming referrals ---

    def _incoming_form(self) -> IncomingForm:
        form = IncomingForm()
        form.partner.choices = [NONE, *live_choices(Partner, Partner.name)]
        form.contact.choices = [NOBODY, *partner_contact_choices()]
        form.district.choices = [NONE, *_districts()]
        return form

    @expose("/incoming/new", methods=("GET", "POST"))
    def new_incoming(self):
        self.require("create")
        form = self._incoming_form()
        if not form.is_submitted():
            form.received_on.data = centre_today()
        if form.validate_on_submit():
            outcome = self.run(
                lambda: wf.register_incoming_referral(
                    db.session,
                    current_user,
                    partner_id=form.partner.data,
                    contact_id=form.contact.data,
                    district_id=form.district.data,
                    person_name=form.person_name.data,
                    address=form.address.data,
                    phone=form.phone.data,
                    referred_on=form.referred_on.data,
                    received_on=form.received_on.data,
                    reason=form.reason.data,
                    today=centre_today(),
                ),
                form=form,
            )
            if outcome.ok:
                flash(f"{outcome.value} записано. Зарегистрируйте семью по нему.", "success")
                return redirect(url_for(".incoming", incoming_id=outcome.value.id))
        return self.render("admin/workflow/incoming_new.html", form=form)

    @expose("/incoming/<int:incoming_id>")
    def incoming(self, incoming_id: int):
        self.require("details")
        referral = self.visible_or_404(IncomingReferral, incoming_id)
        record_opening(referral)  # who was referred and why
        return self._incoming_page(self.visible_or_404(IncomingReferral, incoming_id), None)

    def _incoming_page(self, referral: IncomingReferral, decline: DeclineForm | None):
        if decline is None:
            decline = DeclineForm(formdata=None)
            decline.decided_on.data = centre_today()
        case = case_wf.open_case_of(db.session, referral.family_id) if referral.family_id else None
        return self.render(
            "admin/workflow/incoming.html",
            referral=referral,
            status_label=INCOMING_STATUS.label(referral.status),
            reason_shown=reads_health(current_user.role),
            decline=decline,
            may_edit=self.may("edit") and referral.archived_at is None,
            may_intake=self.may_intake() and referral.archived_at is None,
            case=case,
            case_url=self.case_url(case.id if case else None),
        )

    @expose("/incoming/<int:incoming_id>/decline", methods=("POST",))
    def decline(self, incoming_id: int):
        self.require("edit")
        referral = self.visible_or_404(IncomingReferral, incoming_id)
        form = DeclineForm()
        if form.validate_on_submit():
            outcome = self.run(
                lambda: wf.decline_incoming_referral(
                    db.session,
                    current_user,
                    referral.id,
                    decided_on=form.decided_on.data,
                    reason=form.decline_reason.data,
                    today=centre_today(),
                ),
                form=form,
            )
            if outcome.ok:
                flash(f"{outcome.value}: не подтвердилось, причина записана.", "success")
                return redirect(url_for(".incoming", incoming_id=incoming_id))
        return self._incoming_page(self.visible_or_404(IncomingReferral, incoming_id), form)

    # --- raids ---

    @expose("/raids/new", methods=("GET", "POST"))
    def new_raid(self):
        self.require("create")
        form = RaidForm()
        form.district.choices = [NONE, *_districts()]
        staff = db.session.scalars(
            active_for_new_work(select(Staff)).order_by(Staff.last_name, Staff.first_name)
        )
        form.staff.choices = [(s.id, f"{s.full_name}, {s.position}") for s in staff]
        form.contacts.choices = partner_contact_choices()
        if not form.is_submitted():
            form.held_on.data = centre_today()
            if current_user.staff_id:
                form.staff.data = [current_user.staff_id]
        if form.validate_on_submit():
            outcome = self.run(
                lambda: wf.record_raid(
                    db.session,
                    current_user,
                    held_on=form.held_on.data,
                    district_id=form.district.data,
                    area=form.area.data,
                    notes=form.notes.data,
                    staff_ids=form.staff.data or [],
                    contact_ids=form.contacts.data or [],
                    today=centre_today(),
                ),
                form=form,
            )
            if outcome.ok:
                flash(f"{outcome.value} записан. Зарегистрируйте выявленные семьи.", "success")
                return redirect(url_for(".raid", raid_id=outcome.value.id))
        return self.render("admin/workflow/raid_new.html", form=form)

    @expose("/raids/<int:raid_id>")
    def raid(self, raid_id: int):
        self.require("details")
        raid = self.visible_or_404(SocialRaid, raid_id)
        record_opening(raid)  # the families it found, by name and address
        raid = self.visible_or_404(SocialRaid, raid_id)
        families = [
            (family, case, self.case_url(case.id if case else None))
            for family, case in wf.raid_families(db.session, raid)
        ]
        return self.render(
            "admin/workflow/raid.html",
            raid=raid,
            families=families,
            may_intake=self.may_intake() and raid.archived_at is None,
            may_family=allowed(current_user.role, "family", "details"),
        )


class IncomingReferralView(OporaModelView):
    """Every incoming referral the user may see (the family's district); registered and
    decided only on the pages «Направления партнёров и рейды» and «Новое обращение»."""

    audit_opening = True  # who was referred, and why
    column_list = (
        "received_on",
        "partner",
        "person_name",
        "district",
        "status",
        "received_by",
        "family",
    )
    column_export_list = (
        *column_list,
        "contact",
        "referred_on",
        "address",
        "phone",
        "reason",
        "decided_on",
        "decline_reason",
    )
    column_filters = ("status", "received_on", "partner", "partner.kind", "district")
    column_labels = {"partner.kind": "Тип партнёра"}
    column_sortable_list = ("received_on", "status")
    column_default_sort = ("received_on", True)
    column_details_list = (
        "partner",
        "contact",
        "person_name",
        "address",
        "phone",
        "district",
        "referred_on",
        "reason",
        "received_on",
        "received_by",
        "status",
        "family",
        "decided_on",
        "decline_reason",
        "created_at",
    )

    def details_actions(self, model):
        if allowed(self.role, "channels", "details"):
            return [
                (
                    "Страница направления",
                    url_for("channels.incoming", incoming_id=model.id),
                    "open-incoming",
                )
            ]
        return []


class SocialRaidView(OporaModelView):
    """Every social raid the user may see; recorded on the page «Направления партнёров и рейды»."""

    column_list = ("held_on", "district", "area", "recorded_by")
    column_filters = ("held_on", "district")
    column_sortable_list = ("held_on",)
    column_default_sort = ("held_on", True)
    column_details_list = (
        "held_on",
        "district",
        "area",
        "staff",
        "contacts",
        "notes",
        "recorded_by",
        "created_at",
    )

    def details_actions(self, model):
        if allowed(self.role, "channels", "details"):
            return [("Страница рейда", url_for("channels.raid", raid_id=model.id), "open-raid")]
        return []
