"""Can a district worker place a family only in their own districts, on every path?

Intake (workflows.cases.register_family) refused another district already; the plain
family form (/family/new/, /family/edit/) now asks the same rule,
`check_family_district`. The coordinator still places and moves a family anywhere.
"""

from __future__ import annotations

import factories as f
import pytest
from security_factories import admin_form

from models import District, Family, db
from workflows.cases import NOT_OWN_DISTRICT, check_family_district
from workflows.errors import WorkflowError


@pytest.fixture
def districts(app):
    """Ids of two districts: the worker's own and another."""
    with app.app_context():
        own, other = f.district(), f.district()
        db.session.commit()
        return own.id, other.id


def form_fields(client, url: str, **changes) -> dict:
    """The form on `url` as a browser would send it back, with `changes` made."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    fields = admin_form(page.get_data(as_text=True))["fields"]
    fields.update({name: str(value) for name, value in changes.items()})
    return fields


def refused_at_district(response) -> bool:
    page = response.get_data(as_text=True)
    start = page.find('id="district"')
    return response.status_code == 200 and NOT_OWN_DISTRICT in page[start:]


# --- the rule ----------------------------------------------------------------------------


def test_rule_allows_own_districts_and_keeping(app_ctx):
    """Does the rule let a worker use their own district or keep a family where it is,
    refuse any other, and let the coordinator use every district?"""
    own, other = f.district(), f.district()
    worker = f.user("district_worker", staff_row=f.staff("district_worker", districts=[own]))
    coordinator = f.user("coordinator")
    db.session.commit()
    check_family_district(db.session, worker, own)
    check_family_district(db.session, worker, other, current_id=other.id)  # no move
    with pytest.raises(WorkflowError) as refused:
        check_family_district(db.session, worker, other)
    assert refused.value.field == "district" and str(refused.value) == NOT_OWN_DISTRICT
    with pytest.raises(WorkflowError):
        check_family_district(db.session, worker, other, current_id=own.id)  # a move
    with pytest.raises(WorkflowError):
        check_family_district(db.session, worker, None)
    check_family_district(db.session, coordinator, other, current_id=own.id)


# --- the plain family form ----------------------------------------------------------------


def test_worker_cannot_create_a_family_in_another_district(app, client, login_as, districts):
    """Is a new family in another district refused next to the district field, and
    nothing stored — while one in the worker's own district is saved?"""
    own, other = districts
    login_as("district_worker", districts=[own])
    data = {"surname": "Орловы", "address": "ул. Мира, д. 3", "status": "registered"}
    refused = client.post(
        "/family/new/", data=form_fields(client, "/family/new/", **data, district=other)
    )
    assert refused_at_district(refused)
    with app.app_context():
        assert db.session.query(Family).count() == 0
    saved = client.post(
        "/family/new/", data=form_fields(client, "/family/new/", **data, district=own)
    )
    assert saved.status_code == 302
    with app.app_context():
        assert [fam.district_id for fam in db.session.query(Family)] == [own]


def test_worker_cannot_move_a_family_to_another_district(app, client, login_as, districts):
    """Is moving a family of the worker's district to another district refused, and
    the family left where it was?"""
    own, other = districts
    login_as("district_worker", districts=[own])
    with app.app_context():
        family_id = f.family(db.session.get(District, own)).id
        db.session.commit()
    url = f"/family/edit/?id={family_id}"
    response = client.post(url, data=form_fields(client, url, district=other))
    assert refused_at_district(response)
    with app.app_context():
        assert db.session.get(Family, family_id).district_id == own


def test_worker_edits_a_led_family_elsewhere_without_moving_it(app, client, login_as, districts):
    """May a worker still edit a family of another district whose case they lead,
    as long as the family stays in its district?"""
    own, other = districts
    worker = login_as("district_worker", districts=[own])
    with app.app_context():
        family, mother, _child = f.family_with_members(district_row=db.session.get(District, other))
        f.case(family, mother, lead_worker_id=worker.staff_id)
        db.session.commit()
        family_id = family.id
    url = f"/family/edit/?id={family_id}"
    response = client.post(url, data=form_fields(client, url, phone="+7 (816) 212-34-56"))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with app.app_context():
        family = db.session.get(Family, family_id)
        assert family.district_id == other and family.phone == "+7 (816) 212-34-56"


def test_coordinator_moves_a_family_anywhere(app, client, login_as, districts):
    """Does the coordinator still move a family to any district?"""
    own, other = districts
    login_as("coordinator")
    with app.app_context():
        family_id = f.family(db.session.get(District, own)).id
        db.session.commit()
    url = f"/family/edit/?id={family_id}"
    response = client.post(url, data=form_fields(client, url, district=other))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Family, family_id).district_id == other
