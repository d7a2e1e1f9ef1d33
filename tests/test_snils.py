"""СНИЛС (models/snils.py): checked the same way by the panel's forms and by the workflows that
register people; and the database's refusals read the same on every path (models/constraints.py)."""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import Family, Person, db
from models.constraints import constraint_refusal, integrity_message, refused_by_database
from models.snils import (
    WRONG_CHECKSUM,
    WRONG_LENGTH,
    checked_snils,
    format_snils,
    is_valid_snils,
    normalise_snils,
    snils_checksum,
    snils_problem,
)
from workflows import cases as wf
from workflows.errors import WorkflowError

TODAY = dt.date(2025, 6, 10)


def test_the_control_number_follows_the_pension_fund_rules():
    """Is the control number computed as the Pension Fund's rules say (including the
    remainder of 100 and 101 becoming 00)?"""
    assert snils_checksum("112233445") == 95
    assert is_valid_snils("112-233-445 95")
    assert not is_valid_snils("112-233-445 96")
    assert snils_checksum("001001999") < 100
    # A number issued before control numbers existed is valid whatever its last two digits.
    assert is_valid_snils("001-001-998 00")


def test_a_written_snils_is_normalised_and_formatted():
    """Do spaces and hyphens not matter, and is a SNILS stored as «123-456-789 01»?"""
    assert normalise_snils(" 112 233-445 95 ") == "11223344595"
    assert format_snils("11223344595") == "112-233-445 95"
    assert checked_snils("11223344595") == "112-233-445 95"
    assert checked_snils("  ") is None and checked_snils(None) is None


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("1122334459", WRONG_LENGTH),
        ("112-233-445 9A", WRONG_LENGTH),
        ("112-233-445 96", WRONG_CHECKSUM),
    ],
)
def test_a_wrong_snils_is_named_in_russian(written, problem):
    """Does a wrong SNILS get the Russian reason, and the workflows' refusal name the field?"""
    assert snils_problem(written) == problem
    with pytest.raises(WorkflowError) as refused:
        checked_snils(written)
    assert str(refused.value) == problem and refused.value.field == "snils"


def _applicant(**kw) -> wf.ApplicantData:
    return wf.ApplicantData(
        **{
            "last_name": "Орлова",
            "first_name": "Ирина",
            "middle_name": "Павловна",
            "birth_date": dt.date(1990, 3, 3),
            "sex": "f",
            "relation": "mother",
            **kw,
        }
    )


def test_registering_a_family_refuses_a_wrong_snils(app_ctx):
    """Is a family registered with an applicant whose SNILS fails its control number refused,
    next to the SNILS, with nothing written?"""
    area = f.district()
    actor = f.user("coordinator")
    db.session.commit()
    with pytest.raises(WorkflowError) as refused:
        wf.register_family(
            db.session,
            actor,
            surname="Орловы",
            district=area,
            address="ул. Новая, 1",
            phone=None,
            applicant=_applicant(snils=f.invalid_snils()),
            today=TODAY,
        )
    assert str(refused.value) == WRONG_CHECKSUM and refused.value.field == "snils"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Family)) == 0


def test_registering_stores_the_snils_formatted(app_ctx):
    """Is a valid SNILS written without separators stored as «123-456-789 01»?"""
    area = f.district()
    actor = f.user("coordinator")
    db.session.commit()
    written = normalise_snils(f.valid_snils())
    _family, person = wf.register_family(
        db.session,
        actor,
        surname="Орловы",
        district=area,
        address="ул. Новая, 1",
        phone=None,
        applicant=_applicant(snils=written),
        today=TODAY,
    )
    db.session.commit()
    assert db.session.get(Person, person.id).snils == format_snils(written)


def test_adding_an_applicant_refuses_a_wrong_snils(app_ctx):
    """Is a parent added to a family with a SNILS of the wrong length refused?"""
    family, _mother, _child = f.family_with_members()
    actor = f.user("coordinator")
    db.session.commit()
    members = len(family.members)
    with pytest.raises(WorkflowError) as refused:
        wf.add_applicant(
            db.session,
            actor,
            family,
            _applicant(relation="father", sex="m", snils="123"),
            today=TODAY,
        )
    assert str(refused.value) == WRONG_LENGTH and refused.value.field == "snils"
    db.session.rollback()
    assert len(db.session.get(Family, family.id).members) == members


# --- one map of the database's refusals --------------------------------------------------------


def _refusal(build) -> IntegrityError:
    with pytest.raises(IntegrityError) as refused, db.session.begin_nested():
        build()
    return refused.value


def test_a_refused_constraint_reads_the_same_on_the_panel_and_in_a_workflow(app_ctx):
    """Does a duplicate SNILS the database refuses give the panel's flash and the workflows'
    refusal the same words, the workflow's next to the SNILS field?"""
    family, mother, _child = f.family_with_members()
    exc = _refusal(lambda: f.person(family, "father", snils=mother.snils))
    refusal = refused_by_database(exc)
    assert str(refusal) == integrity_message(exc) == constraint_refusal(exc).message
    assert "СНИЛС" in str(refusal) and refusal.field == "snils"


def test_a_second_open_case_is_named_as_such(app_ctx):
    """Is a second open case of a family, refused by the partial unique index, told as
    «У семьи уже есть открытый случай» on both databases?"""
    family, mother, _child = f.family_with_members()
    f.case(family, mother)
    exc = _refusal(lambda: f.case(family, mother, contract_number=None, status="application"))
    assert refused_by_database(exc).field == "family"
    assert integrity_message(exc) == "У семьи уже есть открытый случай."
