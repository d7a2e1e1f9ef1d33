"""No active consent to personal-data processing — no case."""

import datetime as dt

from conftest import post_form
from sqlalchemy import func, select

from models import Case, Consent, District, Family, Person, db
from workflows.consent import has_active_consent
from workflows.dates import centre_today

TODAY = centre_today()


def _family(with_consent: bool, withdrawn_on: dt.date | None = None) -> tuple[int, int]:
    district = District(name="Участок № 1")
    family = Family(surname="Соколовы", district=district, address="ул. Ленина, 1")
    mother = Person(
        family=family,
        last_name="Соколова",
        first_name="Анна",
        birth_date=dt.date(1990, 5, 1),
        sex="f",
        relation="mother",
    )
    db.session.add_all([district, family, mother])
    if with_consent:
        db.session.add(
            Consent(
                family=family,
                person=mother,
                given_on=TODAY - dt.timedelta(days=30),
                scope="обработка ПДн для социального сопровождения",
                withdrawn_on=withdrawn_on,
            )
        )
    db.session.commit()
    return family.id, mother.id


def test_active_consent_rule(app_ctx):
    """Is a consent active from its date until it is withdrawn, and not after?"""
    family_id, _ = _family(True, withdrawn_on=TODAY)
    assert has_active_consent(db.session, family_id, TODAY - dt.timedelta(days=1))
    assert not has_active_consent(db.session, family_id, TODAY)
    assert not has_active_consent(db.session, family_id, TODAY - dt.timedelta(days=31))


def _open_case(client, family_id, mother_id):
    """Accept the application on «Новое обращение», the one way a case is opened."""
    return post_form(
        client,
        f"/intake/family/{family_id}",
        {"applicant": mother_id, "application_date": TODAY.isoformat()},
    )


def test_case_without_consent_is_refused(app, client, login_as):
    """Does the case form refuse a family without consent, saying why, and store nothing?"""
    with app.app_context():
        family_id, mother_id = _family(with_consent=False)
    login_as("coordinator")
    page = _open_case(client, family_id, mother_id).get_data(as_text=True)
    assert "нет действующего согласия" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_withdrawn_consent_blocks_new_cases_and_shows(app, client, login_as):
    """Does a withdrawn consent block a new case and show on the family's page?"""
    with app.app_context():
        family_id, mother_id = _family(True, withdrawn_on=TODAY - dt.timedelta(days=1))
    login_as("coordinator")
    assert "нет действующего согласия" in _open_case(client, family_id, mother_id).get_data(
        as_text=True
    )
    page = client.get(f"/family/details/?id={family_id}").get_data(as_text=True)
    assert "Согласие на обработку персональных данных отозвано" in page


def test_case_with_consent_is_opened(app, client, login_as):
    """With an active consent, is the case stored?"""
    with app.app_context():
        family_id, mother_id = _family(with_consent=True)
    login_as("coordinator")
    response = _open_case(client, family_id, mother_id)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1
