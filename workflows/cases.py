"""The life of a support case: application → assessment → active → closed.

Plain functions over a session (no HTTP). Each checks its transition and
refuses with a Russian `WorkflowError` naming the form field at fault; the
database holds the same rules where it can (six months, one open case per
family, a contract for an active case, a complete closure). A transition
locks the case row first, so two users acting on one case at once cannot
both pass the status check.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from models import (
    Appointment,
    Assessment,
    Case,
    Consent,
    District,
    Family,
    IncomingReferral,
    Partner,
    Person,
    SocialRaid,
    Staff,
    Task,
    User,
    keys,
)
from models.cases import (
    CASE_STATUS,
    CLOSURE_REASON,
    LIFE_DOMAIN,
    NEED_LEVEL,
    OPEN_TASK_STATUSES,
)
from models.constraints import CONSTRAINT_MESSAGES, refused_by_database
from models.guards import case_refusal
from models.live import active_for_new_work, new_work_refusal, refuse_for_new_work
from models.people import DISABILITY, RELATION, SEX
from models.roles import sees_all
from models.snils import checked_snils
from models.terms import ADULT_AGE_MONTHS, SUPPORT_TERM_IN_WORDS, SUPPORT_TERM_MONTHS
from workflows.consent import NO_CONSENT, has_active_consent
from workflows.dates import add_months, centre_today
from workflows.errors import WorkflowError
from workflows.scope import where_visible
from workflows.search import address_matches, families_by_surname
from workflows.tasks import cancel_task, complete_step_tasks

# Who may apply for a family: a parent or a legal representative (seed 001).
APPLICANT_RELATIONS = ("mother", "father", "legal_representative", "guardian")

# The same words whether the workflow finds the row first or the database refuses it.
CONTRACT_TAKEN = CONSTRAINT_MESSAGES["contract_number"].message
SNILS_TAKEN = CONSTRAINT_MESSAGES["snils"].message


def _today(today: dt.date | None) -> dt.date:
    return today or centre_today()


def ensure_open(case: Case) -> None:
    """Refuse any change to a closed or archived case before starting it; the closed-case
    guard (models/guards.py) holds the same rule at every flush, whatever the path."""
    reason = case_refusal(case)
    if reason:
        raise WorkflowError(reason)


def _lock(session: Session, case: Case) -> None:
    """Re-read the case under a row lock, then check it may still change."""
    session.refresh(case, with_for_update=True)
    ensure_open(case)


def _saved(session: Session) -> None:
    """Flush inside a savepoint; a constraint the database refuses becomes a WorkflowError
    with the message of models/constraints.py, next to its field."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise refused_by_database(exc) from exc


def six_month_limit(start: dt.date) -> dt.date:
    """The last planned end date a case starting on `start` may have."""
    return add_months(start, SUPPORT_TERM_MONTHS)


def check_planned_end(start: dt.date, end: dt.date) -> None:
    """The six-month rule (seed 001) in words, for the form and the workflow alike."""
    if end < start:
        raise WorkflowError("Плановое окончание не может быть раньше начала.", "planned_end_date")
    limit = six_month_limit(start)
    if end > limit:
        raise WorkflowError(
            f"Не позднее {limit:%d.%m.%Y}: сопровождение длится не больше {SUPPORT_TERM_IN_WORDS}.",
            "planned_end_date",
        )


# --- finding a family ------------------------------------------------------------------


def find_families(
    session: Session,
    user: User,
    *,
    surname: str = "",
    address: str = "",
    snils: str = "",
    limit: int = 20,
) -> list[Family]:
    """Families the user may see whose surname (or a member's), address or member's SNILS match.

    The surname matches from its beginning in any form (the search keys of
    models/keys.py: «Емельянова» finds «Емельяновы»), the family's or a member's, not
    a patronymic; the address anywhere (spaces, commas and dots ignored), the SNILS
    exactly; empty criteria are ignored.
    """
    conditions: list[ColumnElement[bool]] = []
    if surname.strip():
        conditions.append(Family.id.in_(families_by_surname(surname.split()[0])))
    if address.strip():
        conditions.append(address_matches(address))
    if snils.strip():
        conditions.append(Family.id.in_(select(Person.family_id).where(Person.snils == snils)))
    if not conditions:
        return []
    query = (
        select(Family)
        .where(and_(*conditions), where_visible(Family, user), active_for_new_work(Family))
        .order_by(Family.surname, Family.address)
        .limit(limit)
        # The intake's table shows each family's district: joined, not read per family.
        .options(selectinload(Family.members), joinedload(Family.district))
    )
    return list(session.scalars(query))


def intake_rows(
    session: Session, families: list[Family], today: dt.date
) -> list[tuple[Family, list[Person], bool, Case | None]]:
    """Each family found with its applicants, whether it has a consent today and its open
    case: three queries for all of them (find_families loads the members)."""
    ids = [family.id for family in families]
    if not ids:
        return []
    consenting = set(
        session.scalars(
            select(Consent.family_id).where(
                Consent.family_id.in_(ids),
                Consent.archived_at.is_(None),
                Consent.given_on <= today,
                or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > today),
            )
        )
    )
    open_cases: dict[int, Case] = {}
    for case in session.scalars(
        select(Case)
        .where(Case.family_id.in_(ids), Case.status != "closed", Case.archived_at.is_(None))
        .order_by(Case.id)
    ):
        open_cases.setdefault(case.family_id, case)
    return [
        (family, applicants_of(family), family.id in consenting, open_cases.get(family.id))
        for family in families
    ]


@dataclass
class Duplicates:
    """Families that look like one about to be registered."""

    visible: list[Family]
    hidden: int  # out of the user's scope: counted, never shown

    def __bool__(self) -> bool:
        return bool(self.visible) or self.hidden > 0

    def message(self) -> str:
        names = "; ".join(str(f) for f in self.visible)
        text = f"Похожая семья уже есть в банке данных: {names}." if names else ""
        if self.hidden:
            text += (
                " Похожая семья есть на другом участке (вам не видна): "
                "уточните у руководителя службы."
            )
        return text.strip()


def similar_families(
    session: Session, user: User, surname: str, address: str, snils: str | None = None
) -> Duplicates:
    """Families with the same surname and address, or with a member holding this SNILS."""
    # The same surname in any form at the same address (its squashed key, before the phone).
    address_key = re.sub(r"([\\%_])", r"\\\1", keys.fold(keys.squash(address.strip())))
    same = and_(
        Family.search_key == keys.surname_key(surname.strip()),
        Family.text_key.like(address_key + keys.TEXT_SEPARATOR + "%", escape="\\"),
    )
    if snils:
        same = or_(same, Family.id.in_(select(Person.family_id).where(Person.snils == snils)))
    ids = list(session.scalars(select(Family.id).where(same, Family.archived_at.is_(None))))
    if not ids:
        return Duplicates([], 0)
    visible = list(
        session.scalars(
            select(Family)
            .where(Family.id.in_(ids), where_visible(Family, user))
            .order_by(Family.id)
        )
    )
    return Duplicates(visible, len(ids) - len(visible))


# --- registering a family and its applicant ----------------------------------------------


def allowed_districts(session: Session, user: User) -> list[District]:
    """Districts where the user may register a family: all for the coordinator, else their
    own; archived districts take no new families."""
    if sees_all(user.role):
        live = active_for_new_work(select(District))
        return list(session.scalars(live.order_by(District.name)))
    staff = session.get(Staff, user.staff_id) if user.staff_id else None
    own = [d for d in staff.districts if new_work_refusal(d) is None] if staff else []
    return sorted(own, key=lambda d: d.name)


NOT_OWN_DISTRICT = "Выберите участок из своих."


def check_family_district(
    session: Session, user: User, district: District | None, current_id: int | None = None
) -> None:
    """Refuse a district the user may not register a family in or move one to.

    The coordinator places a family anywhere, a district worker in their own districts.
    Keeping a family in the district it is in (`current_id`) is no move: a worker edits
    the family of a case they lead in another district without moving it.
    """
    if district is not None and current_id is not None and district.id == current_id:
        return
    if district is None or district.id not in {d.id for d in allowed_districts(session, user)}:
        raise WorkflowError(NOT_OWN_DISTRICT, "district")


@dataclass
class ApplicantData:
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: dt.date
    sex: str
    relation: str
    snils: str | None = None
    phone: str | None = None


def _checked_applicant(data: ApplicantData, today: dt.date) -> ApplicantData:
    """The applicant's data checked, with the SNILS as the data bank stores it."""
    if data.relation not in APPLICANT_RELATIONS:
        allowed = ", ".join(RELATION.label(r) for r in APPLICANT_RELATIONS)
        raise WorkflowError(f"Заявителем может быть только {allowed}.", "relation")
    if data.birth_date > today:
        raise WorkflowError("Дата рождения не может быть в будущем.", "birth_date")
    return replace(data, snils=checked_snils(data.snils))


def _new_person(session: Session, family: Family, data: ApplicantData) -> Person:
    if data.snils and session.scalar(select(Person.id).where(Person.snils == data.snils)):
        raise WorkflowError(SNILS_TAKEN, "snils")
    person = Person(
        family=family,
        last_name=data.last_name,
        first_name=data.first_name,
        middle_name=data.middle_name or None,
        birth_date=data.birth_date,
        sex=data.sex,
        relation=data.relation,
        snils=data.snils or None,
        phone=data.phone or None,
    )
    session.add(person)
    return person


@dataclass(frozen=True)
class Identification:
    """How a family was identified («как выявлена»): the channel with its partner or raid,
    and the incoming referral it came by (workflows/channels.py checks and locks them)."""

    channel: str = "self"
    partner: Partner | None = None
    raid: SocialRaid | None = None
    referral: IncomingReferral | None = None


def register_family(
    session: Session,
    actor: User,
    *,
    surname: str,
    district: District | None,
    address: str,
    phone: str | None,
    applicant: ApplicantData,
    confirm_duplicate: bool = False,
    identified: Identification | None = None,
    today: dt.date | None = None,
) -> tuple[Family, Person]:
    """A new family in the data bank with its applicant (a parent or legal representative).

    The applicant's SNILS, if given, must be a valid one (its control number). Refused
    when a similar family exists (same surname and address, or the applicant's SNILS) unless the user confirmed it is another family; a SNILS
    already in the bank is refused always (it is unique).
    """
    today = _today(today)
    check_family_district(session, actor, district)
    applicant = _checked_applicant(applicant, today)
    duplicates = similar_families(session, actor, surname, address, applicant.snils)
    if applicant.snils and session.scalar(select(Person.id).where(Person.snils == applicant.snils)):
        raise WorkflowError(SNILS_TAKEN, "snils")
    if duplicates and not confirm_duplicate:
        raise WorkflowError(
            duplicates.message() + " Найдите её поиском или подтвердите, что это другая семья.",
            "confirm_duplicate",
        )
    identified = identified or Identification()
    family = Family(
        surname=surname.strip(),
        district=district,
        address=address.strip(),
        phone=phone or None,
        identified_by=identified.channel,
        identified_partner=identified.partner,
        social_raid=identified.raid,
        status="registered",
    )
    session.add(family)
    person = _new_person(session, family, applicant)
    _saved(session)
    if identified.referral is not None:
        take_incoming_referral(session, identified.referral, family, today)
    return family, person


def take_incoming_referral(
    session: Session, referral: IncomingReferral, family: Family, today: dt.date
) -> IncomingReferral:
    """The referral led to `family`: «семья зарегистрирована». The caller locked it and saw it
    wait for intake (workflows/channels.py)."""
    referral.family_id = family.id
    referral.decided_on = max(today, referral.received_on)
    referral.status = "taken"
    session.flush()
    return referral


def add_applicant(
    session: Session, actor: User, family: Family, data: ApplicantData, today: dt.date | None = None
) -> Person:
    """A parent or legal representative added to a family found by the search; a SNILS,
    if given, must be a valid one."""
    refuse_for_new_work(family, "family")
    data = _checked_applicant(data, _today(today))
    person = _new_person(session, family, data)
    _saved(session)
    return person


@dataclass
class ChildData:
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: dt.date
    sex: str
    disability_status: str
    disability_group: str | None = None
    disability_review_date: dt.date | None = None
    snils: str | None = None


def add_child(
    session: Session, actor: User, family: Family, data: ChildData, today: dt.date | None = None
) -> Person:
    """A child registered with the applicant, with the disability or ОВЗ status the case is
    for (seed 002: families with disabled children and children with ОВЗ); a group only
    with a disability."""
    today = _today(today)
    refuse_for_new_work(family, "family")
    if data.birth_date > today:
        raise WorkflowError("Дата рождения не может быть в будущем.", "birth_date")
    if data.birth_date <= add_months(today, -ADULT_AGE_MONTHS):
        raise WorkflowError("Ребёнку должно быть меньше 18 лет.", "birth_date")
    if data.sex not in SEX.codes:
        raise WorkflowError("Укажите пол ребёнка.", "sex")
    if data.disability_status not in DISABILITY.codes:
        raise WorkflowError(
            "Укажите, инвалидность у ребёнка, ОВЗ или ни того ни другого.", "disability_status"
        )
    if data.disability_group and data.disability_status != "disabled":
        raise WorkflowError(
            "Группа (категория) указывается только при инвалидности.", "disability_group"
        )
    snils = checked_snils(data.snils)
    if snils and session.scalar(select(Person.id).where(Person.snils == snils)):
        raise WorkflowError(SNILS_TAKEN, "snils")
    child = Person(
        family=family,
        last_name=data.last_name,
        first_name=data.first_name,
        middle_name=data.middle_name or None,
        birth_date=data.birth_date,
        sex=data.sex,
        relation="child",
        snils=snils or None,
        disability_status=data.disability_status,
        disability_group=data.disability_group or None,
        disability_review_date=data.disability_review_date,
    )
    session.add(child)
    _saved(session)
    return child


# The target group (seed 002, 1.1): what a case is for.
TARGET_STATUSES = ("disabled", "ovz")
TARGET_GROUP_MISSING = (
    "Договор не заключается: в семье не записан ребёнок-инвалид или ребёнок с ОВЗ младше "
    "18 лет, а сопровождение — для семей с такими детьми. Добавьте ребёнка с его статусом "
    "(«ребёнок-инвалид» или «ОВЗ») в «Новом обращении» или в карточке семьи."
)


def has_target_child(session: Session, family_id: int, on: dt.date) -> bool:
    """Whether the family has a live child under 18 on `on` who is disabled or has ОВЗ."""
    query = select(Person.id).where(
        Person.family_id == family_id,
        Person.relation == "child",
        Person.archived_at.is_(None),
        Person.disability_status.in_(TARGET_STATUSES),
        Person.birth_date > add_months(on, -ADULT_AGE_MONTHS),
        Person.birth_date <= on,
    )
    return session.scalar(query.limit(1)) is not None


def children_of(family: Family) -> list[Person]:
    """The family's live children."""
    return [p for p in family.members if p.relation == "child" and p.archived_at is None]


def applicants_of(family: Family) -> list[Person]:
    """Members of a family who may apply for it."""
    return [
        p
        for p in family.members
        if p.relation in APPLICANT_RELATIONS and new_work_refusal(p) is None
    ]


# --- the application --------------------------------------------------------------------


def open_case_of(session: Session, family_id: int) -> Case | None:
    """The family's case that is not closed (and not archived), if any."""
    query = select(Case).where(
        Case.family_id == family_id, Case.status != "closed", Case.archived_at.is_(None)
    )
    return session.scalars(query).first()


def _already_open(case: Case) -> str:
    return (
        f"У семьи уже есть открытый случай № {case.id} ({CASE_STATUS.label(case.status)}): "
        "одно заявление охватывает все виды помощи."
    )


def open_case(
    session: Session,
    actor: User,
    *,
    family: Family,
    applicant: Person,
    application_date: dt.date,
    appointment: Appointment | None = None,
    today: dt.date | None = None,
) -> Case:
    """Register the family's application (заявление): a new case in status `application`.

    One application covers every kind of help, so a family has at most one
    open case. Refused without an active consent to personal-data processing.
    With `appointment`, the reception that led here is linked to the case.
    """
    today = _today(today)
    refuse_for_new_work(family, "family")
    if applicant is None or applicant.family_id != family.id:
        raise WorkflowError("Заявитель должен быть членом этой семьи.", "applicant")
    refuse_for_new_work(applicant, "applicant")
    if applicant.relation not in APPLICANT_RELATIONS:
        raise WorkflowError(
            "Заявителем может быть только родитель или законный представитель.", "applicant"
        )
    if application_date > today:
        raise WorkflowError("Дата заявления не может быть в будущем.", "application_date")
    if not has_active_consent(session, family.id, application_date):
        raise WorkflowError(NO_CONSENT, "consent")
    existing = open_case_of(session, family.id)
    if existing is not None:
        raise WorkflowError(_already_open(existing), "family")
    if appointment is not None:
        session.refresh(appointment, with_for_update=True)
        if appointment.case_id is not None:
            raise WorkflowError(
                f"По этой записи уже открыт случай № {appointment.case_id}.", "appointment"
            )
    case = Case(
        family=family,
        applicant=applicant,
        application_date=application_date,
        status="application",
    )
    session.add(case)
    _saved(session)
    if appointment is not None:
        appointment.case = case
        appointment.family = family
        if not appointment.outcome:
            appointment.outcome = (
                f"Принято заявление на социальное сопровождение (случай № {case.id})."
            )
        session.flush()
    return case


# --- assessment ----------------------------------------------------------------------------


def record_assessment(
    session: Session,
    actor: User,
    case: Case,
    *,
    levels: dict[str, tuple[str, str | None]],
    assessed_on: dt.date,
    today: dt.date | None = None,
) -> list[Assessment]:
    """The needs assessment: a need level and notes for each of the six life domains.

    The case moves from `application` to `assessment`; while it is there the
    assessment can be corrected. After the contract it is no longer changed here.
    """
    today = _today(today)
    _lock(session, case)
    if case.status not in ("application", "assessment"):
        raise WorkflowError(
            "Оценка проводится до заключения договора: случай уже на сопровождении."
        )
    for domain in LIFE_DOMAIN.codes:
        level = (levels.get(domain) or (None, None))[0]
        if level not in NEED_LEVEL.codes:
            raise WorkflowError(
                f"Укажите нуждаемость: {LIFE_DOMAIN.label(domain)} сфера.", f"{domain}_level"
            )
    if assessed_on > today:
        raise WorkflowError("Дата оценки не может быть в будущем.", "assessed_on")
    if assessed_on < case.application_date:
        raise WorkflowError(
            f"Оценка не может быть раньше заявления ({case.application_date:%d.%m.%Y}).",
            "assessed_on",
        )
    existing = {a.domain: a for a in case.assessments}
    staff_id = actor.staff_id
    rows = []
    for domain in LIFE_DOMAIN.codes:
        level, notes = levels[domain]
        row = existing.get(domain) or Assessment(case_id=case.id, domain=domain)
        row.need_level = level
        row.notes = (notes or "").strip() or None
        row.assessed_on = assessed_on
        row.assessed_by_id = staff_id
        session.add(row)
        rows.append(row)
    case.status = "assessment"
    session.flush()
    complete_step_tasks(
        session,
        "assessment",
        case.family_id,
        case.id,
        f"Оценка потребностей записана {assessed_on:%d.%m.%Y}.",
    )
    return rows


# --- decision and contract ------------------------------------------------------------------


def lead_workers(session: Session) -> list[Staff]:
    """Active district workers: who may lead a case."""
    query = (
        select(Staff)
        .where(Staff.role == "district_worker", active_for_new_work(Staff))
        .order_by(Staff.last_name, Staff.first_name)
    )
    return list(session.scalars(query))


def sign_contract(
    session: Session,
    actor: User,
    case: Case,
    *,
    decision_date: dt.date,
    contract_number: str,
    contract_date: dt.date,
    start_date: dt.date,
    planned_end_date: dt.date | None,
    lead_worker: Staff | None,
    today: dt.date | None = None,
) -> Case:
    """The decision that the family needs support and the contract: the case becomes `active`.

    The planned end defaults to six months after the start (31 Aug → 28/29 Feb)
    and may not be later; the dates follow one another: application ≤ decision
    ≤ contract ≤ start. Refused without the target group: a disabled child or a child
    with ОВЗ under 18 in the family on the contract's date.
    """
    today = _today(today)
    _lock(session, case)
    if case.status == "application":
        raise WorkflowError("Сначала проведите оценку потребностей семьи.")
    if case.status != "assessment":
        raise WorkflowError(f"Договор уже заключён: № {case.contract_number}.")
    if not has_target_child(session, case.family_id, contract_date):
        raise WorkflowError(TARGET_GROUP_MISSING)
    number = (contract_number or "").strip()
    if not number:
        raise WorkflowError("Укажите номер договора.", "contract_number")
    if decision_date < case.application_date:
        raise WorkflowError(
            f"Решение не может быть раньше заявления ({case.application_date:%d.%m.%Y}).",
            "decision_date",
        )
    if decision_date > today:
        raise WorkflowError("Дата решения не может быть в будущем.", "decision_date")
    if contract_date < decision_date:
        raise WorkflowError("Договор не может быть раньше решения о нуждаемости.", "contract_date")
    if contract_date > today:
        raise WorkflowError("Дата договора не может быть в будущем.", "contract_date")
    if start_date < contract_date:
        raise WorkflowError("Сопровождение начинается не раньше даты договора.", "start_date")
    end = planned_end_date or six_month_limit(start_date)
    check_planned_end(start_date, end)
    if lead_worker is None or lead_worker.role != "district_worker":
        raise WorkflowError(
            "Ведущий специалист — работающий участковый социальный работник.", "lead_worker"
        )
    refuse_for_new_work(lead_worker, "lead_worker")
    taken = select(Case.id).where(Case.contract_number == number, Case.id != case.id)
    if session.scalar(taken) is not None:
        raise WorkflowError(CONTRACT_TAKEN, "contract_number")
    case.decision_date = decision_date
    case.contract_number = number
    case.contract_date = contract_date
    case.start_date = start_date
    case.planned_end_date = end
    case.lead_worker = lead_worker
    case.status = "active"
    case.family.status = "supported"
    _saved(session)
    complete_step_tasks(
        session,
        "contract",
        case.family_id,
        case.id,
        f"Договор № {number} от {contract_date:%d.%m.%Y} заключён.",
    )
    return case


# --- closure ----------------------------------------------------------------------------------


def open_tasks(session: Session, case: Case) -> list[Task]:
    query = (
        select(Task)
        .where(Task.case_id == case.id, Task.status.in_(OPEN_TASK_STATUSES))
        .order_by(Task.due_date, Task.id)
    )
    return list(session.scalars(query))


def _refuse_open_referrals(session: Session, case: Case) -> None:
    """A referral still open (prepared, sent, accepted) is never left hanging by the
    closure: the partner's answer, «нет ответа» or the archive ends it first. Unlike a
    task, the closure cannot end it on the partner's behalf."""
    from .referrals import open_referrals_of, open_referrals_words  # referrals imports us

    referrals = open_referrals_of(session, case.id)
    if referrals:
        raise WorkflowError(
            f"У случая есть незакрытые направления партнёрам ({len(referrals)}): "
            f"{open_referrals_words(referrals)}. Запишите ответ партнёра или «нет ответа» "
            "на странице направлений случая, ошибочное — перенесите в архив.",
            "open_referrals",
        )


def close_case(
    session: Session,
    actor: User,
    case: Case,
    *,
    reason: str,
    closed_on: dt.date,
    outcome: str | None,
    cancel_open_tasks: bool,
    cancel_reason: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Close an active case with a reason (goal achieved, refused, moved, term expired).

    Open tasks either block the closure (the user finishes them first) or are
    cancelled with a reason, as the user chooses. Returns how many tasks were
    cancelled. A closed case is read-only from then on.
    """
    today = _today(today)
    _lock(session, case)
    if case.status != "active":
        raise WorkflowError(
            "Закрыть можно только случай на сопровождении (после договора). "
            "Заявление, по которому договор не заключён, переносится в архив."
        )
    if reason not in CLOSURE_REASON.codes:
        raise WorkflowError("Выберите причину закрытия.", "reason")
    if closed_on > today:
        raise WorkflowError("Дата закрытия не может быть в будущем.", "closed_on")
    # An active case has both (ck_support_case_active_has_start, _has_contract).
    assert case.start_date is not None and case.planned_end_date is not None
    if closed_on < case.start_date:
        raise WorkflowError(
            f"Дата закрытия не может быть раньше начала сопровождения ({case.start_date:%d.%m.%Y}).",
            "closed_on",
        )
    if reason == "term_expired" and closed_on < case.planned_end_date:
        raise WorkflowError(
            f"Срок ещё не истёк: плановое окончание {case.planned_end_date:%d.%m.%Y}.", "reason"
        )
    _refuse_open_referrals(session, case)
    pending = list(
        session.scalars(
            select(Task)
            .where(Task.case_id == case.id, Task.status.in_(OPEN_TASK_STATUSES))
            .with_for_update()
        )
    )
    if pending and not cancel_open_tasks:
        raise WorkflowError(
            f"У случая есть незавершённые задачи ({len(pending)}): завершите их "
            "или закройте случай с отменой задач.",
            "open_tasks",
        )
    why = (cancel_reason or "").strip() or f"Случай закрыт: {CLOSURE_REASON.label(reason)}."
    for task in pending:
        cancel_task(session, task.id, None, why)  # the closure's right covers its tasks
    case.status = "closed"
    case.closure_reason = reason
    case.closed_on = closed_on
    case.outcome = (outcome or "").strip() or None
    case.family.status = "deregistered" if reason == "moved" else "registered"
    session.flush()
    return len(pending)


# --- what to do next ----------------------------------------------------------------------------


NEXT_STEP = {
    "application": ("assessment", "Провести оценку потребностей"),
    "assessment": ("decision", "Оформить решение и договор"),
    "active": ("closure", "Закрыть случай"),
}


def next_step(case: Case) -> tuple[str, str] | None:
    """(step, words) of the case's next lifecycle step, or None for a closed or archived case."""
    if case.archived_at is not None:
        return None
    return NEXT_STEP.get(case.status)
