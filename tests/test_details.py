"""A row's page leads to the next action."""

import re

from models import District, Family, db


def _family(app) -> int:
    with app.app_context():
        family = Family(
            surname="Орловы", district=District(name="Участок № 1"), address="ул. Мира, 2"
        )
        db.session.add(family)
        db.session.commit()
        return family.id


def test_family_page_offers_to_add_a_member(app, client, login_as):
    """Does the family page link to a new member's form with the family already chosen?"""
    family_id = _family(app)
    login_as("coordinator")
    page = client.get(f"/family/details/?id={family_id}").get_data(as_text=True)
    assert "Семьи: Орловы, ул. Мира, 2" in page
    assert f"/person/new/?family={family_id}" in page
    form = client.get(f"/person/new/?family={family_id}").get_data(as_text=True)
    assert re.search(rf'<input[^>]*name="family"[^>]*value="{family_id}"', form)


def test_prefill_never_reveals_a_family_out_of_scope(app, client, login_as):
    """Does ?family=<id of another district> leave the picker empty?"""
    family_id = _family(app)
    with app.app_context():
        other = District(name="Участок № 2")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    login_as("district_worker", districts=[other_id])
    response = client.get(f"/person/new/?family={family_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'<input[^>]*name="family"', page)
    assert not re.search(rf'<input[^>]*name="family"[^>]*value="{family_id}"', page)
