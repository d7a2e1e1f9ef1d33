"""Рабочее место пункта проката: find a free unit, lend, print the act, extend,
return, release after sanitising, repair, write off, the queue, overdue loans.

The pages only collect input and call workflows/rental.py; a refusal is shown
next to its field. Loans, families and children pass the row scope; a page
never shows health data (only names, address and phone of a family).
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.orm import contains_eager, selectinload
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from models import (
    ROLE,
    Case,
    EquipmentType,
    EquipmentUnit,
    Family,
    Loan,
    LoanExtension,
    Person,
    RentalEvent,
    Reservation,
    Staff,
    db,
)
from models.declension import agree_with, family_surname
from models.live import active_for_new_work, new_work_refusal
from models.people import RELATION
from models.rental import (
    CONDITION,
    RESERVATION_PRIORITY,
    RESERVATION_STATUS,
    UNIT_STATUS,
    parse_size_query,
)
from workflows import rental
from workflows.dates import centre_today
from workflows.scope import where_visible
from workflows.search import surname_matches

from .forms import PageForm, RowField, answered, date_field, parse_id, without_control_characters
from .openings import record_opening
from .pages import PageView
from .permissions import MATRIX, allowed
from .printing import printed

REPRESENTATIVES = ("mother", "father", "legal_representative", "guardian")


class LendForm(PageForm):
    child = RowField("Ребёнок", model=Person, validators=[answered("Выберите ребёнка.")])
    issued_on = date_field("Дата выдачи", required=True)
    due_on = date_field("Вернуть до", required=True)
    condition = SelectField("Состояние при выдаче", choices=CONDITION.pairs())
    notes = TextAreaField("Примечания", validators=[Optional(), Length(max=2000)])


class ExtendForm(PageForm):
    new_due_on = date_field("Новый срок возврата", required=True)
    reason = TextAreaField("Причина продления", validators=[Length(max=2000)])


class ReturnForm(PageForm):
    returned_on = date_field("Дата возврата", required=True)
    condition = SelectField(
        "Состояние при возврате", choices=[("", "— выберите —"), *CONDITION.pairs()]
    )
    missing_components = StringField("Недостающие части", validators=[Optional(), Length(max=500)])
    needs_repair = BooleanField("Требуется ремонт (иначе — на санобработку)")


class ReleaseForm(PageForm):
    method = StringField("Способ санобработки", validators=[Length(max=500)])
    released_on = date_field("Дата санобработки", required=True)


class RepairForm(PageForm):
    note = StringField("Что сделано", validators=[Optional(), Length(max=500)])
    repaired_on = date_field("Дата окончания ремонта", required=True)


class WriteOffForm(PageForm):
    reason = TextAreaField("Основание (решение комиссии)", validators=[Length(max=2000)])
    written_off_on = date_field("Дата списания", required=True)


class QueueForm(PageForm):
    child = RowField("Ребёнок", model=Person, validators=[answered("Выберите ребёнка.")])
    type = RowField("Вид ТСР", model=EquipmentType, validators=[answered("Выберите вид ТСР.")])
    priority = SelectField("Приоритет", choices=RESERVATION_PRIORITY.pairs(), default="3")
    requested_on = date_field("Дата заявки", required=True)
    notes = TextAreaField("Примечания", validators=[Optional(), Length(max=2000)])


class PriorityForm(PageForm):
    priority = SelectField("Новый приоритет", choices=RESERVATION_PRIORITY.pairs())
    reason = StringField("Причина изменения очерёдности", validators=[Length(max=500)])


class CancelForm(PageForm):
    reason = StringField("Причина", validators=[Length(max=500)])


def queue_roles() -> str:
    """Who may put a family in the queue (the matrix's `rental_desk` C), in words."""
    roles = [ROLE.label(role) for role in MATRIX if allowed(role, "rental_desk", "create")]
    return ", ".join(roles)


# What the history table (rental_desk/_history.html) shows of each event, loaded at once.
# The children a lend or queue form offers at most (the first by surname).
CHILDREN_SHOWN = 100
# The places of each kind's queue the queue page shows when no kind is chosen.
QUEUE_HEAD = 10

HISTORY_LOADS = (
    selectinload(RentalEvent.unit),
    selectinload(RentalEvent.family),
    selectinload(RentalEvent.staff),
)


def child_label(child: Person) -> str:
    return (
        f"{child.full_name} — семья {family_surname(child.family.surname, 'gent')}, "
        f"{child.family.address}"
    )


class RentalDeskView(PageView):
    """The clerk's workplace; endpoint `rental_desk`, MATRIX key `rental_desk`."""

    def render(self, template, **kwargs):
        kwargs.setdefault("may_edit", self.may("edit"))
        kwargs.setdefault("may_queue", self.may("create"))
        kwargs.setdefault("unit_status", UNIT_STATUS)
        kwargs.setdefault("condition", CONDITION)
        kwargs.setdefault("today", centre_today())
        kwargs.setdefault("queue_roles", queue_roles())
        return super().render(template, **kwargs)

    # --- rows through the scope ----------------------------------------------------------

    def _loan(self, loan_id: int) -> Loan:
        return self.visible_or_404(Loan, loan_id)

    def _unit(self, unit_id: int) -> EquipmentUnit:
        unit = db.session.get(EquipmentUnit, unit_id)
        if unit is None:
            abort(404)
        return unit

    def _reservation(self, reservation_id: int) -> Reservation:
        return self.visible_or_404(Reservation, reservation_id)

    def _children(self, search: str | None = None, type_id: int | None = None) -> list[Person]:
        """Children the user may see: those queued for `type_id`, and those whose
        family's surname starts with `search`."""
        return self._children_found(search, type_id)[0]

    def _children_found(
        self, search: str | None = None, type_id: int | None = None
    ) -> tuple[list[Person], bool]:
        """The children of `_children`, and whether `search` found any of them (the
        queued ones aside): one query, the match marked on each row."""
        query = (
            select(Person)
            .join(Family, Family.id == Person.family_id)
            .where(
                Person.relation == "child",
                active_for_new_work(Person),
                where_visible(Person, current_user),
            )
        )
        # The candidates, each part by its own index (no OR the planner must scan for),
        # marked 1 where the search found them: one pass, not the search run again to
        # tell the found from the queued.
        parts = []
        if type_id is not None:
            parts.append(
                select(Reservation.child_id.label("id"), literal(0).label("found")).where(
                    Reservation.type_id == type_id,
                    Reservation.status.in_(("waiting", "offered")),
                )
            )
        words = search.split() if search else []
        if words:
            # The family's or the child's surname in any form, from its beginning.
            # Each part within the user's scope: a surname of the whole country narrowed
            # to the user's families before their members are read.
            word = words[0]
            families = select(Family.id).where(
                surname_matches(Family.search_key, word), where_visible(Family, current_user)
            )
            found = (Person.id.label("id"), literal(1).label("found"))
            parts += [
                select(*found).where(Person.family_id.in_(families)),
                select(*found).where(
                    surname_matches(Person.search_key, word), where_visible(Person, current_user)
                ),
            ]
        if not parts:
            return [], False
        candidates = union_all(*parts).subquery()
        marked = (
            select(candidates.c.id, func.max(candidates.c.found).label("found"))
            .group_by(candidates.c.id)
            .subquery()
        )
        query = (
            query.join(marked, marked.c.id == Person.id)
            .add_columns(marked.c.found == 1)
            .order_by(Family.surname, Person.last_name)
            .limit(CHILDREN_SHOWN)
            .options(contains_eager(Person.family))
        )
        rows = db.session.execute(query).all()
        children = [child for child, _ in rows]
        if not words:
            return children, False
        if any(matched for _, matched in rows) or len(rows) < CHILDREN_SHOWN:
            return children, any(matched for _, matched in rows)
        # The queued children filled the list: does the search find any beyond it?
        return children, bool(self._children(search))

    def _family_in_scope(self, family_id: int) -> Family:
        return self.visible_or_404(Family, family_id)

    # --- find a free unit -----------------------------------------------------------------

    @staticmethod
    def _types() -> list[EquipmentType]:
        """The kinds of equipment the desk offers: those active for new work."""
        query = active_for_new_work(select(EquipmentType)).order_by(EquipmentType.name)
        return list(db.session.scalars(query))

    @expose("/")
    def index(self):
        types = self._types()
        counts = {
            (type_id, status): n
            for type_id, status, n in db.session.execute(
                select(EquipmentUnit.type_id, EquipmentUnit.status, func.count()).group_by(
                    EquipmentUnit.type_id, EquipmentUnit.status
                )
            )
        }
        queued = dict(
            db.session.execute(
                select(Reservation.type_id, func.count())
                .where(Reservation.status.in_(("waiting", "offered")))
                .group_by(Reservation.type_id)
            ).all()
        )
        type_id = parse_id(request.args.get("type"))
        size = without_control_characters(request.args.get("size")).strip()
        units = []
        if type_id:
            # Archived units are history: they are found on the unit table, not lent here.
            query = active_for_new_work(select(EquipmentUnit)).where(
                EquipmentUnit.type_id == type_id
            )
            number = parse_size_query(size)
            if number is not None:  # «40» finds the units whose range holds it: «36–46 см»
                query = query.where(
                    EquipmentUnit.size_min <= number, EquipmentUnit.size_max >= number
                )
            elif size:
                query = query.where(func.lower(EquipmentUnit.size).like(f"%{size.lower()}%"))
            if not request.args.get("all"):
                query = query.where(EquipmentUnit.status != "written_off")
            # Free units first: the clerk is looking for one.
            query = query.order_by(
                (EquipmentUnit.status != "available"), EquipmentUnit.inventory_number
            )
            units = db.session.scalars(query.limit(200)).all()
        return self.render(
            "rental_desk/index.html",
            types=types,
            counts=counts,
            queued=queued,
            type_id=type_id,
            size=size,
            units=units,
            overdue_count=self._overdue_count(),
        )

    def _overdue_count(self) -> int:
        query = rental.overdue_loans_query(centre_today()).where(where_visible(Loan, current_user))
        return db.session.scalar(select(func.count()).select_from(query.subquery()))

    # --- lend ---------------------------------------------------------------------------

    @expose("/lend/<int:unit_id>/", methods=("GET", "POST"))
    def lend_view(self, unit_id: int):
        self.require("edit")
        unit = self._unit(unit_id)
        refusal = new_work_refusal(unit)
        if refusal is not None:
            flash(refusal, "error")
            return redirect(url_for(".unit_view", unit_id=unit.id))
        search = without_control_characters(request.values.get("q")).strip()
        form = LendForm()
        offer = None
        if unit.status == "reserved":
            offer = db.session.scalars(
                select(Reservation).where(
                    Reservation.offered_unit_id == unit.id, Reservation.status == "offered"
                )
            ).first()
        children, found_any = self._children_found(search, unit.type_id)
        # The search found none of the families the user may see (the queued ones aside).
        found_none = bool(search) and not found_any
        if offer is not None and offer.child not in children and not new_work_refusal(offer.child):
            children.insert(0, offer.child)
        chosen = self._posted_child(form)
        if chosen is not None and chosen not in children and new_work_refusal(chosen) is None:
            children.append(chosen)
        form.child.choices = [(c.id, child_label(c)) for c in children]
        if request.method == "GET":
            form.issued_on.data = centre_today()
            form.due_on.data = centre_today() + dt.timedelta(days=unit.type.loan_term_days)
            form.condition.data = unit.condition
            if offer is not None:
                form.child.data = offer.child_id
        elif form.validate():
            child = db.session.get(Person, form.child.data)
            outcome = self.run(
                self._expire_offers(unit.type_id),
                lambda: rental.lend_unit(
                    db.session,
                    unit,
                    child,
                    current_user,
                    form.issued_on.data,
                    form.due_on.data,
                    form.condition.data,
                    form.notes.data,
                ),
                form=form,
            )
            if outcome.ok:
                flash(
                    f"Выдано: {unit.inventory_number} — {child.full_name}. Распечатайте акт.",
                    "success",
                )
                return redirect(url_for(".loan_view", loan_id=outcome.value.id))
        return self.render(
            "rental_desk/lend.html",
            unit=unit,
            form=form,
            offer=offer,
            search=search,
            found_none=found_none,
        )

    @staticmethod
    def _expire_offers(type_id: int):
        """The step before a loan of `type_id`: an offer that ran out passes on now, and
        stays passed on whatever happens next."""
        return lambda: rental.expire_offers(db.session, centre_today(), type_id=type_id)

    # --- a loan ---------------------------------------------------------------------------

    def _loan_page(self, loan: Loan, extend=None, give_back=None):
        extend = extend or ExtendForm(formdata=None)
        give_back = give_back or ReturnForm(formdata=None)
        if request.method != "POST":
            extend.new_due_on.data = rental.default_extension(loan)
            give_back.returned_on.data = centre_today()
        extensions = db.session.scalars(
            select(LoanExtension)
            .where(LoanExtension.loan_id == loan.id)
            .order_by(LoanExtension.extended_at)
        ).all()
        case = None
        if allowed(current_user.role, "case", "details"):
            found = rental.active_case(db.session, loan.family_id)
            if found is not None and found.id in self._visible_case_ids(found.id):
                case = found
        return self.render(
            "rental_desk/loan.html",
            loan=loan,
            extensions=extensions,
            extend=extend,
            give_back=give_back,
            case=case,
            overdue=loan.is_overdue(centre_today()),
        )

    @staticmethod
    def _visible_case_ids(case_id: int) -> set[int]:
        query = select(Case.id).where(Case.id == case_id, where_visible(Case, current_user))
        return set(db.session.scalars(query))

    @expose("/loan/<int:loan_id>/")
    def loan_view(self, loan_id: int):
        return self._loan_page(self._loan(loan_id))

    @expose("/loan/<int:loan_id>/extend/", methods=("POST",))
    def extend_view(self, loan_id: int):
        self.require("edit")
        loan = self._loan(loan_id)
        form = ExtendForm()
        if form.validate():
            outcome = self.run(
                lambda: rental.extend_loan(
                    db.session,
                    loan,
                    form.new_due_on.data,
                    form.reason.data,
                    current_user,
                    centre_today(),
                ),
                form=form,
            )
            if outcome.ok:
                flash(f"Выдача продлена до {loan.due_on:%d.%m.%Y}.", "success")
                return redirect(url_for(".loan_view", loan_id=loan.id))
        return self._loan_page(self._loan(loan_id), extend=form)

    @expose("/loan/<int:loan_id>/return/", methods=("POST",))
    def return_view(self, loan_id: int):
        self.require("edit")
        loan = self._loan(loan_id)
        form = ReturnForm()
        if form.validate():
            outcome = self.run(
                lambda: rental.return_loan(
                    db.session,
                    loan,
                    form.returned_on.data,
                    form.condition.data,
                    form.missing_components.data,
                    form.needs_repair.data,
                    current_user,
                    centre_today(),
                ),
                form=form,
            )
            if outcome.ok:
                where = "в ремонт" if form.needs_repair.data else "на санобработку"
                flash(f"Возврат оформлен; единица отправлена {where}.", "success")
                return redirect(url_for(".unit_view", unit_id=loan.unit_id))
        return self._loan_page(self._loan(loan_id), give_back=form)

    @expose("/loan/<int:loan_id>/act.pdf")
    @expose("/loan/<int:loan_id>/act/")
    def act_view(self, loan_id: int):
        """The act at issue: the point hands the unit to the family."""
        return self._act(loan_id, "issue")

    @expose("/loan/<int:loan_id>/return-act.pdf")
    @expose("/loan/<int:loan_id>/return-act/")
    def return_act_view(self, loan_id: int):
        """The act at return: the family hands the unit back (only once it is returned)."""
        return self._act(loan_id, "return")

    def _act(self, loan_id: int, kind: str):
        loan = self._loan(loan_id)
        if kind == "return" and loan.returned_on is None:
            abort(404)  # no return, no act of it
        record_opening(loan)  # the act names the child, the representatives and the address
        loan = self._loan(loan_id)
        representatives = db.session.scalars(
            select(Person)
            .where(
                Person.family_id == loan.family_id,
                Person.relation.in_(REPRESENTATIVES),
                Person.archived_at.is_(None),
            )
            .order_by(Person.id)
        ).all()
        staff = loan.issued_by
        if kind == "return":
            staff = db.session.scalar(
                select(Staff)
                .join(RentalEvent, RentalEvent.staff_id == Staff.id)
                .where(RentalEvent.loan_id == loan.id, RentalEvent.kind == "returned")
                .order_by(RentalEvent.id.desc())
                .limit(1)
            )
        words = "Акт возврата" if kind == "return" else "Акт приёма-передачи"
        latin = "return-act" if kind == "return" else "act"
        return printed(
            self,
            "rental_desk/act.html",
            (f"{words} № {loan.id}.pdf", f"{latin}-{loan.id}.pdf"),
            ("loan", loan.id),
            loan=loan,
            kind=kind,
            staff=staff,
            representatives=representatives,
            relation=RELATION,
        )

    # --- a unit --------------------------------------------------------------------------

    def _unit_page(self, unit: EquipmentUnit, **forms):
        release = forms.get("release") or ReleaseForm(formdata=None)
        repair = forms.get("repair") or RepairForm(formdata=None)
        write_off = forms.get("write_off") or WriteOffForm(formdata=None)
        if request.method != "POST":
            for form, field in (
                (release, "released_on"),
                (repair, "repaired_on"),
                (write_off, "written_off_on"),
            ):
                getattr(form, field).data = centre_today()
        loans = db.session.scalars(
            select(Loan)
            .where(Loan.unit_id == unit.id, where_visible(Loan, current_user))
            .order_by(Loan.issued_on.desc(), Loan.id.desc())
            .options(selectinload(Loan.family))
        ).all()
        history = db.session.scalars(
            select(RentalEvent)
            .where(RentalEvent.unit_id == unit.id)
            .order_by(RentalEvent.occurred_on.desc(), RentalEvent.id.desc())
            .options(*HISTORY_LOADS)
        ).all()
        open_loan = next((loan for loan in loans if loan.is_open), None)
        offer = db.session.scalars(
            select(Reservation).where(
                Reservation.offered_unit_id == unit.id,
                Reservation.status == "offered",
                where_visible(Reservation, current_user),
            )
        ).first()
        return self.render(
            "rental_desk/unit.html",
            unit=unit,
            loans=loans,
            history=history,
            open_loan=open_loan,
            offer=offer,
            release=release,
            repair=repair,
            write_off=write_off,
            visible_families=self._visible_family_ids({e.family_id for e in history}),
        )

    @staticmethod
    def _visible_family_ids(ids: set[int | None]) -> set[int]:
        ids = {i for i in ids if i is not None}
        if not ids:
            return set()
        query = select(Family.id).where(Family.id.in_(ids), where_visible(Family, current_user))
        return set(db.session.scalars(query))

    @expose("/unit/<int:unit_id>/")
    def unit_view(self, unit_id: int):
        return self._unit_page(self._unit(unit_id))

    def _unit_action(self, unit_id: int, form_class, key: str, act, done: str):
        self.require("edit")
        unit = self._unit(unit_id)
        form = form_class()
        if form.validate():
            outcome = self.run(lambda: act(unit, form), form=form)
            if outcome.ok:
                flash(done if not callable(done) else done(outcome.value), "success")
                return redirect(url_for(".unit_view", unit_id=unit.id))
        return self._unit_page(self._unit(unit_id), **{key: form})

    @expose("/unit/<int:unit_id>/release/", methods=("POST",))
    def release_view(self, unit_id: int):
        def act(unit, form):
            return rental.release_unit(
                db.session,
                unit,
                form.method.data,
                form.released_on.data,
                current_user,
                centre_today(),
            )

        def done(offer):
            if offer is None:
                return "Единица выпущена после санобработки и свободна."
            return (
                f"Единица выпущена после санобработки и предложена по очереди семье "
                f"{family_surname(offer.family.surname, 'gent')} "
                f"до {offer.offer_expires_on:%d.%m.%Y}."
            )

        return self._unit_action(unit_id, ReleaseForm, "release", act, done)

    @expose("/unit/<int:unit_id>/repaired/", methods=("POST",))
    def repaired_view(self, unit_id: int):
        def act(unit, form):
            rental.finish_repair(
                db.session,
                unit,
                form.note.data,
                form.repaired_on.data,
                current_user,
                centre_today(),
            )

        done = "Ремонт окончен; единица отправлена на санобработку."
        return self._unit_action(unit_id, RepairForm, "repair", act, done)

    @expose("/unit/<int:unit_id>/write_off/", methods=("POST",))
    def write_off_view(self, unit_id: int):
        def act(unit, form):
            rental.write_off_unit(
                db.session,
                unit,
                form.reason.data,
                form.written_off_on.data,
                current_user,
                centre_today(),
            )

        return self._unit_action(unit_id, WriteOffForm, "write_off", act, "Единица списана.")

    # --- the queue --------------------------------------------------------------------------

    def _queue_page(self, form=None):
        type_id = parse_id(request.args.get("type"))
        search = without_control_characters(request.args.get("q")).strip()
        types = self._types()
        live = (
            Reservation.status.in_(("waiting", "offered")),
            where_visible(Reservation, current_user),
            *((Reservation.type_id == type_id,) if type_id else ()),
        )
        query = (
            select(Reservation)
            .where(*live)
            .order_by(Reservation.type_id, *rental.queue_order())
            .options(
                # What a place's row shows of them: hundreds of rows at a national centre.
                selectinload(Reservation.family).load_only(Family.surname),
                selectinload(Reservation.child).load_only(
                    Person.last_name, Person.first_name, Person.middle_name
                ),
                selectinload(Reservation.type),
                selectinload(Reservation.offered_unit).load_only(EquipmentUnit.inventory_number),
            )
        )
        totals = dict(
            db.session.execute(
                select(Reservation.type_id, func.count()).where(*live).group_by(Reservation.type_id)
            ).all()
        )
        # Each place's number in its kind's queue, counted over the whole queue.
        ranked = (
            select(
                Reservation.id,
                func.row_number()
                .over(partition_by=Reservation.type_id, order_by=rental.queue_order())
                .label("place"),
            )
            .where(*live)
            .subquery()
        )
        query = query.add_columns(ranked.c.place).join(ranked, ranked.c.id == Reservation.id)
        if not type_id:
            # Every kind's queue: its head and its offers (the ones served next); the
            # whole queue of a kind is its own page (?type=), not 1,000 rows of forms.
            query = query.where(or_(ranked.c.place <= QUEUE_HEAD, Reservation.status == "offered"))
        places = db.session.execute(query).all()
        queues: dict[EquipmentType, list[tuple[Reservation, int]]] = {}
        for place, number in places:
            queues.setdefault(place.type, []).append((place, number))
        form = form or QueueForm(formdata=None)
        form.type.choices = [(t.id, t.name) for t in types]
        children = self._children(search) if search else []
        form.child.choices = [(c.id, child_label(c)) for c in children]
        if request.method != "POST":
            form.requested_on.data = centre_today()
            if type_id:
                form.type.data = type_id
        return self.render(
            "rental_desk/queue.html",
            queues=queues,
            totals=totals,
            types=types,
            type_id=type_id,
            search=search,
            form=form,
            priority_form=PriorityForm(formdata=None),
            cancel_form=CancelForm(formdata=None),
            priority=RESERVATION_PRIORITY,
            reservation_status=RESERVATION_STATUS,
        )

    @expose("/queue/")
    def queue_view(self):
        return self._queue_page()

    @expose("/queue/new/", methods=("POST",))
    def enqueue_view(self):
        if not self.may("create"):
            abort(403)
        form = QueueForm()
        child = self._posted_child(form)
        form.type.choices = [(t.id, t.name) for t in self._types()]
        offered = child is not None and new_work_refusal(child) is None
        form.child.choices = [(child.id, child_label(child))] if offered else []
        if form.validate():
            kind = db.session.get(EquipmentType, form.type.data)
            outcome = self.run(
                lambda: rental.enqueue(
                    db.session,
                    child,
                    kind,
                    form.priority.data,
                    form.requested_on.data,
                    current_user,
                    centre_today(),
                    form.notes.data,
                ),
                form=form,
            )
            if outcome.ok:
                place = outcome.value
                queued = agree_with(child, "поставлен", "поставлена")
                message = f"{child.full_name} {queued} в очередь на «{kind}»."
                if place.status == "offered":
                    message += (
                        f" Свободная единица {place.offered_unit.inventory_number} предложена "
                        f"семье до {place.offer_expires_on:%d.%m.%Y}."
                    )
                flash(message, "success")
                return redirect(url_for(".queue_view", type=kind.id))
        return self._queue_page(form)

    def _posted_child(self, form) -> Person | None:
        """The child a posted form names, if the user may see it (a typed id is not trusted)."""
        child_id = parse_id(form.child.raw_data[0]) if form.child.raw_data else None
        return self._visible_child(child_id) if child_id is not None else None

    def _visible_child(self, person_id: int) -> Person | None:
        return db.session.scalars(
            select(Person).where(
                Person.id == person_id,
                Person.relation == "child",
                where_visible(Person, current_user),
            )
        ).first()

    def _queue_action(self, reservation_id: int, form_class, act, done: str):
        self.require("edit")
        place = self._reservation(reservation_id)
        form = form_class()
        if form.validate():
            # The queue page shows no form of one place: a refusal goes above it.
            self.tell(self.run(lambda: act(place, form)), done)
        else:
            for errors in form.errors.values():
                flash(" ".join(errors), "error")
        return redirect(url_for(".queue_view", type=place.type_id))

    @expose("/reservation/<int:reservation_id>/priority/", methods=("POST",))
    def priority_view(self, reservation_id: int):
        def act(place, form):
            rental.reprioritise(
                db.session,
                place,
                form.priority.data,
                form.reason.data,
                current_user,
                centre_today(),
            )

        return self._queue_action(reservation_id, PriorityForm, act, "Приоритет изменён.")

    @expose("/reservation/<int:reservation_id>/cancel/", methods=("POST",))
    def cancel_view(self, reservation_id: int):
        def act(place, form):
            rental.cancel_reservation(
                db.session, place, form.reason.data, current_user, centre_today()
            )

        return self._queue_action(reservation_id, CancelForm, act, "Заявка снята с очереди.")

    @expose("/reservation/<int:reservation_id>/lend/", methods=("POST",))
    def lend_from_queue_view(self, reservation_id: int):
        self.require("edit")
        place = self._reservation(reservation_id)
        outcome = self.run(
            self._expire_offers(place.type_id),
            lambda: rental.lend_from_queue(db.session, place, current_user, centre_today()),
        )
        if not self.tell(
            outcome, lambda loan: f"Выдано: {loan.unit.inventory_number} — {loan.child.full_name}."
        ):
            return redirect(url_for(".queue_view", type=place.type_id))
        return redirect(url_for(".loan_view", loan_id=outcome.value.id))

    # --- overdue and history -----------------------------------------------------------------

    @expose("/overdue/")
    def overdue_view(self):
        query = rental.overdue_loans_query(centre_today()).where(where_visible(Loan, current_user))
        loans = db.session.scalars(query.limit(500)).all()
        tasks = {
            e.loan_id: e.task
            for e in db.session.scalars(
                select(RentalEvent).where(
                    RentalEvent.kind == "overdue",
                    RentalEvent.loan_id.in_([loan.id for loan in loans]),
                )
            )
        }
        return self.render("rental_desk/overdue.html", loans=loans, tasks=tasks)

    @expose("/family/<int:family_id>/")
    def family_view(self, family_id: int):
        family = self._family_in_scope(family_id)
        record_opening(family)  # the family's children, loans and queue places
        loans = db.session.scalars(
            select(Loan)
            .where(Loan.family_id == family.id, where_visible(Loan, current_user))
            .order_by(Loan.issued_on.desc(), Loan.id.desc())
            # the table shows each loan's unit, its type and the child: loaded at once
            .options(
                selectinload(Loan.unit).selectinload(EquipmentUnit.type),
                selectinload(Loan.child),
            )
        ).all()
        places = db.session.scalars(
            select(Reservation)
            .where(Reservation.family_id == family.id)
            .order_by(Reservation.requested_on.desc(), Reservation.id.desc())
            .options(selectinload(Reservation.type), selectinload(Reservation.child))
        ).all()
        history = db.session.scalars(
            select(RentalEvent)
            .where(RentalEvent.family_id == family.id)
            .order_by(RentalEvent.occurred_on.desc(), RentalEvent.id.desc())
            .options(*HISTORY_LOADS)
        ).all()
        return self.render(
            "rental_desk/family.html",
            family=family,
            loans=loans,
            places=places,
            history=history,
            priority=RESERVATION_PRIORITY,
            reservation_status=RESERVATION_STATUS,
        )
