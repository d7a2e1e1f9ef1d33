"""Семьи: the family data bank."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from models import Consent, Person, db
from models.live import new_work_refusal
from models.people import FAMILY_CATEGORIES, RELATION
from workflows import documents as wf_documents
from workflows import timeline
from workflows.cases import check_family_district
from workflows.consent import has_active_consent
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.events import live_events_only
from workflows.notify import contact_problem
from workflows.scope import where_visible
from workflows.search import family_matches, person_matches

from . import documents
from .base import OporaModelView
from .openings import record_opening
from .permissions import allowed
from .printing import printed, signed_upload_url
from .rehab import ipra_links


def _categories(view, context, model, name):
    return ", ".join(model.categories)


class KeySearchMixin:
    """The list's search box by the generated search keys (workflows/search.py): a
    surname in any form from its beginning, not a patronymic; no function per row.
    Each view names its key predicate (`family_matches`, `person_matches`)."""

    key_matches: staticmethod

    def _apply_search(self, query, count_query, joins, count_joins, search):
        clause = self.key_matches(search, snils="snils" not in self._hidden())
        query = query.filter(clause)
        if count_query is not None:
            count_query = count_query.filter(clause)
        return query, count_query, joins, count_joins


class FamilyView(KeySearchMixin, OporaModelView):
    audit_opening = True
    details_template = "admin/family_details.html"

    # Surname (the family's or a member's, any form), address or phone; a SNILS.
    key_matches = staticmethod(family_matches)

    def _hidden(self):
        # «Категории» is computed from the category flags: hidden with them.
        hidden = super()._hidden()
        return hidden | {"categories"} if "is_large" in hidden else hidden

    column_list = ("surname", "address", "district", "categories", "status", "phone")
    column_labels = {
        "categories": "Категории",
        "identified_partner.kind": "Тип направившего партнёра",
    }
    column_formatters = {"categories": _categories}
    column_searchable_list = ("surname", "address", "phone")
    column_filters = (
        "district",
        "status",
        "identified_by",
        "identified_partner",
        "identified_partner.kind",
        *FAMILY_CATEGORIES,
    )
    column_sortable_list = ("surname", "address", ("district", "district.name"), "status")
    column_default_sort = "surname"
    form_columns = (
        "surname",
        "district",
        "address",
        "phone",
        "email",
        "contact_channel",
        *FAMILY_CATEGORIES,
        "identified_by",
        "identified_partner",
        "social_raid",
        "status",
        "notes",
    )
    # The five category flags read better as one line of words.
    column_details_list = (
        "surname",
        "district",
        "address",
        "phone",
        "email",
        "contact_channel",
        "categories",
        "identified_by",
        "identified_partner",
        "social_raid",
        "status",
        "notes",
        "created_at",
    )
    details_related = (
        (
            "members",
            (
                "last_name",
                "first_name",
                "middle_name",
                "birth_date",
                "relation",
                "disability_status",
                "disability_group",
                "snils",
            ),
        ),
        ("consents", ("person", "given_on", "scope", "notifications", "withdrawn_on")),
        ("cases", ("application_date", "status", "start_date", "planned_end_date", "lead_worker")),
        ("loans", ("unit", "child", "issued_on", "due_on", "returned_on")),
        ("reservations", ("type", "child", "requested_on", "priority", "status")),
        ("enrolments", ("programme", "enrolled_on", "left_on")),
        ("incoming_referrals", ("received_on", "partner", "status")),
        ("event_attendances", ("event", "children")),
    )

    def related_filter(self, rel_name: str):
        # The events the family took part in, not those archived (recorded in error).
        return live_events_only() if rel_name == "event_attendances" else None

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        # Where the family was when the edit began: keeping it there is no move.
        form.current_district_id = obj.district_id if obj is not None else None
        return form

    def validate_form(self, form) -> bool:
        """A district worker places a family only in their own districts (as intake does)."""
        valid = super().validate_form(form)
        channel = getattr(form, "contact_channel", None)
        if request.method == "POST" and channel is not None:
            phone, email = getattr(form, "phone", None), getattr(form, "email", None)
            problem = contact_problem(
                channel.data, phone.data if phone else None, email.data if email else None
            )
            if problem is not None:
                channel.errors = [*channel.errors, problem[1]]
                valid = False
        field = getattr(form, "district", None)
        if request.method != "POST" or field is None or field.data is None:
            return valid
        try:
            check_family_district(
                db.session, current_user, field.data, getattr(form, "current_district_id", None)
            )
        except WorkflowError as error:
            field.errors = [*field.errors, str(error)]
            return False
        return valid

    def timeline(self, model) -> list[tuple[timeline.Entry, str | None]]:
        """The family's timeline (workflows/timeline.py) from the tables the user may read,
        each entry with the page of its row where the user may open it."""
        role = self.role
        tables = [table for table in timeline.SOURCES if allowed(role, table, "list")]
        entries = timeline.timeline(db.session, current_user, model.id, tables)
        pages = {
            kind: url_for(f"{kind}.details_view")
            for kind in {entry.kind for entry in entries}
            if kind not in ("documents", "council") and allowed(role, kind, "details")
        }

        def page(entry: timeline.Entry) -> str | None:
            if entry.kind == "council":  # the meeting's own page, not a table's row
                if not allowed(role, "council", "details"):
                    return None
                return url_for("council.meeting", meeting_id=entry.row_id)
            return f"{pages[entry.kind]}?id={entry.row_id}" if entry.kind in pages else None

        return [(entry, page(entry)) for entry in entries]

    def documents_section(self, model):
        return documents.section("family", model, lambda a: allowed(self.role, "documents", a))

    def details_actions(self, model):
        actions = []
        live = new_work_refusal(model) is None  # an archived family starts no new work
        if allowed(self.role, "intake", "create") and live:
            url = url_for("intake.family", family_id=model.id)
            actions.append(("Новое обращение", url, "family-intake"))
        if allowed(self.role, "reception", "create") and live:
            url = url_for("reception.book", family=model.id)
            actions.append(("Записать на приём", url, "family-book"))
        if allowed(self.role, "rental_desk", "list"):
            url = url_for("rental_desk.family_view", family_id=model.id)
            actions.append(("Прокат ТСР: выдачи и очередь", url, "family-rental"))
        return actions

    def details_notices(self, model):
        if not allowed(self.role, "consent", "list"):
            return []
        today = centre_today()
        if has_active_consent(db.session, model.id, today):
            return []
        withdrawn = [
            c.withdrawn_on for c in model.consents if c.withdrawn_on and c.archived_at is None
        ]
        if withdrawn:
            return [
                (
                    "warning",
                    f"Согласие на обработку персональных данных отозвано {max(withdrawn):%d.%m.%Y}. "
                    "Новые случаи сопровождения открыть нельзя.",
                )
            ]
        return [("warning", "Нет согласия на обработку персональных данных. " + NO_CASE_HINT)]


NO_CASE_HINT = "Пока его нет, случай сопровождения открыть нельзя."


class PersonView(KeySearchMixin, OporaModelView):
    audit_opening = True

    # «Фамилия Имя Отчество» from the beginning, the surname in any form; a SNILS.
    key_matches = staticmethod(person_matches)

    column_list = (
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "relation",
        "family",
        "disability_status",
    )
    column_searchable_list = ("last_name", "first_name", "middle_name", "snils")
    column_filters = (
        "relation",
        "sex",
        "birth_date",
        "disability_status",
        "family.district",
        "family.is_low_income",
        "family.is_dangerous",
    )
    column_labels = {
        "family.district": "Участок",
        "family.is_low_income": "Семья малоимущая",
        "family.is_dangerous": "Семья в СОП",
    }
    column_sortable_list = ("last_name", "first_name", "birth_date", "relation")
    column_default_sort = [("last_name", False), ("first_name", False)]
    form_columns = (
        "family",
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "sex",
        "relation",
        "snils",
        "passport",
        "passport_issued",
        "phone",
        "disability_status",
        "disability_group",
        "disability_review_date",
        "health_notes",
    )
    column_details_list = form_columns
    details_related = (("consents", ("given_on", "scope", "withdrawn_on")),)

    def details_actions(self, model):
        """The child's ИПРА, for a role that reads it."""
        if not model.is_child:
            return []
        return ipra_links(self.role, model.family_id, child_id=model.id)

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        status, group = (
            getattr(form, "disability_status", None),
            getattr(form, "disability_group", None),
        )
        if (
            valid
            and status is not None
            and group is not None
            and group.data
            and status.data != "disabled"
        ):
            group.errors = [*group.errors, "Группа указывается только при инвалидности."]
            valid = False
        return valid


class ConsentView(OporaModelView):
    details_template = "admin/consent_details.html"
    column_list = ("family", "person", "given_on", "withdrawn_on", "notifications", "scope")
    column_searchable_list = ("scope",)
    column_filters = ("given_on", "withdrawn_on", "notifications")
    column_default_sort = ("given_on", True)
    form_columns = ("family", "person", "given_on", "scope", "notifications", "withdrawn_on")
    date_order = (("given_on", "withdrawn_on"),)

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        family, person = getattr(form, "family", None), getattr(form, "person", None)
        if (
            valid
            and family
            and person
            and family.data
            and person.data
            and person.data.family_id != family.data.id
        ):
            person.errors = [*person.errors, "Этот человек не из выбранной семьи."]
            valid = False
        return valid

    def signed_copies(self, consent):
        return wf_documents.signed_copies(db.session, current_user, consent=consent)

    def signed_upload(self, consent):
        return signed_upload_url(consent=consent.id)

    @expose("/print/<int:consent_id>.pdf")
    @expose("/print/<int:consent_id>/")
    def print_view(self, consent_id: int):
        """The consent to personal-data processing as a document to sign (152-ФЗ art. 9
        part 4): the subject with the passport, the operator, the purpose, the data, the
        actions, the term and the revocation, the signature."""
        if not self._allowed("details"):
            abort(403)
        consent = db.session.scalar(
            select(Consent).where(Consent.id == consent_id, where_visible(Consent, current_user))
        )
        if consent is None:
            abort(404)
        record_opening(consent)  # the consent names the person, the passport, the children
        consent = db.session.get(Consent, consent_id)
        children = db.session.scalars(
            select(Person)
            .where(
                Person.family_id == consent.family_id,
                Person.relation == "child",
                Person.archived_at.is_(None),
            )
            .order_by(Person.birth_date, Person.id)
        ).all()
        return printed(
            self,
            "print/consent.html",
            (f"Согласие на обработку ПДн № {consent.id}.pdf", f"consent-{consent.id}.pdf"),
            ("consent", consent.id),
            consent=consent,
            person=consent.person,
            children=children,
            relation=RELATION,
            signed=self.signed_copies(consent),
            upload_url=self.signed_upload(consent),
        )


class ProgrammeEnrolmentView(OporaModelView):
    column_list = ("programme", "family", "enrolled_on", "left_on")
    column_filters = ("programme", "enrolled_on", "left_on")
    column_default_sort = ("enrolled_on", True)
    form_columns = ("programme", "family", "enrolled_on", "left_on", "notes")
    date_order = (("enrolled_on", "left_on"),)
