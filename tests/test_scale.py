"""Does the scale generator give seed 003's figures exactly, in proportion, within every rule?"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import func, select, text, true

from models import (
    AuditRecord,
    Case,
    Consent,
    CouncilAgendaItem,
    CouncilDecision,
    CouncilMeeting,
    District,
    EquipmentUnit,
    Family,
    Loan,
    Person,
    PlanActivity,
    RehabMeasure,
    RehabProgramme,
    RehabTsr,
    Reservation,
    Review,
    Staff,
    SupportPlan,
    Task,
    User,
    Visit,
    db,
)
from seed import scale
from seed.reference import load_reference
from workflows.reports import regional_statistics

TODAY = dt.date(2026, 11, 22)
FAMILIES = 600


def test_regional_plan_gives_the_five_figures_exactly():
    """Do the regional preset's family plans add up to 76,000 / 111,000 / 20,441 / 2,357 / 363?"""
    figures = scale.REGIONAL.scaled(scale.PRESETS["regional"])
    assert figures == scale.REGIONAL
    plans = scale.plan_families(figures, random.Random(scale.SCALE_SEED))
    assert len(plans) == 76_000
    assert all(1 <= p.children <= 3 for p in plans)
    assert sum(p.children for p in plans) == 111_000
    assert sum(p.children for p in plans if p.low_income) == 20_441
    assert sum(p.disabled for p in plans) == 2_357
    assert sum(p.children for p in plans if p.dangerous) == 363
    assert all(p.disabled <= p.children for p in plans)


@pytest.mark.parametrize("families", [10, 999, 250_000, 1_000_000])
def test_scaled_figures_keep_the_proportions(families):
    """Does --families N scale every figure by N / 76,000 (rounded)?"""
    figures = scale.REGIONAL.scaled(families)
    ratio = families / 76_000
    assert figures.families == families
    assert figures.children == round(111_000 * ratio)
    assert figures.low_income_children == round(20_441 * ratio)
    assert figures.disabled_children == round(2_357 * ratio)
    assert figures.dangerous_minors == round(363 * ratio)


def test_adult_cutoff_is_the_eighteenth_birthday():
    """Is a person born exactly 18 years before the report date an adult on it?"""
    assert scale.adult_cutoff(dt.date(2026, 11, 22)) == dt.date(2008, 11, 22)
    assert scale.adult_cutoff(dt.date(2028, 2, 29)) == dt.date(2010, 2, 28)


@pytest.fixture
def loaded(app_ctx):
    load_reference()
    written = scale.load_scale(FAMILIES, today=TODAY)
    return written


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_small_set_has_the_scaled_figures_for_years(loaded):
    """Does the loaded set show the five figures, scaled, today and four years on?"""
    expected = scale.REGIONAL.scaled(FAMILIES)
    assert scale.count_figures(db.session, TODAY) == expected
    # Every generated minor stays under 18 for years: the figures do not drift.
    assert scale.count_figures(db.session, TODAY.replace(year=TODAY.year + 4)) == expected
    # Members that never count exist: archived families, adults with relation «child».
    assert count(Family, Family.archived_at.is_not(None)) > 0
    assert count(Person, Person.relation == "child") > expected.children


def test_regional_report_shows_the_generated_figures(loaded):
    """Does the regional statistics report (seed 003's shape) show exactly the five figures
    the generator was asked for, and do its districts add up to its total?"""
    coordinator = db.session.scalar(select(User).where(User.role == "coordinator"))
    report = regional_statistics(db.session, coordinator, TODAY)
    expected = scale.REGIONAL.scaled(FAMILIES)
    assert report["total"] == {
        "families": expected.families,
        "children": expected.children,
        "low_income_children": expected.low_income_children,
        "disabled_children": expected.disabled_children,
        "dangerous_minors": expected.dangerous_minors,
    }
    for key, value in report["total"].items():
        assert sum(row[key] for row in report["rows"]) == value


def test_small_set_is_proportional_and_complete(loaded):
    """Are staff, districts, accounts, cases in every status, the ИПСС, tasks, visits,
    reviews, rental and audit rows all there, in proportion?"""
    assert count(District) == max(2, round(FAMILIES / scale.FAMILIES_PER_DISTRICT))
    assert count(Staff, Staff.role == "district_worker") == count(District)
    assert count(User) == count(Staff)
    statuses = set(db.session.scalars(select(Case.status).distinct()))
    assert statuses == {"application", "assessment", "active", "closed"}
    cases = count(Case)
    assert 0.10 * FAMILIES < cases < 0.20 * FAMILIES
    assert count(SupportPlan) == count(Case, Case.status.in_(("active", "closed")))
    assert count(PlanActivity) == 3 * count(SupportPlan)
    decisions = count(CouncilDecision)
    assert count(Task) == count(PlanActivity) + decisions
    assert count(Visit) > 0 and count(Review) == count(SupportPlan)
    assert count(Loan, Loan.returned_on.is_(None)) > 0
    assert count(Reservation) > 0
    assert count(AuditRecord) >= count(Family) + cases
    # Every case has a consent given on or before its application.
    without_consent = count(
        Case,
        ~select(Consent.id)
        .where(Consent.family_id == Case.family_id, Consent.given_on <= Case.application_date)
        .exists(),
    )
    assert without_consent == 0
    # A unit's status agrees with its open loan.
    on_loan = set(
        db.session.scalars(select(EquipmentUnit.id).where(EquipmentUnit.status == "on_loan"))
    )
    lent = set(db.session.scalars(select(Loan.unit_id).where(Loan.returned_on.is_(None))))
    assert on_loan == lent


def test_each_disabled_child_has_an_ipra_until_the_re_examination(loaded):
    """Does every disabled child get one ИПРА valid until their МСЭ date, issued by an
    МСЭ bureau, with measures, and some ТСР the rental point serves?"""
    disabled = count(Person, Person.disability_status == "disabled")
    assert count(RehabProgramme) == disabled > 0
    mismatched = count(
        RehabProgramme,
        ~select(Person.id)
        .where(
            Person.id == RehabProgramme.child_id,
            Person.disability_review_date == RehabProgramme.valid_until,
        )
        .exists(),
    )
    assert mismatched == 0
    assert count(RehabMeasure, RehabMeasure.kind == "medical") == disabled
    assert count(RehabTsr) > 0


def test_councils_meet_monthly_and_most_decisions_are_carried_out(loaded):
    """Does each district's council meet, discuss active cases of its district, and are
    most decisions due by now carried out — and do the pilot report's figures agree?"""
    from workflows.council import carried_out, council_figures

    meetings = count(CouncilMeeting)
    assert count(District) <= meetings <= scale.COUNCIL_MONTHS * count(District)
    wrong_district = count(
        CouncilAgendaItem,
        CouncilAgendaItem.case_id.in_(
            select(Case.id)
            .join(Family, Family.id == Case.family_id)
            .join(CouncilMeeting, CouncilMeeting.id == CouncilAgendaItem.meeting_id)
            .where(Family.district_id != CouncilMeeting.district_id)
        ),
    )
    assert wrong_district == 0
    decisions = count(CouncilDecision)
    assert count(CouncilAgendaItem) <= decisions <= 2 * count(CouncilAgendaItem)
    done = count(CouncilDecision, carried_out())
    assert 0.5 * decisions < done < decisions
    today = db.session.scalar(select(func.max(CouncilMeeting.held_on)))
    rows = dict(council_figures(db.session, true(), today - dt.timedelta(days=400), today, None))
    assert (rows["Заседаний проведено"], rows["Решений исполнено"]) == (meetings, done)


def test_generated_accounts_sign_in(loaded, app, auth):
    """Can a generated district worker sign in with the documented password?"""
    db.session.remove()
    response = auth.login("worker1", scale.SCALE_PASSWORD)
    assert response.status_code == 302


def test_new_rows_after_the_load_get_fresh_ids(loaded):
    """Does an ordinary insert after the bulk load get an id past the loaded ones?"""
    family = db.session.scalars(select(Family).limit(1)).one()
    added = Family(surname="Новикова", district_id=family.district_id, address="ул. Новая, 1")
    db.session.add(added)
    db.session.commit()
    assert added.id > db.session.scalar(select(func.max(Family.id)).where(Family.id != added.id))


def test_seed_command_prints_the_figures(runner):
    """Does `flask seed --families N` load the set and print the five figures?"""
    result = runner.invoke(args=["seed", "--families", "120"])
    assert result.exit_code == 0, result.output
    expected = scale.REGIONAL.scaled(120)
    assert f"семей с детьми {expected.families}" in result.output
    assert f"детей {expected.children}," in result.output


def test_search_indexes_are_rebuilt_after_the_load(loaded):
    """Are the trigram indexes set aside during the load back afterwards (PostgreSQL)?"""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("trigram indexes exist only on PostgreSQL")
    names = set(
        db.session.scalars(
            text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '% USING gin %'")
        )
    )
    assert {"ix_family_surname_trgm", "ix_person_last_name_trgm"} <= names


def test_small_set_has_the_pilots_events_referrals_and_budget(loaded):
    """Does the regional set have partners, volunteers, events with their participants,
    referrals answered in believable proportions and the seed's budget, all within the rules?"""
    from decimal import Decimal

    from models import Event, EventAttendance, ProjectMeasure, Referral, Volunteer

    assert count(Volunteer) >= 5 and count(Event, Event.kind == "training") > 0
    assert count(Event, Event.kind == "info_campaign", Event.channel.is_(None)) == 0
    assert count(EventAttendance) > FAMILIES // 50
    statuses = dict(
        db.session.execute(select(Referral.status, func.count()).group_by(Referral.status)).all()
    )
    total = sum(statuses.values())
    answered = statuses.get("accepted", 0) + statuses.get("fulfilled", 0)
    assert total > 0 and answered + statuses.get("refused", 0) > total / 2
    assert statuses.get("refused", 0) < total / 4 and statuses.get("prepared", 0) == 0
    planned = db.session.scalar(select(func.sum(ProjectMeasure.planned)))
    assert Decimal(planned) == Decimal("17200000")
