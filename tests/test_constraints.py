"""Does the database itself hold the data bank's rules, on SQLite and PostgreSQL alike?

Every test writes through the ORM (which has no validators of its own) and
expects the database to refuse with an IntegrityError naming the rule; each
refusal has a valid twin that is accepted, so a test cannot pass because the
factory row was broken for another reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import factories as f
import pytest
from sqlalchemy import literal, select, text
from sqlalchemy.exc import IntegrityError

from models import Case, Family, Loan, Person, db
from models.base import add_months as sql_add_months
from workflows.dates import add_months

D = dt.date


@contextlib.contextmanager
def refused(*fragments: str):
    """The block must fail with an IntegrityError whose text names one of `fragments`.

    SQLite names a failed CHECK by its constraint name but a failed UNIQUE by
    its columns; PostgreSQL names both by constraint, so tests pass both forms.
    """
    with pytest.raises(IntegrityError) as caught:
        yield
        db.session.flush()
    db.session.rollback()
    message = str(caught.value.orig).lower()
    assert any(fragment.lower() in message for fragment in fragments), message


@pytest.fixture
def household(app_ctx):
    """A committed family with a mother and a child."""
    fam, mother, child = f.family_with_members()
    db.session.commit()
    return fam, mother, child


# --- the rental point -----------------------------------------------------------------------


def test_second_open_loan_of_one_unit_is_refused(household):
    """Does the database refuse a second open loan of one unit (uq_loan_open_unit)?"""
    fam, _, child = household
    unit = f.equipment_unit()
    f.loan(unit, fam, child)
    db.session.commit()

    with refused("uq_loan_open_unit", "loan.unit_id"):
        f.loan(unit, fam, child, issued_on=D(2025, 2, 2), due_on=D(2025, 5, 2))
    assert db.session.scalar(select(db.func.count()).select_from(Loan)) == 1


def test_returned_loan_then_new_open_loan_is_accepted(household):
    """Once a unit's loan is returned, may the unit be lent again (and again returned)?"""
    fam, _, child = household
    unit = f.equipment_unit()
    f.loan(unit, fam, child, returned_on=D(2025, 3, 1))
    f.loan(unit, fam, child, issued_on=D(2025, 3, 5), due_on=D(2025, 6, 5))
    db.session.commit()
    open_loans = db.session.scalars(
        select(Loan).where(Loan.unit_id == unit.id, Loan.returned_on.is_(None))
    ).all()
    assert len(open_loans) == 1
    assert open_loans[0].issued_on == D(2025, 3, 5)


def test_reopening_a_returned_loan_while_another_is_open_is_refused(household):
    """Does the one-open-loan rule also hold when a returned loan is re-opened by an UPDATE?"""
    fam, _, child = household
    unit = f.equipment_unit()
    old = f.loan(unit, fam, child, returned_on=D(2025, 3, 1))
    f.loan(unit, fam, child, issued_on=D(2025, 3, 5), due_on=D(2025, 6, 5))
    db.session.commit()
    with refused("uq_loan_open_unit", "loan.unit_id"):
        old.returned_on = None


def test_duplicate_inventory_number_is_refused(app_ctx):
    """Does the database refuse two units with one inventory number?"""
    kind = f.equipment_type()
    f.equipment_unit(kind, inventory_number="ТСР-0001")
    db.session.commit()
    with refused("inventory_number"):
        f.equipment_unit(kind, inventory_number="ТСР-0001")


def test_loan_due_before_issue_is_refused(household):
    """Does the database refuse a loan due before its issue date?"""
    fam, _, child = household
    unit = f.equipment_unit()
    db.session.commit()
    with refused("ck_loan_due_order"):
        f.loan(unit, fam, child, issued_on=D(2025, 2, 1), due_on=D(2025, 1, 31))
    f.loan(unit, fam, child, issued_on=D(2025, 2, 1), due_on=D(2025, 2, 1))  # same day is fine


def test_return_before_issue_is_refused(household):
    """Does the database refuse a returned_on earlier than issued_on?"""
    fam, _, child = household
    unit = f.equipment_unit()
    db.session.commit()
    with refused("ck_loan_returned_order"):
        f.loan(unit, fam, child, issued_on=D(2025, 2, 1), returned_on=D(2025, 1, 31))
    f.loan(unit, fam, child, issued_on=D(2025, 2, 1), returned_on=D(2025, 2, 1))


# --- people ------------------------------------------------------------------------------------


def test_duplicate_snils_is_refused(household):
    """Does the database refuse a second person with the same SNILS?"""
    fam, mother, _ = household
    with refused("snils"):
        f.person(fam, "father", first_name="Андрей", sex="m", snils=mother.snils)


def test_people_without_snils_may_be_many(household):
    """Is a missing SNILS (NULL) not counted as a duplicate?"""
    fam, _, _ = household
    f.person(fam, "other", snils=None)
    f.person(fam, "other", first_name="Мария", snils=None)
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).where(Person.snils.is_(None))) == 2


def test_consent_withdrawn_before_given_is_refused(household):
    """Does the database refuse a consent withdrawn before it was given?"""
    fam, mother, _ = household
    with refused("ck_consent_withdrawn_order"):
        f.consent(fam, mother, given_on=D(2025, 1, 15), withdrawn_on=D(2025, 1, 14))
    f.consent(fam, mother, given_on=D(2025, 1, 15), withdrawn_on=D(2025, 1, 15))


# --- support cases ------------------------------------------------------------------------


def test_duplicate_contract_number_is_refused(household):
    """Does the database refuse two cases with one contract number?"""
    fam, mother, _ = household
    f.case(fam, mother, contract_number="Д-77/2025")
    db.session.commit()
    other, other_mother, _ = f.family_with_members()  # one open case per family
    with refused("contract_number"):
        f.case(other, other_mother, contract_number="Д-77/2025")


def test_case_ending_before_it_starts_is_refused(household):
    """Does the database refuse a case whose planned end is before its start?"""
    fam, mother, _ = household
    with refused("ck_support_case_end_after_start"):
        f.case(fam, mother, start_date=D(2025, 2, 1), planned_end_date=D(2025, 1, 31))


SIX_MONTH_EDGES = [
    # start, planned end, accepted?
    (D(2025, 2, 1), D(2025, 8, 1), True),  # exactly six months
    (D(2025, 2, 1), D(2025, 8, 2), False),  # one day more
    (D(2025, 8, 31), D(2026, 2, 28), True),  # clamped to February's end
    (D(2025, 8, 31), D(2026, 3, 1), False),  # SQLite's date() would roll over to 3 Mar
    (D(2023, 8, 31), D(2024, 2, 29), True),  # leap year
    (D(2023, 8, 31), D(2024, 3, 1), False),
    (D(2025, 7, 31), D(2026, 1, 31), True),  # across the new year
    (D(2025, 7, 31), D(2026, 2, 1), False),
    (D(2025, 2, 1), D(2025, 2, 1), True),  # a case may end the day it starts
]


@pytest.mark.parametrize(("start", "end", "accepted"), SIX_MONTH_EDGES, ids=str)
def test_case_longer_than_six_months_is_refused(household, start, end, accepted):
    """Does the database accept a case of at most six months and refuse one day more?"""
    fam, mother, _ = household
    if accepted:
        f.case(fam, mother, application_date=start, start_date=start, planned_end_date=end)
        db.session.commit()
        assert db.session.scalar(select(Case.planned_end_date)) == end
    else:
        with refused("ck_support_case_six_months"):
            f.case(fam, mother, application_date=start, start_date=start, planned_end_date=end)


def test_extending_a_case_past_six_months_is_refused(household):
    """Does the six-month rule also hold when an existing case is later extended?"""
    fam, mother, _ = household
    row = f.case(fam, mother)
    db.session.commit()
    with refused("ck_support_case_six_months"):
        row.planned_end_date = D(2025, 8, 2)


def test_closed_case_without_reason_is_refused(household):
    """Does the database refuse a closed case without a closure reason?"""
    fam, mother, _ = household
    with refused("ck_support_case_closure_complete"):
        f.case(fam, mother, status="closed", closed_on=D(2025, 5, 1), closure_reason=None)
    f.case(fam, mother, status="closed", closed_on=D(2025, 5, 1), closure_reason="refused")
    db.session.commit()


def test_open_case_with_closure_reason_is_refused(household):
    """Does the database refuse a closure reason on a case that is not closed?"""
    fam, mother, _ = household
    with refused("ck_support_case_closure_complete"):
        f.case(fam, mother, status="active", closed_on=D(2025, 5, 1), closure_reason="moved")


def test_task_assigned_without_assignee_is_refused(household):
    """Does the database refuse a task in status 'assigned' without an assignee?"""
    fam, _, _ = household
    with refused("ck_task_assigned_has_assignee"):
        f.task(fam, status="assigned", assignee=None)
    f.task(fam, status="assigned", assignee=f.staff("psychologist"))
    db.session.commit()


# --- reference data ------------------------------------------------------------------------


def test_agreement_ending_before_it_starts_is_refused(app_ctx):
    """Does the database refuse an agreement whose valid_to is before valid_from?"""
    with refused("ck_partner_agreement_valid_order"):
        f.partner_agreement(valid_from=D(2025, 3, 1), valid_to=D(2025, 2, 28))
    f.partner_agreement(valid_from=D(2025, 3, 1), valid_to=D(2025, 3, 1))


def test_double_booked_specialist_slot_is_refused(app_ctx):
    """Does the database refuse a second appointment of one specialist at one time?"""
    specialist = f.staff("lawyer")
    f.appointment(specialist, starts_at=dt.datetime(2025, 3, 10, 10, 0))
    db.session.commit()
    with refused("uq_appointment_specialist_id_starts_at", "appointment.specialist_id"):
        f.appointment(specialist, starts_at=dt.datetime(2025, 3, 10, 10, 0))
    f.appointment(specialist, starts_at=dt.datetime(2025, 3, 10, 10, 30))
    f.appointment(f.staff("lawyer"), starts_at=dt.datetime(2025, 3, 10, 10, 0))
    db.session.commit()


# --- foreign keys and code lists --------------------------------------------------------------


def test_foreign_key_to_missing_row_is_refused(household):
    """Does the database refuse a person of a family that does not exist?

    SQLite leaves foreign keys unchecked unless PRAGMA foreign_keys is on for
    every connection; the app switches it on, and this checks it is on here.
    """
    fam, _, _ = household
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with refused("foreign key", "fk_person_family_id_family"):
        db.session.add(
            Person(
                family_id=fam.id + 1000,
                last_name="Смирнова",
                first_name="Ольга",
                birth_date=D(1960, 1, 1),
                sex="f",
                relation="other",
            )
        )


def test_loan_of_missing_unit_is_refused(household):
    """Does the database refuse a loan of an equipment unit that does not exist?"""
    fam, _, child = household
    with refused("foreign key", "fk_loan_unit_id_equipment_unit"):
        db.session.add(
            Loan(
                unit_id=987654,
                family_id=fam.id,
                child_id=child.id,
                issued_on=D(2025, 2, 1),
                due_on=D(2025, 3, 1),
            )
        )


def test_deleting_a_family_with_members_is_refused(household):
    """Does the database refuse to delete a family that still has members (RESTRICT)?"""
    fam, _, _ = household
    with refused("foreign key", "fk_person_family_id_family"):
        db.session.execute(text("DELETE FROM family WHERE id = :id"), {"id": fam.id})


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("family", "status"),
        ("family", "identified_by"),
        ("person", "relation"),
        ("support_case", "status"),
    ],
)
def test_code_outside_the_list_is_refused(household, table, column):
    """Does the database's CHECK refuse a status or code that is not in the list?

    The ORM's Enum would catch the value in Python first, so the row is
    written with plain SQL to reach the database's own check.
    """
    fam, mother, _ = household
    f.case(fam, mother)
    db.session.commit()
    with refused(f"ck_{table}_", "check"):
        db.session.execute(text(f"UPDATE {table} SET {column} = 'bogus'"))  # noqa: S608


def test_orm_rejects_unknown_code_before_the_database(household):
    """Does the ORM also refuse an unknown status before any SQL is sent?"""
    fam, _, _ = household
    fam.status = "bogus"
    with pytest.raises(Exception, match="bogus"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Family, fam.id).status == "registered"


# --- calendar arithmetic ----------------------------------------------------------------------

ADD_MONTHS = [
    (D(2025, 1, 15), 0, D(2025, 1, 15)),
    (D(2025, 1, 31), 1, D(2025, 2, 28)),  # month end clamps
    (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year
    (D(2025, 3, 31), 1, D(2025, 4, 30)),
    (D(2025, 8, 31), 6, D(2026, 2, 28)),
    (D(2023, 8, 31), 6, D(2024, 2, 29)),
    (D(2025, 2, 1), 6, D(2025, 8, 1)),
    (D(2025, 12, 15), 1, D(2026, 1, 15)),  # December rolls into the next year
    (D(2025, 7, 31), 6, D(2026, 1, 31)),
    (D(2025, 11, 30), 3, D(2026, 2, 28)),
    (D(2025, 12, 31), 12, D(2026, 12, 31)),
    (D(2025, 12, 31), 14, D(2027, 2, 28)),
    (D(1999, 12, 31), 2, D(2000, 2, 29)),  # 2000 is a leap year
    (D(2099, 12, 31), 2, D(2100, 2, 28)),  # 2100 is not
    (D(2024, 2, 29), 12, D(2025, 2, 28)),
]


@pytest.mark.parametrize(("day", "months", "expected"), ADD_MONTHS, ids=str)
def test_add_months(day, months, expected):
    """Does workflows.dates.add_months clamp month ends, know leap years and roll over December?"""
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [(D(2025, 3, 31), -1, D(2025, 2, 28)), (D(2025, 1, 15), -1, D(2024, 12, 15))],
    ids=str,
)
def test_add_months_backwards(day, months, expected):
    """Does add_months also go back across month ends and the new year?"""
    assert add_months(day, months) == expected


@pytest.mark.parametrize(("day", "months", "expected"), ADD_MONTHS, ids=str)
def test_database_add_months_agrees_with_python(app_ctx, day, months, expected):
    """Do the form's add_months and the database's (the six-month CHECK) agree?"""
    result = db.session.scalar(select(sql_add_months(literal(day), literal(months))))
    if isinstance(result, str):  # SQLite returns text for an untyped expression
        result = dt.date.fromisoformat(result)
    assert result == expected
