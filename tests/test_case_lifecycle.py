"""The life of a support case through workflows/cases.py, without HTTP.

application → assessment → active → closed; every refused transition says
why in Russian; the six-month rule holds at its edges in the workflow and in
the database.
"""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import Appointment, Assessment, Case, Consent, Family, Person, Task, db
from models.base import utcnow
from models.cases import LIFE_DOMAIN
from workflows import cases as wf
from workflows.consent import record_consent
from workflows.errors import WorkflowError

D = dt.date
TODAY = D(2026, 11, 20)
ALL_MEDIUM = {domain: ("medium", f"Заметки: {domain}") for domain in LIFE_DOMAIN.codes}


@pytest.fixture
def setting(app_ctx):
    """A district with a worker, a coordinator, and a family with consent."""
    area = f.district()
    worker = f.staff("district_worker", districts=[area])
    coordinator = f.user("coordinator")
    family, mother, child = f.family_with_members(district_row=area)
    f.consent(family, mother, given_on=D(2020, 1, 10))
    db.session.commit()
    return {
        "area": area,
        "worker": worker,
        "actor": coordinator,
        "family": family,
        "mother": mother,
        "child": child,
    }


APPLIED, ASSESSED, STARTED = D(2025, 1, 20), D(2025, 1, 25), D(2025, 2, 1)


def _apply(s, on=APPLIED) -> Case:
    return wf.open_case(
        db.session,
        s["actor"],
        family=s["family"],
        applicant=s["mother"],
        application_date=on,
        today=TODAY,
    )


def _assess(s, case, on=ASSESSED):
    return wf.record_assessment(
        db.session, s["actor"], case, levels=ALL_MEDIUM, assessed_on=on, today=TODAY
    )


def _sign(s, case, start=STARTED, end=None, number="Д-1/2025", **kw):
    args = {
        "decision_date": D(2025, 1, 27),
        "contract_number": number,
        "contract_date": D(2025, 1, 31),
        "start_date": start,
        "planned_end_date": end,
        "lead_worker": s["worker"],
        "today": TODAY,
        **kw,
    }
    return wf.sign_contract(db.session, s["actor"], case, **args)


def _refused(call, *words, field=None) -> WorkflowError:
    with pytest.raises(WorkflowError) as caught:
        call()
    for word in words:
        assert word in str(caught.value), str(caught.value)
    if field is not None:
        assert caught.value.field == field
    db.session.rollback()
    return caught.value


# --- the whole lifecycle ------------------------------------------------------------------


def test_whole_lifecycle(setting):
    """Does a case go application → assessment → active → closed, with each step's data kept?"""
    s = setting
    case = _apply(s)
    assert case.status == "application" and case.applicant is s["mother"]
    db.session.commit()

    rows = _assess(s, case)
    assert case.status == "assessment"
    assert {r.domain for r in rows} == set(LIFE_DOMAIN.codes)
    assert all(r.assessed_by_id == s["actor"].staff_id for r in rows)
    db.session.commit()

    _sign(s, case)
    db.session.commit()
    assert case.status == "active"
    assert case.planned_end_date == D(2025, 8, 1)  # start + 6 months by default
    assert case.lead_worker is s["worker"] and case.family.status == "supported"

    cancelled = wf.close_case(
        db.session,
        s["actor"],
        case,
        reason="goal_achieved",
        closed_on=D(2025, 7, 1),
        outcome="Ребёнок посещает школу",
        cancel_open_tasks=False,
        today=TODAY,
    )
    db.session.commit()
    assert cancelled == 0
    stored = db.session.get(Case, case.id)
    assert (stored.status, stored.closure_reason, stored.closed_on) == (
        "closed",
        "goal_achieved",
        D(2025, 7, 1),
    )
    assert stored.family.status == "registered"


def test_reassessment_before_the_contract_updates_the_same_rows(setting):
    """Does a second assessment while in `assessment` correct the six rows, not add six more?"""
    s = setting
    case = _apply(s)
    _assess(s, case)
    levels = {**ALL_MEDIUM, "medical": ("high", "Нужна реабилитация")}
    wf.record_assessment(
        db.session, s["actor"], case, levels=levels, assessed_on=D(2025, 1, 26), today=TODAY
    )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Assessment)) == 6
    medical = db.session.scalar(select(Assessment).where(Assessment.domain == "medical"))
    assert medical.need_level == "high"


# --- refused transitions ------------------------------------------------------------------


def test_no_case_without_consent(setting):
    """Is an application refused without an active consent, with the consent message?"""
    s = setting
    other, mother, _ = f.family_with_members(district_row=s["area"], surname="Новиковы")
    _refused(
        lambda: wf.open_case(
            db.session,
            s["actor"],
            family=other,
            applicant=mother,
            application_date=D(2025, 1, 20),
            today=TODAY,
        ),
        "согласия",
        field="consent",
    )


def test_consent_recorded_then_case_opens(setting):
    """After the consent is recorded, does the same application succeed?"""
    s = setting
    other, mother, _ = f.family_with_members(district_row=s["area"], surname="Новиковы")
    record_consent(db.session, other, mother, D(2025, 1, 20), today=TODAY)
    case = wf.open_case(
        db.session,
        s["actor"],
        family=other,
        applicant=mother,
        application_date=D(2025, 1, 20),
        today=TODAY,
    )
    assert case.status == "application"
    assert db.session.scalar(select(func.count()).select_from(Consent)) == 2


def test_child_cannot_be_the_applicant(setting):
    """Is a child (not a parent or legal representative) refused as the applicant?"""
    s = setting
    _refused(
        lambda: wf.open_case(
            db.session,
            s["actor"],
            family=s["family"],
            applicant=s["child"],
            application_date=D(2025, 1, 20),
            today=TODAY,
        ),
        "родитель",
        field="applicant",
    )


def test_second_open_case_of_a_family_is_refused(setting):
    """Is a second application while the family's case is open refused (one application)?"""
    s = setting
    first = _apply(s)
    db.session.commit()
    error = _refused(lambda: _apply(s), "уже есть открытый случай", field="family")
    assert str(first.id) in str(error)


def test_second_open_case_is_refused_by_the_database(setting):
    """Does the database itself refuse two open cases of one family (the partial unique index)?"""
    s = setting
    f.case(s["family"], s["mother"], status="application", contract_number=None)
    db.session.commit()
    with pytest.raises(IntegrityError):
        f.case(s["family"], s["mother"], status="application", contract_number=None)
    db.session.rollback()
    # A closed case does not count: the family may apply again.
    f.case(
        s["family"],
        s["mother"],
        status="closed",
        closure_reason="moved",
        closed_on=D(2025, 5, 1),
    )
    db.session.commit()


def test_active_case_without_contract_is_refused_by_the_database(setting):
    """Does the database refuse an active case with no contract number?"""
    s = setting
    with pytest.raises(IntegrityError, match="active_has_contract"):
        f.case(s["family"], s["mother"], contract_number=None)
    db.session.rollback()


def test_contract_before_assessment_is_refused(setting):
    """Is signing the contract of a case still in `application` refused, saying to assess first?"""
    s = setting
    case = _apply(s)
    db.session.commit()
    _refused(lambda: _sign(s, case), "оценку потребностей")
    assert db.session.get(Case, case.id).status == "application"


def test_second_contract_is_refused(setting):
    """Is signing a contract twice refused, naming the contract already signed?"""
    s = setting
    case = _apply(s)
    _assess(s, case)
    _sign(s, case)
    db.session.commit()
    _refused(lambda: _sign(s, case, number="Д-2/2025"), "Договор уже заключён", "Д-1/2025")


def test_assessment_after_the_contract_is_refused(setting):
    """Is an assessment of an active case refused?"""
    s = setting
    case = _apply(s)
    _assess(s, case)
    _sign(s, case)
    db.session.commit()
    _refused(lambda: _assess(s, case), "до заключения договора")


def test_incomplete_assessment_is_refused(setting):
    """Is an assessment missing one life domain refused next to that domain's field?"""
    s = setting
    case = _apply(s)
    db.session.commit()
    levels = dict(ALL_MEDIUM)
    del levels["legal"]
    _refused(
        lambda: wf.record_assessment(
            db.session, s["actor"], case, levels=levels, assessed_on=D(2025, 1, 25), today=TODAY
        ),
        "правовая",
        field="legal_level",
    )
    assert db.session.get(Case, case.id).status == "application"


def test_closing_before_the_contract_is_refused(setting):
    """Is closing a case without a contract refused (it is archived instead)?"""
    s = setting
    case = _apply(s)
    db.session.commit()
    _refused(
        lambda: wf.close_case(
            db.session,
            s["actor"],
            case,
            reason="refused",
            closed_on=D(2025, 1, 22),
            outcome=None,
            cancel_open_tasks=True,
            today=TODAY,
        ),
        "только случай на сопровождении",
    )


def test_closed_case_is_read_only(setting):
    """Does every workflow refuse a closed case («Случай закрыт»)?"""
    s = setting
    case = f.case(
        s["family"],
        s["mother"],
        status="closed",
        closure_reason="refused",
        closed_on=D(2025, 3, 1),
    )
    db.session.commit()
    _refused(lambda: _assess(s, case), "Случай закрыт")
    _refused(lambda: _sign(s, case), "Случай закрыт")
    _refused(
        lambda: wf.close_case(
            db.session,
            s["actor"],
            case,
            reason="moved",
            closed_on=D(2025, 4, 1),
            outcome=None,
            cancel_open_tasks=True,
            today=TODAY,
        ),
        "Случай закрыт",
    )


def test_term_expired_before_the_planned_end_is_refused(setting):
    """Is «истёк срок» refused before the planned end date?"""
    s = setting
    case = f.case(s["family"], s["mother"])  # 01.02.2025 – 01.08.2025
    db.session.commit()
    _refused(
        lambda: wf.close_case(
            db.session,
            s["actor"],
            case,
            reason="term_expired",
            closed_on=D(2025, 7, 31),
            outcome=None,
            cancel_open_tasks=False,
            today=TODAY,
        ),
        "Срок ещё не истёк",
        field="reason",
    )


# --- closure and open tasks ------------------------------------------------------------------


def _case_with_tasks(s):
    case = f.case(s["family"], s["mother"])
    f.task(s["family"], case, title="Открытая", status="assigned", assignee=s["worker"])
    f.task(
        s["family"],
        case,
        title="Выполненная",
        status="done",
        assignee=s["worker"],
        closed_at=utcnow(),
    )
    db.session.commit()
    return case


def test_open_tasks_block_closure_when_asked(setting):
    """With open tasks and «do not cancel», is closure refused and nothing changed?"""
    s = setting
    case = _case_with_tasks(s)
    _refused(
        lambda: wf.close_case(
            db.session,
            s["actor"],
            case,
            reason="refused",
            closed_on=D(2025, 3, 1),
            outcome=None,
            cancel_open_tasks=False,
            today=TODAY,
        ),
        "незавершённые задачи (1)",
        field="open_tasks",
    )
    assert db.session.get(Case, case.id).status == "active"
    open_task = db.session.scalar(select(Task).where(Task.title == "Открытая"))
    assert open_task.status == "assigned" and open_task.closed_at is None


def test_closure_cancels_open_tasks_with_the_reason(setting):
    """With «cancel», are open tasks cancelled with the reason, and finished ones left alone?"""
    s = setting
    case = _case_with_tasks(s)
    cancelled = wf.close_case(
        db.session,
        s["actor"],
        case,
        reason="refused",
        closed_on=D(2025, 3, 1),
        outcome="Семья отказалась от сопровождения",
        cancel_open_tasks=True,
        cancel_reason="Семья отказалась",
        today=TODAY,
    )
    db.session.commit()
    assert cancelled == 1
    tasks = {t.title: t for t in db.session.scalars(select(Task))}
    assert tasks["Открытая"].status == "cancelled"
    assert tasks["Открытая"].result == "Отменена: Семья отказалась"
    assert tasks["Открытая"].closed_at is not None
    assert tasks["Выполненная"].status == "done"


# --- the six-month rule at its edges ------------------------------------------------------

SIX_MONTH_EDGES = [
    # start, planned end, accepted?
    (D(2025, 2, 1), D(2025, 8, 1), True),  # exactly six months
    (D(2025, 2, 1), D(2025, 8, 2), False),  # one day more
    (D(2025, 8, 31), D(2026, 2, 28), True),  # 31 Aug + 6 months = 28 Feb
    (D(2025, 8, 31), D(2026, 3, 1), False),
    (D(2023, 8, 31), D(2024, 2, 29), True),  # leap year: 29 Feb
    (D(2023, 8, 31), D(2024, 3, 1), False),
]


@pytest.mark.parametrize(("start", "end", "accepted"), SIX_MONTH_EDGES, ids=str)
def test_six_month_rule_in_the_workflow(setting, start, end, accepted):
    """Does the contract accept an end exactly six months on and refuse one day more?"""
    s = setting
    case = _apply(s, on=start - dt.timedelta(days=10))
    _assess(s, case, on=start - dt.timedelta(days=5))
    db.session.commit()
    dates = {
        "decision_date": start - dt.timedelta(days=2),
        "contract_date": start - dt.timedelta(days=1),
    }
    if accepted:
        _sign(s, case, start=start, end=end, **dates)
        db.session.commit()
        assert db.session.get(Case, case.id).planned_end_date == end
    else:
        _refused(
            lambda: _sign(s, case, start=start, end=end, **dates),
            "шести месяцев",
            f"{wf.six_month_limit(start):%d.%m.%Y}",
            field="planned_end_date",
        )


@pytest.mark.parametrize(
    ("start", "default_end"),
    [
        (D(2025, 8, 31), D(2026, 2, 28)),
        (D(2023, 8, 31), D(2024, 2, 29)),
        (D(2025, 2, 1), D(2025, 8, 1)),
    ],
)
def test_default_planned_end_is_six_months_clamped(setting, start, default_end):
    """Without a planned end, is it start + 6 months, clamped to the month's end?"""
    s = setting
    case = _apply(s, on=start - dt.timedelta(days=10))
    _assess(s, case, on=start - dt.timedelta(days=5))
    _sign(
        s,
        case,
        start=start,
        decision_date=start - dt.timedelta(days=2),
        contract_date=start - dt.timedelta(days=1),
    )
    db.session.commit()
    assert db.session.get(Case, case.id).planned_end_date == default_end


def test_contract_dates_in_order(setting):
    """Are a decision before the application and a start before the contract refused?"""
    s = setting
    case = _apply(s)
    _assess(s, case)
    db.session.commit()
    _refused(lambda: _sign(s, case, decision_date=D(2025, 1, 1)), field="decision_date")
    _refused(lambda: _sign(s, case, start=D(2025, 1, 30)), field="start_date")


def test_duplicate_contract_number_is_refused(setting):
    """Is a contract number already used by another case refused next to the number?"""
    s = setting
    other, mother, _ = f.family_with_members(district_row=s["area"], surname="Другие")
    f.case(other, mother, contract_number="Д-1/2025")
    case = _apply(s)
    _assess(s, case)
    db.session.commit()
    _refused(lambda: _sign(s, case), "уже есть", field="contract_number")


def test_lead_worker_must_be_a_district_worker(setting):
    """Is a psychologist refused as the lead worker?"""
    s = setting
    case = _apply(s)
    _assess(s, case)
    db.session.commit()
    psychologist = f.staff("psychologist")
    _refused(lambda: _sign(s, case, lead_worker=psychologist), field="lead_worker")


# --- finding and registering a family ---------------------------------------------------------


def test_find_families_by_surname_address_snils_in_scope(app_ctx):
    """Does the search find a family by a member's surname, by address and by SNILS —
    only within the user's districts?"""
    mine, theirs = f.district(), f.district()
    worker = f.user("district_worker", staff_row=f.staff("district_worker", districts=[mine]))
    own, mother, _ = f.family_with_members(
        district_row=mine, surname="Смирновы", address="ул. Ломоносова, д. 5"
    )
    f.family_with_members(district_row=theirs, surname="Смирновы", address="ул. Ленина, д. 1")
    db.session.commit()
    assert wf.find_families(db.session, worker, surname="смирнова") == [own]
    assert wf.find_families(db.session, worker, address="ломоносова д5") == [own]
    assert wf.find_families(db.session, worker, snils=mother.snils) == [own]
    assert wf.find_families(db.session, worker, address="Ленина") == []
    assert wf.find_families(db.session, worker) == []


def _applicant(**kw) -> wf.ApplicantData:
    return wf.ApplicantData(
        **{
            "last_name": "Орлова",
            "first_name": "Ирина",
            "middle_name": "Павловна",
            "birth_date": D(1990, 3, 3),
            "sex": "f",
            "relation": "mother",
            "snils": f.valid_snils(),
            **kw,
        }
    )


def test_register_family_warns_of_a_duplicate(app_ctx):
    """Is registering a family with the same surname and address refused with a warning,
    and done once the user confirms it is another family?"""
    area = f.district()
    actor = f.user("coordinator")
    existing = f.family(area, surname="Орловы", address="ул. Мира, д. 3, кв. 1")
    db.session.commit()

    def register(confirm):
        return wf.register_family(
            db.session,
            actor,
            surname="орловы",
            district=area,
            address="ул Мира д 3 кв 1",
            phone=None,
            applicant=_applicant(),
            confirm_duplicate=confirm,
            today=TODAY,
        )

    error = _refused(lambda: register(False), "Похожая семья", field="confirm_duplicate")
    assert str(existing) in str(error)
    family, person = register(True)
    db.session.commit()
    assert family.id != existing.id and person.family_id == family.id


def test_register_family_with_a_known_snils_is_refused(app_ctx):
    """Is an applicant whose SNILS is already in the bank refused (find the family instead)?"""
    area = f.district()
    actor = f.user("coordinator")
    _fam, mother, _ = f.family_with_members(district_row=area)
    db.session.commit()
    _refused(
        lambda: wf.register_family(
            db.session,
            actor,
            surname="Новые",
            district=area,
            address="ул. Новая, 1",
            phone=None,
            applicant=_applicant(snils=mother.snils),
            confirm_duplicate=True,
            today=TODAY,
        ),
        "СНИЛС",
        field="snils",
    )
    assert db.session.scalar(select(func.count()).select_from(Family)) == 1


def test_hidden_duplicate_is_counted_not_shown(app_ctx):
    """Does a worker see that a similar family exists in another district, without its data?"""
    mine, theirs = f.district(), f.district()
    worker = f.user("district_worker", staff_row=f.staff("district_worker", districts=[mine]))
    f.family(theirs, surname="Орловы", address="ул. Мира, 3")
    db.session.commit()
    found = wf.similar_families(db.session, worker, "Орловы", "ул. Мира, 3")
    assert found.visible == [] and found.hidden == 1
    assert "ул. Мира" not in found.message()


def test_worker_registers_only_in_own_district(app_ctx):
    """Is a district worker refused when registering a family in another district?"""
    mine, theirs = f.district(), f.district()
    worker = f.user("district_worker", staff_row=f.staff("district_worker", districts=[mine]))
    db.session.commit()
    _refused(
        lambda: wf.register_family(
            db.session,
            worker,
            surname="Орловы",
            district=theirs,
            address="ул. Мира, 3",
            phone=None,
            applicant=_applicant(),
            today=TODAY,
        ),
        field="district",
    )


def test_appointment_becomes_the_application_once(setting):
    """Does an appointment turn into the application (linked, outcome written) only once?"""
    s = setting
    appointment = f.appointment(s["worker"], starts_at=dt.datetime(2025, 1, 20, 10, 0))
    db.session.commit()
    case = wf.open_case(
        db.session,
        s["actor"],
        family=s["family"],
        applicant=s["mother"],
        application_date=D(2025, 1, 20),
        appointment=appointment,
        today=TODAY,
    )
    db.session.commit()
    stored = db.session.get(Appointment, appointment.id)
    assert stored.case_id == case.id and stored.family_id == s["family"].id
    assert f"№ {case.id}" in stored.outcome
    other, mother, _ = f.family_with_members(district_row=s["area"], surname="Вторые")
    f.consent(other, mother)
    db.session.commit()
    _refused(
        lambda: wf.open_case(
            db.session,
            s["actor"],
            family=other,
            applicant=mother,
            application_date=D(2025, 1, 20),
            appointment=stored,
            today=TODAY,
        ),
        "уже открыт случай",
    )
    assert db.session.scalar(select(func.count()).select_from(Person)) == 4
