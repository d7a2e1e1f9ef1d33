"""Every menu page of every role, as the people who use it see it: on an office screen
(1366×768) and on the district worker's tablet (820×1180).

On each page: nothing scrolls sideways (document.scrollWidth ≤ innerWidth) at either
size, the navbar keeps the user and the role in sight, it is one row at 1366 px, and
axe-core (WCAG 2.1 AA: contrast 4.5:1, labels, names) finds no serious or critical
violation. One screenshot per role and size is kept in tests/e2e/artifacts/.

axe reads a page's markup and styles, which a URL's template decides: each role's home
page (a dashboard of its own) is checked for every role, another URL by the first role
that reaches it; the layout is measured on every page of every role.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from conftest import make_user
from playwright.sync_api import expect
from sqlalchemy import select
from test_pages import build_world

from models import Person, db
from models.roles import ROLES

from .browser import english_on_screen, fill_date, save, sign_in
from .conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

OFFICE = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}
# One row of the navbar: the user's two short lines plus padding (two rows are over 90 px).
ONE_ROW_PX = 72
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BAD = ("serious", "critical")
AXE_CHECKED: set[str] = set()  # URLs axe has read, across the roles

MENU_LINKS_JS = """() => Array.from(document.querySelectorAll(
    '.navbar a.nav-link[href^="/"], .navbar a.dropdown-item[href^="/"]'))
  .map(a => a.getAttribute('href'))"""
LATIN = re.compile(r"[A-Za-z]{2,}")
WIDTH_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _axe_problems(axe, page, where: str) -> list[str]:
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    violations = axe.run(page, options=options).response["violations"]
    return [
        f"{where}: {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in violations
        if v["impact"] in BAD
    ]


def _layout_problems(page, where: str, size: dict) -> list[str]:
    problems = []
    scroll, inner = page.evaluate(WIDTH_JS)
    if scroll > inner:
        problems.append(f"{where} at {size['width']} px: scrolls sideways ({scroll} > {inner})")
    navbar = page.locator("nav.navbar")
    if navbar.count() == 0:  # the pages around the panel (the password) have none
        return problems
    user = page.locator("#user-menu, #user-compact").locator("visible=true")
    if user.count() == 0:
        problems.append(f"{where} at {size['width']} px: the user and the role are not shown")
    if size is OFFICE:
        height = navbar.bounding_box()["height"]
        if height > ONE_ROW_PX:
            problems.append(f"{where}: the navbar is {height:.0f} px high, more than one row")
    return problems


@pytest.mark.parametrize("role", list(ROLES))
def test_every_menu_page_fits_both_screens_and_passes_axe(app, page, screenshot, role):
    """Does each page the role reaches from its menu fit 1366 and 820 px without sideways
    scrolling, keep the user in the navbar, and pass axe with no serious violation?"""
    with app.app_context():
        build_world()
        make_user(role, f"looks-{role}")
    axe = _axe()
    page.set_viewport_size(OFFICE)
    sign_in(page, f"looks-{role}")
    urls = list(dict.fromkeys(["/", *page.evaluate(MENU_LINKS_JS)]))
    problems: list[str] = []
    for url in urls:
        started = time.monotonic()
        page.set_viewport_size(OFFICE)
        page.goto(url)
        page.wait_for_load_state("load")
        problems += _layout_problems(page, url, OFFICE)
        if url == "/" or url not in AXE_CHECKED:
            problems += _axe_problems(axe, page, f"{role} {url}")
            AXE_CHECKED.add(url)
        page.set_viewport_size(TABLET)
        problems += _layout_problems(page, url, TABLET)
        print(f"{url}: {time.monotonic() - started:.1f} s")
    (ARTIFACTS / f"looks-{role}-problems.txt").write_text("\n".join(problems), encoding="utf-8")
    for size, name in ((OFFICE, "office"), (TABLET, "tablet")):
        page.set_viewport_size(size)
        page.goto("/")
        screenshot(page, f"looks-{role}-home-{name}")
    assert len(urls) >= 2
    assert problems == []


@pytest.mark.parametrize("size", [OFFICE, TABLET], ids=["office", "tablet"])
def test_the_administrators_edit_with_errors_loses_nothing(app, page, screenshot, size):
    """When the administrator saves a member's card with the surname left empty and a
    wrong SNILS, are both refused in Russian next to their fields, is everything else
    typed still there (the new first name, the date in the Russian picker), and does the
    corrected card then save — on the office screen and on a tablet alike?"""
    with app.app_context():
        ids = build_world()
        make_user("admin", "looks-admin")
        person_id = db.session.scalar(select(Person.id).where(Person.relation == "mother"))
    page.set_viewport_size(size)
    sign_in(page, "looks-admin")
    page.goto(f"/person/edit/?id={person_id}&url=/family/details/?id={ids['family']}")
    page.fill("#last_name", "")
    page.fill("#first_name", "Марина")
    fill_date(page, "#birth_date", dt.date(1988, 2, 29))
    page.fill("#snils", "112-233-445 00")
    save(page)
    expect(page.locator(".alert-danger")).to_contain_text("Изменения не сохранены")
    for field in ("last_name", "snils"):
        message = (
            page.locator(f"#{field}").locator("xpath=..").locator(".invalid-feedback, .help-block")
        )
        expect(message.first).to_be_visible()
        assert not LATIN.search(message.first.inner_text()), message.first.inner_text()
    expect(page.locator("#first_name")).to_have_value("Марина")
    expect(page.locator("#birth_date")).to_have_value("29.02.1988")
    expect(page.locator("#snils")).to_have_value("112-233-445 00")
    assert page.evaluate(WIDTH_JS)[0] <= size["width"]
    assert english_on_screen(page, "the refused edit") == []
    screenshot(page, f"looks-admin-edit-errors-{size['width']}")
    page.fill("#last_name", "Смирнова")
    page.fill("#snils", "")
    save(page)
    expect(page.locator(".alert-success")).to_be_visible()
    with app.app_context():
        person = db.session.get(Person, person_id)
        assert (person.last_name, person.first_name) == ("Смирнова", "Марина")
        assert person.birth_date == dt.date(1988, 2, 29)
    screenshot(page, f"looks-admin-edit-saved-{size['width']}")
