"""Small, explicit builders of valid rows (call inside an app context).

Each builder adds one row with sensible valid values, flushes it (so the
database checks it at once and the row gets its id) and returns it. Keyword
arguments override any column, so a test can build an invalid row on purpose
and expect the flush to fail. Nothing here commits: the test decides.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from models import (
    Appointment,
    Assessment,
    AuditRecord,
    Case,
    Consent,
    CouncilMeeting,
    Department,
    District,
    EquipmentType,
    EquipmentUnit,
    Event,
    EventAttendance,
    Family,
    IncomingReferral,
    Loan,
    LoanExtension,
    Message,
    MessageTemplate,
    Partner,
    PartnerAgreement,
    PartnerContact,
    Person,
    PlanActivity,
    PlanRevision,
    Programme,
    ProgrammeEnrolment,
    ProjectMeasure,
    Referral,
    RehabMeasure,
    RehabProgramme,
    RehabTsr,
    RequiredDocument,
    Reservation,
    Review,
    Service,
    SocialRaid,
    Staff,
    SupportPlan,
    Task,
    TaskAssignment,
    User,
    Visit,
    Volunteer,
    db,
)
from models.guards import recording_history
from models.snils import format_snils, snils_checksum

PASSWORD = "test-password-1"
# One round of PBKDF2: sign-in still checks the password, without scrypt's cost per test.
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
_seq = itertools.count(1)


def seq() -> int:
    """A number unique within the test session, for unique names and numbers."""
    return next(_seq)


def valid_snils(n: int | None = None) -> str:
    """A SNILS with a correct checksum, formatted 123-456-789 01.

    Numbers at or below 001-001-998 skip the checksum, so start above them.
    """
    n = seq() if n is None else n
    digits = f"{2_000_000 + n:09d}"
    return format_snils(digits + f"{snils_checksum(digits):02d}")


def invalid_snils(n: int | None = None) -> str:
    """valid_snils(n) with its control number off by one."""
    digits = f"{2_000_000 + (seq() if n is None else n):09d}"
    wrong = (snils_checksum(digits) + 1) % 100
    return format_snils(digits + f"{wrong:02d}")


def _save(row):
    # A builder sets up the state a test starts from (a closed case with its past),
    # not a change the closed-case guard judges.
    db.session.add(row)
    with recording_history(db.session):
        db.session.flush()
    return row


# --- reference data ------------------------------------------------------------------


def department(**kw) -> Department:
    n = seq()
    return _save(Department(**{"code": f"ОТД{n}", "name": f"Отделение № {n}", **kw}))


def district(**kw) -> District:
    return _save(District(**{"name": f"Участок № {seq()}", "territory": "ул. Ленина", **kw}))


def staff(role: str = "district_worker", districts=(), **kw) -> Staff:
    row = Staff(
        **{
            "last_name": "Кузнецова",
            "first_name": "Анна",
            "middle_name": "Сергеевна",
            "position": "специалист по социальной работе",
            "role": role,
            "active": True,
            **kw,
        }
    )
    row.districts = list(districts)
    return _save(row)


def user(role: str = "admin", staff_row: Staff | None = None, **kw) -> User:
    """A login account (password PASSWORD, cheaply hashed) of a new staff member."""
    staff_row = staff_row or staff(role=role)
    return _save(
        User(
            **{
                "username": f"user{seq()}",
                "role": role,
                "staff_id": staff_row.id,
                "active": True,
                "password_hash": FAST_HASH,
                **kw,
            }
        )
    )


def service(**kw) -> Service:
    return _save(Service(**{"kind": "social", "name": f"Услуга № {seq()}", **kw}))


def programme(**kw) -> Programme:
    return _save(Programme(**{"name": f"Семейный клуб № {seq()}", "active": True, **kw}))


def partner(**kw) -> Partner:
    return _save(Partner(**{"name": f"Школа № {seq()}", "kind": "school", **kw}))


def partner_contact(partner_row: Partner | None = None, **kw) -> PartnerContact:
    return _save(
        PartnerContact(
            **{
                "partner": partner_row or partner(),
                "last_name": "Смирнова",
                "first_name": "Ольга",
                "position": "социальный педагог",
                **kw,
            }
        )
    )


def partner_agreement(partner_row: Partner | None = None, **kw) -> PartnerAgreement:
    return _save(
        PartnerAgreement(
            **{
                "partner": partner_row or partner(),
                "number": f"С-{seq()}",
                "signed_on": dt.date(2025, 1, 10),
                "valid_from": dt.date(2025, 1, 10),
                "valid_to": dt.date(2025, 12, 31),
                "subject": "Взаимодействие по сопровождению семей",
                "status": "active",
                **kw,
            }
        )
    )


def council_meeting(district_row: District | None = None, **kw) -> CouncilMeeting:
    return _save(
        CouncilMeeting(
            **{
                "held_on": dt.date(2025, 2, 14),
                "district": district_row,
                "agenda": "О семьях в трудной жизненной ситуации",
                **kw,
            }
        )
    )


def event(organiser: Staff | None = None, families=(), **kw) -> Event:
    """An event (a club evening by default); `families` attend it, without children."""
    row = _save(
        Event(
            **{
                "kind": "club",
                "title": f"Клубная встреча № {seq()}",
                "held_on": dt.date(2025, 2, 20),
                "organiser": organiser,
                **kw,
            }
        )
    )
    for family_row in families:
        attendance(row, family_row)
    return row


def attendance(event_row: Event, family_row, children=()) -> EventAttendance:
    """A family (and the listed children of it) at an event."""
    return _save(EventAttendance(event=event_row, family=family_row, children=list(children)))


def volunteer(group: Partner | None = None, **kw) -> Volunteer:
    return _save(
        Volunteer(
            **{
                "last_name": "Волкова",
                "first_name": "Дарья",
                "phone": "+7 900 000-00-00",
                "group": group or partner(kind="volunteers", name=f"Волонтёры № {seq()}"),
                **kw,
            }
        )
    )


def project_measure(**kw) -> ProjectMeasure:
    return _save(
        ProjectMeasure(
            **{
                "name": f"Мероприятие комплекса № {seq()}",
                "funding_source": "fund_grant",
                "planned": Decimal("100000.00"),
                "spent": Decimal("25000.50"),
                **kw,
            }
        )
    )


def required_document(**kw) -> RequiredDocument:
    """A type of the application's package; the first type not yet required, by default."""
    if "doc_type" not in kw:
        from models.documents import DOCUMENT_TYPE

        taken = set(
            db.session.scalars(
                select(RequiredDocument.doc_type).where(RequiredDocument.archived_at.is_(None))
            )
        )
        kw["doc_type"] = next(code for code in DOCUMENT_TYPE.codes if code not in taken)
    return _save(RequiredDocument(**kw))


def appointment(specialist: Staff | None = None, **kw) -> Appointment:
    return _save(
        Appointment(
            **{
                "specialist": specialist or staff(),
                "starts_at": dt.datetime(2025, 3, 10, 10, 0),
                "channel": "phone",
                "citizen_name": "Петрова Ольга Ивановна",
                "purpose": "Консультация",
                **kw,
            }
        )
    )


# --- the family data bank ---------------------------------------------------------------


def family(district_row: District | None = None, **kw) -> Family:
    return _save(
        Family(
            **{
                "surname": "Смирновы",
                "district": district_row or district(),
                "address": "Великий Новгород, ул. Ломоносова, д. 5, кв. 12",
                "identified_by": "self",
                "status": "registered",
                **kw,
            }
        )
    )


def person(family_row: Family, relation: str = "mother", **kw) -> Person:
    defaults = {
        "family": family_row,
        "last_name": "Смирнова",
        "first_name": "Елена",
        "middle_name": "Викторовна",
        "birth_date": dt.date(1988, 5, 17),
        "sex": "f",
        "relation": relation,
        "snils": valid_snils(),
        "disability_status": "none",
    }
    if relation == "child":
        defaults.update(
            first_name="Дмитрий",
            middle_name="Андреевич",
            sex="m",
            birth_date=dt.date(2015, 9, 1),
            disability_status="disabled",
            disability_group="child",
        )
    return _save(Person(**{**defaults, **kw}))


def family_with_members(**kw) -> tuple[Family, Person, Person]:
    """A family with a mother and a disabled child."""
    fam = family(**kw)
    return fam, person(fam, "mother"), person(fam, "child")


def consent(family_row: Family, person_row: Person, **kw) -> Consent:
    return _save(
        Consent(
            **{
                "family": family_row,
                "person": person_row,
                "given_on": dt.date(2025, 1, 15),
                "scope": "обработка персональных данных семьи для сопровождения",
                **kw,
            }
        )
    )


def programme_enrolment(family_row: Family, **kw) -> ProgrammeEnrolment:
    return _save(
        ProgrammeEnrolment(
            **{
                "family": family_row,
                "programme": kw.pop("programme", None) or programme(),
                "enrolled_on": dt.date(2025, 2, 1),
                **kw,
            }
        )
    )


# --- social support --------------------------------------------------------------------


def case(family_row: Family, applicant: Person, **kw) -> Case:
    """An active case: started 01.02.2025, planned to end 01.08.2025."""
    return _save(
        Case(
            **{
                "family": family_row,
                "applicant": applicant,
                "application_date": dt.date(2025, 1, 20),
                "decision_date": dt.date(2025, 1, 27),
                "contract_number": f"Д-{seq()}",
                "contract_date": dt.date(2025, 1, 31),
                "start_date": dt.date(2025, 2, 1),
                "planned_end_date": dt.date(2025, 8, 1),
                "status": "active",
                **kw,
            }
        )
    )


def assessment(case_row: Case, **kw) -> Assessment:
    return _save(
        Assessment(
            **{
                "case": case_row,
                "domain": "psychological",
                "need_level": "medium",
                "notes": "Нужна консультация психолога",
                "assessed_on": dt.date(2025, 2, 3),
                **kw,
            }
        )
    )


def support_plan(case_row: Case, **kw) -> SupportPlan:
    return _save(
        SupportPlan(
            **{"case": case_row, "status": "draft", "goal": "Социальная адаптация ребёнка", **kw}
        )
    )


def plan_activity(plan: SupportPlan, **kw) -> PlanActivity:
    return _save(
        PlanActivity(
            **{
                "plan": plan,
                "service": kw.pop("service", None) or service(),
                "responsible_role": "psychologist",
                "planned_date": dt.date(2025, 3, 1),
                "status": "planned",
                **kw,
            }
        )
    )


def plan_revision(plan: SupportPlan, **kw) -> PlanRevision:
    return _save(
        PlanRevision(
            **{
                "plan": plan,
                "number": 1,
                "changed_at": dt.datetime(2025, 2, 10, 12, 0, tzinfo=dt.UTC),
                "summary": "Добавлена консультация юриста",
                **kw,
            }
        )
    )


def visit(case_row: Case, staff_row: Staff | None = None, **kw) -> Visit:
    return _save(
        Visit(
            **{
                "case": case_row,
                "staff": staff_row or staff(),
                "visited_on": dt.date(2025, 2, 5),
                "purpose": "Обследование условий проживания",
                **kw,
            }
        )
    )


def task(family_row: Family, case_row: Case | None = None, **kw) -> Task:
    """A new task for the psychologist role, not yet assigned."""
    return _save(
        Task(
            **{
                "family": family_row,
                "case": case_row,
                "title": "Провести диагностику ребёнка",
                "role": "psychologist",
                "status": "new",
                "due_date": dt.date(2025, 3, 15),
                **kw,
            }
        )
    )


def task_assignment(task_row: Task, staff_row: Staff, **kw) -> TaskAssignment:
    return _save(
        TaskAssignment(
            **{
                "task": task_row,
                "staff": staff_row,
                "assigned_at": dt.datetime(2025, 2, 11, 9, 0, tzinfo=dt.UTC),
                "reason": "наименьшая загрузка",
                **kw,
            }
        )
    )


def review(case_row: Case, **kw) -> Review:
    return _save(
        Review(
            **{
                "case": case_row,
                "due_on": dt.date(2025, 4, 1),
                "plan_progress": "Выполняется по графику",
                "effectiveness": "medium",
                **kw,
            }
        )
    )


# --- rental point -------------------------------------------------------------------------


def equipment_type(**kw) -> EquipmentType:
    return _save(
        EquipmentType(
            **{
                "name": f"Кресло-коляска детская № {seq()}",
                "category": "mobility",
                "loan_term_days": 90,
                "max_extensions": 2,
                **kw,
            }
        )
    )


def equipment_unit(type_row: EquipmentType | None = None, **kw) -> EquipmentUnit:
    return _save(
        EquipmentUnit(
            **{
                "inventory_number": f"ТСР-{seq():05d}",
                "type": type_row or equipment_type(),
                "condition": "good",
                "status": "available",
                **kw,
            }
        )
    )


def loan(unit: EquipmentUnit, family_row: Family, child: Person, **kw) -> Loan:
    return _save(
        Loan(
            **{
                "unit": unit,
                "family": family_row,
                "child": child,
                "issued_on": dt.date(2025, 2, 1),
                "due_on": dt.date(2025, 5, 1),
                "condition_on_issue": "good",
                **kw,
            }
        )
    )


def loan_extension(loan_row: Loan, **kw) -> LoanExtension:
    return _save(
        LoanExtension(
            **{
                "loan": loan_row,
                "old_due_on": loan_row.due_on,
                "new_due_on": loan_row.due_on + dt.timedelta(days=30),
                "reason": "Ожидание индивидуального ТСР",
                "extended_at": dt.datetime(2025, 4, 20, 10, 0, tzinfo=dt.UTC),
                **kw,
            }
        )
    )


def reservation(
    family_row: Family, child: Person, type_row: EquipmentType | None = None, **kw
) -> Reservation:
    return _save(
        Reservation(
            **{
                "family": family_row,
                "child": child,
                "type": type_row or equipment_type(),
                "requested_on": dt.date(2025, 2, 15),
                "priority": "2",
                "status": "waiting",
                **kw,
            }
        )
    )


def audit_record(**kw) -> AuditRecord:
    return _save(
        AuditRecord(
            **{
                "action": "update",
                "username": "admin",
                "ip": "127.0.0.1",
                "table_name": "family",
                "row_id": "1",
                "changes": {"surname": {"old": "Смирнов", "new": "Смирновы"}},
                **kw,
            }
        )
    )


def referral(case_row: Case, partner_row: Partner | None = None, **kw) -> Referral:
    """A prepared referral of the case to a partner (an educational one: no health data)."""
    return _save(
        Referral(
            **{
                "case": case_row,
                "partner": partner_row or partner(),
                "service": service(),
                "reason_kind": "education",
                "reason": "Перевод в школу",
                "prepared_on": dt.date(2025, 3, 1),
                "status": "prepared",
                **kw,
            }
        )
    )


def incoming_referral(
    partner_row: Partner | None = None,
    district_row: District | None = None,
    received_by: Staff | None = None,
    **kw,
) -> IncomingReferral:
    """A partner's referral of a family, received and waiting for intake."""
    return _save(
        IncomingReferral(
            **{
                "partner": partner_row or partner(),
                "district": district_row or district(),
                "received_by": received_by or staff("district_worker"),
                "person_name": "Кузнецова Ольга Петровна",
                "address": "Великий Новгород, ул. Державина, д. 3, кв. 8",
                "referred_on": dt.date(2025, 3, 3),
                "received_on": dt.date(2025, 3, 4),
                "reason": "Ребёнок не посещает школу, мать просит помощи",
                "status": "received",
                **kw,
            }
        )
    )


def social_raid(district_row: District | None = None, team=(), **kw) -> SocialRaid:
    """A social raid over a district's streets, with its team of staff."""
    return _save(
        SocialRaid(
            **{
                "held_on": dt.date(2025, 3, 10),
                "district": district_row or district(),
                "area": "ул. Большая Московская, д. 1–40",
                "staff": list(team),
                **kw,
            }
        )
    )


# --- the outbox -------------------------------------------------------------------------


def message(family_row: Family, **kw) -> Message:
    due = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)
    return _save(
        Message(
            **{
                "family": family_row,
                "channel": "sms",
                "address": "+7 900 000-00-01",
                "template_code": "loan_due",
                "event_kind": "loan_due",
                "event_id": seq(),
                # A due date still ahead: a reminder of a day past is not sent at all.
                "event_on": dt.date.today() + dt.timedelta(days=30),
                "subject": "Скоро срок возврата ТСР",
                "body": "13.03 — срок возврата ТСР в пункт проката КЦСОН.",
                "due_at": due,
                "next_attempt_at": due,
                "state": "pending",
                "attempts": 0,
                **kw,
            }
        )
    )


def message_template(**kw) -> MessageTemplate:
    return _save(
        MessageTemplate(
            **{
                "code": "offer",
                "title": "Предложение ТСР из очереди",
                "subject": "Для вас зарезервировано ТСР",
                "body": "Для вас зарезервировано: {вид_ТСР}, до {до}.",
                **kw,
            }
        )
    )


def rehab_programme(child: Person, bureau: Partner | None = None, **kw) -> RehabProgramme:
    n = seq()
    return _save(
        RehabProgramme(
            **{
                "child": child,
                "number": f"{n}.1.53/2025",
                "issued_on": dt.date(2025, 1, 15),
                "valid_until": dt.date(2026, 2, 1),
                "bureau": bureau or partner(name=f"Бюро МСЭ № {n}", kind="mse"),
                **kw,
            }
        )
    )


def rehab_measure(programme_row: RehabProgramme, **kw) -> RehabMeasure:
    return _save(
        RehabMeasure(
            **{
                "programme": programme_row,
                "kind": "psych_ped",
                "description": "Психолого-педагогическая коррекция, занятия с логопедом",
                **kw,
            }
        )
    )


def rehab_tsr(programme_row: RehabProgramme, **kw) -> RehabTsr:
    return _save(
        RehabTsr(
            **{
                "programme": programme_row,
                "name": "Кресло-коляска с ручным приводом комнатная",
                "by_fund": True,
                **kw,
            }
        )
    )
