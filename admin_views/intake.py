"""Новое обращение: find or register the family, record the applicant, the child and the
consent, then open the case in status «заявление».

Intake may start from an appointment (?appointment=), a partner's incoming referral
(?referral=: the forms prefilled, the family linked to it) or a social raid (?raid=);
a new family records how it was identified («как выявлена», workflows/channels.py).

The pages collect input and call workflows/cases.py and workflows/consent.py; a
refusal is shown next to its field. Access comes from the permission matrix (endpoint
`intake`); families from the row scope, so an out-of-scope family answers 404.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from models import (
    Appointment,
    District,
    Family,
    IncomingReferral,
    Partner,
    Person,
    SocialRaid,
    db,
)
from models.declension import sex_from_patronymic
from models.live import active_for_new_work
from models.people import DISABILITY, DISABILITY_GROUP, IDENTIFIED_BY, RELATION, SEX
from workflows import cases as wf
from workflows import channels, reception
from workflows.consent import DEFAULT_SCOPE, NO_CONSENT, has_active_consent, record_consent
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from . import validators as v
from .forms import (
    PageForm,
    RowField,
    answered,
    date_field,
    parse_id,
    required,
    text_area,
    text_field,
)
from .openings import record_opening
from .pages import PageView


class SearchForm(PageForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    surname = StringField("Фамилия", validators=[Optional(), Length(max=64)])
    address = StringField("Адрес", validators=[Optional(), Length(max=255)])
    snils = StringField("СНИЛС", validators=[Optional(), v.Snils()])


def _name_field(label: str, *validators) -> StringField:
    return StringField(label, validators=[*validators, Length(max=64), v.PersonName()])


class ApplicantFields:
    last_name = _name_field("Фамилия", required())
    first_name = _name_field("Имя", required())
    middle_name = _name_field("Отчество", Optional())
    birth_date = date_field("Дата рождения", required=True, past_only=True)
    sex = SelectField("Пол", choices=[("", "— выберите —"), *SEX.pairs()], validators=[required()])
    relation = SelectField(
        "Кем приходится",
        choices=[("", "— выберите —")] + [(c, RELATION.label(c)) for c in wf.APPLICANT_RELATIONS],
        validators=[required()],
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


class ApplicantForm(ApplicantFields, PageForm):
    pass


class NewFamilyForm(ApplicantFields, PageForm):
    surname = _name_field("Фамилия семьи", required())
    district = RowField("Участок", model=District, validators=[answered()])
    address = text_field("Адрес", required())
    family_phone = StringField("Телефон семьи", validators=[Optional(), v.Phone()])
    # How the family was identified: fixed by the referral or the raid it comes from.
    identified_by = SelectField(
        "Как выявлена", choices=IDENTIFIED_BY.pairs(), validators=[Optional()], default="self"
    )
    identified_partner = RowField("Какой партнёр направил", model=Partner, validators=[Optional()])
    social_raid = RowField("В каком рейде выявлена", model=SocialRaid, validators=[Optional()])
    confirm_duplicate = BooleanField("Это другая семья — всё равно зарегистрировать")


# The child's fields share their names with the applicant's on the family page: prefixed.
CHILD = "child"


class ChildForm(PageForm):
    last_name = _name_field("Фамилия", required())
    first_name = _name_field("Имя", required())
    middle_name = _name_field("Отчество", Optional())
    birth_date = date_field("Дата рождения", required=True, past_only=True)
    # Left unchosen, the patronymic tells it («Игоревич», «Игоревна»): one choice fewer.
    sex = SelectField("Пол", choices=[("", "— по отчеству —"), *SEX.pairs()])
    disability_status = SelectField(
        "Инвалидность / ОВЗ",
        choices=[("", "— выберите —"), *DISABILITY.pairs()],
        validators=[required()],
    )
    disability_group = SelectField(
        "Группа (категория)",
        choices=[("", "—"), *DISABILITY_GROUP.pairs()],
        validators=[Optional()],
    )
    disability_review_date = date_field("Срок переосвидетельствования")
    snils = StringField("СНИЛС", validators=[Optional(), v.Snils()])

    def validate_sex(self, field) -> None:
        if not field.data and sex_from_patronymic(self.middle_name.data) is None:
            raise ValidationError("Выберите пол: по отчеству его не определить.")

    def child_data(self) -> wf.ChildData:
        return wf.ChildData(
            last_name=self.last_name.data,
            first_name=self.first_name.data,
            middle_name=self.middle_name.data,
            birth_date=self.birth_date.data,
            sex=self.sex.data or sex_from_patronymic(self.middle_name.data) or "",
            disability_status=self.disability_status.data,
            disability_group=self.disability_group.data or None,
            disability_review_date=self.disability_review_date.data,
            snils=self.snils.data,
        )


class ApplicationForm(PageForm):
    applicant = RowField("Заявитель", model=Person, validators=[answered()])
    application_date = date_field("Дата заявления", required=True, past_only=True)


class ConsentForm(PageForm):
    person = RowField("Кто дал согласие", model=Person, validators=[answered()])
    given_on = date_field("Дата согласия", required=True, past_only=True)
    scope = text_area("Объём согласия", required())
    notifications = BooleanField(
        "Согласие на извещения (о предложении ТСР, о записи на приём, о сроке возврата)"
    )


def _identified(family: Family) -> str:
    """«Как выявлена» in words, with the partner or the raid."""
    words = IDENTIFIED_BY.label(family.identified_by)
    source = family.identified_partner or family.social_raid
    return f"{words}: {source}" if source is not None else words


class IntakeView(PageView):
    """Новое обращение: find or register the family, record the applicant and consent,
    then open the case in status «заявление»."""

    def _appointment(self) -> Appointment | None:
        appointment_id = parse_id(request.values.get("appointment"))
        if not appointment_id:
            return None
        appointment = self.visible_or_404(Appointment, appointment_id)
        try:
            reception.check_convertible(appointment)
        except WorkflowError as error:
            flash(str(error), "error")
            return None
        return appointment

    def _referral(self) -> IncomingReferral | None:
        """The partner's referral intake starts from (?referral=), while it waits for one."""
        referral_id = parse_id(request.values.get("referral"))
        if not referral_id:
            return None
        referral = self.visible_or_404(IncomingReferral, referral_id)
        if referral.status != "received" or referral.archived_at is not None:
            flash(f"{referral} уже рассмотрено: регистрация по нему не начинается.", "error")
            return None
        return referral

    def _raid(self) -> SocialRaid | None:
        """The raid that found the family being registered (?raid=)."""
        raid_id = parse_id(request.values.get("raid"))
        if not raid_id:
            return None
        raid = self.visible_or_404(SocialRaid, raid_id)
        if raid.archived_at is not None:
            flash("Этот рейд в архиве: семьи по нему не регистрируют.", "error")
            return None
        return raid

    @staticmethod
    def _keep(appointment=None, referral=None, raid=None) -> dict[str, int]:
        """The query parameters that carry where intake started from, page to page."""
        sources = {"appointment": appointment, "referral": referral, "raid": raid}
        return {name: row.id for name, row in sources.items() if row is not None}

    def _back_to_family(self, family: Family, appointment: Appointment | None, **sources):
        return redirect(
            url_for(".family", family_id=family.id, **self._keep(appointment, **sources))
        )

    @expose("/")
    def index(self):
        self.require("create")
        appointment = self._appointment()
        referral = self._referral()
        form = SearchForm(formdata=request.args)
        from_referral = referral is not None and not any(
            request.args.get(k) for k in ("surname", "address", "snils")
        )
        if from_referral:
            assert referral is not None
            form.surname.data = referral.person_name.split()[0]
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
        families: list[Family] = []
        if searched and form.validate():
            families = wf.find_families(
                db.session,
                current_user,
                surname=form.surname.data or "",
                address=form.address.data or "",
                snils=form.snils.data or "",
            )
        rows = wf.intake_rows(db.session, families, centre_today())
        return self.render(
            "case_flow/intake_search.html",
            form=form,
            searched=searched,
            rows=rows,
            appointment=appointment,
            referral=referral,
            keep=self._keep(appointment, referral),
        )

    @expose("/new", methods=("GET", "POST"))
    def new_family(self):
        self.require("create")
        appointment = self._appointment()
        referral, raid = self._referral(), self._raid()
        form = NewFamilyForm()
        districts = wf.allowed_districts(db.session, current_user)
        form.district.choices = [(0, "— выберите —")] + [(d.id, d.name) for d in districts]
        self._channel_choices(form)
        if request.method == "GET":
            form.surname.data = request.args.get("surname", "")
            form.address.data = request.args.get("address", "")
            self._prefill(form, referral, raid)
            if appointment is not None and appointment.citizen_name:
                parts = appointment.citizen_name.split()
                form.last_name.data = parts[0] if parts else ""
                form.first_name.data = parts[1] if len(parts) > 1 else ""
                form.middle_name.data = " ".join(parts[2:])
                form.phone.data = appointment.citizen_phone or ""
        duplicates = None
        if form.validate_on_submit():
            district = next((d for d in districts if d.id == form.district.data), None)

            def register():
                identified = channels.identification(
                    db.session,
                    current_user,
                    channel=form.identified_by.data,
                    partner_id=form.identified_partner.data,
                    raid_id=raid.id if raid else None,
                    referral_id=referral.id if referral else None,
                )
                return wf.register_family(
                    db.session,
                    current_user,
                    surname=form.surname.data,
                    district=district,
                    address=form.address.data,
                    phone=form.family_phone.data,
                    applicant=form.applicant_data(),
                    confirm_duplicate=form.confirm_duplicate.data,
                    identified=identified,
                )

            outcome = self.run(register)
            if outcome.ok:
                family, _person = outcome.value
                flash(
                    f"Семья зарегистрирована: {family}. Запишите ребёнка, согласие и заявление.",
                    "success",
                )
                return self._back_to_family(family, appointment)
            if outcome.refusal.field == "confirm_duplicate":
                # Possible duplicates are a warning above the form with a box to tick.
                duplicates = str(outcome.refusal)
            else:
                self.refuse(form, outcome.refusal)
        return self.render(
            "case_flow/intake_new.html",
            form=form,
            appointment=appointment,
            referral=referral,
            raid=raid,
            keep=self._keep(appointment, referral, raid),
            duplicates=duplicates,
        )

    @staticmethod
    def _channel_choices(form: NewFamilyForm) -> None:
        partners = db.session.scalars(active_for_new_work(select(Partner)).order_by(Partner.name))
        form.identified_partner.choices = [(0, "— выберите —")] + [(p.id, p.name) for p in partners]
        raids = db.session.scalars(
            select(SocialRaid)
            .where(where_visible(SocialRaid, current_user), active_for_new_work(SocialRaid))
            .order_by(SocialRaid.held_on.desc())
            .limit(50)
        )
        form.social_raid.choices = [(0, "— выберите —")] + [(r.id, str(r)) for r in raids]

    @staticmethod
    def _prefill(form: NewFamilyForm, referral, raid) -> None:
        """The family as the referral names it (its people, address, district)."""
        if raid is not None:
            form.identified_by.data = "raid"
            form.district.data = raid.district_id
        if referral is None:
            return
        form.identified_by.data = "partner"
        form.identified_partner.data = referral.partner_id
        parts = referral.person_name.split()
        form.surname.data = form.surname.data or (parts[0] if parts else "")
        form.last_name.data = parts[0] if parts else ""
        form.first_name.data = parts[1] if len(parts) > 1 else ""
        form.middle_name.data = " ".join(parts[2:])
        form.address.data = form.address.data or referral.address or ""
        form.family_phone.data = referral.phone or ""
        form.district.data = referral.district_id

    def _family_page(
        self,
        family,
        appointment,
        application=None,
        applicant=None,
        consent=None,
        child=None,
        referral=None,
    ):
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
            child_form=child or ChildForm(formdata=None, prefix=CHILD),
            children=wf.children_of(family),
            disability=DISABILITY,
            target_child=wf.has_target_child(db.session, family.id, centre_today()),
            target_missing=wf.TARGET_GROUP_MISSING,
            identified=_identified(family),
            appointment=appointment,
            referral=referral,
            keep=self._keep(appointment, referral),
        )

    @expose("/family/<int:family_id>", methods=("GET", "POST"))
    def family(self, family_id: int):
        self.require("create")
        family = self.visible_or_404(Family, family_id)
        record_opening(family)  # the family's address and its applicants by name
        appointment = self._appointment()
        referral = self._referral()
        form = ApplicationForm()
        form.applicant.choices = [(p.id, p.full_name) for p in wf.applicants_of(family)]
        if form.validate_on_submit():
            applicant = db.session.get(Person, form.applicant.data)
            outcome = self.run(
                lambda: wf.open_case(
                    db.session,
                    current_user,
                    family=family,
                    applicant=applicant,
                    application_date=form.application_date.data,
                    appointment=appointment,
                ),
                form=form,
            )
            if outcome.ok:
                flash(
                    f"Заявление принято: случай № {outcome.value.id}. "
                    "Следующий шаг — оценка потребностей семьи.",
                    "success",
                )
                return redirect(url_for("case.details_view", id=outcome.value.id))
        return self._family_page(family, appointment, application=form, referral=referral)

    @expose("/family/<int:family_id>/applicant", methods=("POST",))
    def applicant(self, family_id: int):
        self.require("create")
        family = self.visible_or_404(Family, family_id)
        appointment = self._appointment()
        form = ApplicantForm()
        if form.validate_on_submit():
            outcome = self.run(
                lambda: wf.add_applicant(db.session, current_user, family, form.applicant_data()),
                form=form,
            )
            if outcome.ok:
                flash(f"Заявитель добавлен: {outcome.value.full_name}.", "success")
                return self._back_to_family(family, appointment)
        return self._family_page(family, appointment, applicant=form)

    @expose("/family/<int:family_id>/child", methods=("POST",))
    def child(self, family_id: int):
        self.require("create")
        family = self.visible_or_404(Family, family_id)
        appointment, referral = self._appointment(), self._referral()
        form = ChildForm(prefix=CHILD)
        if form.validate_on_submit():
            outcome = self.run(
                lambda: wf.add_child(db.session, current_user, family, form.child_data()),
                form=form,
            )
            if outcome.ok:
                flash(f"Ребёнок записан: {outcome.value.full_name}.", "success")
                return self._back_to_family(family, appointment, referral=referral)
        return self._family_page(family, appointment, child=form, referral=referral)

    @expose("/family/<int:family_id>/link-referral", methods=("POST",))
    def link_referral(self, family_id: int):
        self.require("create")
        family = self.visible_or_404(Family, family_id)
        appointment, referral = self._appointment(), self._referral()
        if referral is not None:
            outcome = self.run(
                lambda: channels.link_incoming_referral(
                    db.session, current_user, referral.id, family, centre_today()
                )
            )
            self.tell(outcome, lambda r: f"{r} связано с семьёй {family.surname}.")
        return self._back_to_family(family, appointment)

    @expose("/family/<int:family_id>/consent", methods=("POST",))
    def consent(self, family_id: int):
        self.require("create")
        family = self.visible_or_404(Family, family_id)
        appointment = self._appointment()
        form = ConsentForm()
        form.person.choices = [(p.id, p.full_name) for p in wf.applicants_of(family)]
        if form.validate_on_submit():
            person = db.session.get(Person, form.person.data)
            outcome = self.run(
                lambda: record_consent(
                    db.session,
                    family,
                    person,
                    form.given_on.data,
                    form.scope.data,
                    notifications=form.notifications.data,
                ),
                form=form,
            )
            if outcome.ok:
                flash("Согласие на обработку персональных данных записано.", "success")
                return self._back_to_family(family, appointment)
        return self._family_page(family, appointment, consent=form)
