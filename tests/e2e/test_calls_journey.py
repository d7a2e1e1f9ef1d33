"""The call list in Chromium: the queue's next family chose a call; the unit released,
the rental clerk opens «Звонки на сегодня» from the menu, reads the family the message,
clicks «Дозвонились» — the call leaves the list and the offer holds its days from
today. No health data and no English on the way."""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from conftest import make_user
from playwright.sync_api import expect
from sqlalchemy import select

from models import Message, Reservation, db
from models.terms import OFFER_DAYS
from workflows import rental
from workflows.dates import centre_today

from .browser import HEALTH_WORDS, PAGE_TEXT_JS, english_on_screen, go, open_top_menu, sign_in

pytestmark = pytest.mark.e2e


def test_clerk_calls_the_family_offered_a_unit(app, page):
    """Can the clerk find today's call, see the phone and the text, record «дозвонились»,
    and does the message count as delivered, the offer holding from today?"""
    today = centre_today()
    with app.app_context():
        fam = f.family(surname="Кузнецовы", contact_channel="call", phone="+7 911 222-33-44")
        mother = f.person(fam, "mother", last_name="Кузнецова")
        child = f.person(fam, "child", last_name="Кузнецов")
        f.consent(fam, mother, notifications=True)
        kind = f.equipment_type(name="Вертикализатор детский")
        f.equipment_unit(kind)
        place = rental.enqueue(db.session, child, kind, "1", today, None, today)
        db.session.commit()
        place_id = place.id
        make_user("rental_clerk", "clerk_calls", last_name="Соколова")
    sign_in(page, "clerk_calls")
    open_top_menu(page, "Звонки")
    row = page.locator("#calls tr", has_text="Кузнецовы")
    expect(row).to_contain_text("+7 911 222-33-44")
    expect(row).to_contain_text("Для вас зарезервировано: Вертикализатор детский")
    text = page.evaluate(PAGE_TEXT_JS)
    assert not [w for w in HEALTH_WORDS if w in text]
    assert not english_on_screen(page, "звонки")
    go(page, row.get_by_role("button", name="Дозвонились", exact=True))
    expect(page.locator(".alert-success")).to_contain_text("дозвонились")
    expect(page.locator("#no-calls")).to_be_visible()
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.state == "sent" and "Соколова" in message.provider_answer
        place = db.session.get(Reservation, place_id)
        assert place.offer_expires_on == today + dt.timedelta(days=OFFER_DAYS)
