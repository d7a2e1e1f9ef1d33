"""The navbar's search box in Chromium: typing a mother's surname shows her family as
one types, at a desktop's 1366×768 and a tablet's 820×1180; a click opens the family."""

from __future__ import annotations

import factories as f
import pytest
from conftest import make_user
from playwright.sync_api import expect

from models import db

from .browser import go, sign_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("size", [(1366, 768), (820, 1180)], ids=["desktop", "tablet"])
def test_district_worker_finds_a_family_by_the_mothers_surname(app, page, screenshot, size):
    width, height = size
    with app.app_context():
        own, other = f.district(), f.district()
        family = f.family(own, surname="Емельяновы", address="ул. Садовая, д. 12")
        f.person(family, "mother", last_name="Емельянова", first_name="Ольга")
        stranger = f.family(other, surname="Емельяновы", address="ул. Чужая, д. 1")
        f.person(stranger, "mother", last_name="Емельянова", first_name="Анна")
        make_user("district_worker", f"worker-{width}", districts=[own])
        db.session.commit()
        family_id = family.id
    sign_in(page, f"worker-{width}")  # sign_in looks for the user menu, shown at full width
    page.set_viewport_size({"width": width, "height": height})
    page.reload()
    page.wait_for_load_state("load")
    box = page.locator("#navbar-search-q")
    if not box.is_visible():  # the tablet's navbar is collapsed behind its toggler
        page.locator(".navbar-toggler").click()
    expect(box).to_be_visible()
    box.press_sequentially("емельянова", delay=40)
    answer = page.locator("#navbar-search-results.show")
    family_link = answer.locator(f'a[href="/family/details/?id={family_id}"]')
    expect(family_link).to_have_count(1)
    expect(answer.locator('a[href^="/family/details/"]')).to_have_count(1)  # not the other's
    expect(answer).to_contain_text("Семьи")
    expect(answer).to_contain_text("Емельянова Ольга")
    expect(answer).not_to_contain_text("Чужая")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"search-as-you-type-{width}x{height}")
    go(page, family_link)
    assert f"/family/details/?id={family_id}" in page.url
    # Enter opens the results page (the box works without the script too).
    box = page.locator("#navbar-search-q")
    if not box.is_visible():
        page.locator(".navbar-toggler").click()
    box.fill("садовая 12")
    with page.expect_navigation():
        box.press("Enter")
    expect(page.locator("#found-family")).to_be_visible()
    screenshot(page, f"search-results-{width}x{height}")
