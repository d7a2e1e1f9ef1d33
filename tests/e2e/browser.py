"""What a clerk does in the browser, shared by the journeys: sign in and out, open a
section from the menu, save a form, pick from a drop-down, read the screen.

Every click that loads another page goes through `go`, which waits for that page:
without it, the next step can run against the page being left (its elements
still answer, its text may even match) while a loaded machine is still busy
serving the next one.
"""

from __future__ import annotations

import re

from conftest import PASSWORD
from playwright.sync_api import expect

# Health data and the SNILS: a rental clerk must never meet these words.
HEALTH_WORDS = ("инвалид", "эпилепсия", "Группа", "переосвидетельствования", "СНИЛС")
# Latin letters a Russian page does use: Roman numerals (the disability groups I–III) and
# «PDF», the name of the format a document downloads in.
LATIN_WORD = re.compile(r"\b(?!(?:[IVX]+|PDF)\b)[A-Za-z]{2,}")

# All the text of a page a person could come across: rendered or hidden text
# (closed drop-downs, filters), the page title, placeholders, tooltips, labels.
PAGE_TEXT_JS = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('script, style, template, noscript').forEach(e => e.remove());
  const attrs = Array.from(document.querySelectorAll('[placeholder], [title], [aria-label], [alt]'))
    .flatMap(e => ['placeholder', 'title', 'aria-label', 'alt'].map(a => e.getAttribute(a) || ''));
  return [document.title, body.textContent, ...attrs].join('\\n');
}"""


def exactly(text: str) -> re.Pattern:
    """A link text of exactly `text`, give or take the white space around it."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def go(page, target) -> None:
    """Click `target` (a locator), which loads another page, and wait until it has loaded."""
    with page.expect_navigation():
        target.click()


def press_enter(page) -> None:
    """Submit the focused form with Enter and wait for the answer page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def sign_in(page, username: str) -> None:
    """Sign in through the login page as the existing account `username`."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    go(page, page.get_by_role("button", name="Войти"))
    # The user's menu, or on a tablet (the menu folded) the user's name beside its button.
    expect(page.locator("#user-menu, #user-compact").locator("visible=true").first).to_be_visible()


def unfold_menu(page) -> None:
    """On a narrow screen the menu is folded behind its button: open it."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible() and not page.locator("#admin-navbar-collapse").is_visible():
        toggler.click()
        expect(page.locator("#admin-navbar-collapse")).to_be_visible()


def sign_out(page) -> None:
    page.wait_for_load_state("load")  # the menu opens once Bootstrap's script has run
    unfold_menu(page)
    page.locator("#user-menu").click()
    go(page, page.locator("#logout"))
    expect(page.get_by_role("button", name="Войти")).to_be_visible()


def open_menu(page, category: str, item: str) -> None:
    """Open a section the way a clerk does: the menu category, then the item — or the
    item itself where it leads the menu as the role's own work (one click)."""
    page.wait_for_load_state("load")  # the menu opens once Bootstrap's script has run
    unfold_menu(page)
    own = page.locator("#work-menu > li > a.nav-link:not(.dropdown-toggle)", has_text=exactly(item))
    if own.count():
        go(page, own.first)
        return
    page.locator(".navbar .dropdown-toggle", has_text=category).first.click()
    item_link = page.locator(".navbar .dropdown-menu.show a", has_text=exactly(item))
    go(page, item_link)


def open_top_menu(page, item: str) -> None:
    """A menu item outside any category (the panel's own work pages)."""
    unfold_menu(page)
    go(page, page.locator(".navbar a.nav-link", has_text=exactly(item)))


def save(page) -> None:
    go(page, page.get_by_role("button", name="Сохранить", exact=True))


def fill_date(page, selector: str, day) -> None:
    """Type a date into a date field as a clerk does, дд.мм.гггг, in the Russian picker
    (flatpickr: the visible field has the id); the form sends it as гггг-мм-дд."""
    field = page.locator(selector)
    field.fill(day.strftime("%d.%m.%Y"))
    field.press("Tab")  # the picker reads the typed date when the field is left
    page.keyboard.press("Escape")  # and its calendar closes
    expect(page.locator(f"{selector}-iso")).to_have_value(day.isoformat())


def choose(page, field: str, option: str) -> None:
    """Choose `option` in a select2 drop-down (Flask-Admin's styled <select>)."""
    page.click(f"#s2id_{field} a.select2-choice")
    page.locator(".select2-drop-active .select2-result-selectable", has_text=option).first.click()
    expect(page.locator(f"#s2id_{field} .select2-chosen")).to_have_text(option)


def pick_ajax(page, field: str, typed: str, option: str) -> None:
    """Choose `option` in a select2 AJAX picker after typing `typed` into it."""
    page.click(f"#s2id_{field} a.select2-choice")
    page.locator(".select2-drop-active input.select2-input").fill(typed)
    page.locator(".select2-drop-active .select2-result-selectable", has_text=option).first.click()
    expect(page.locator(f"#s2id_{field} .select2-chosen")).to_contain_text(option)


def english_on_screen(page, where: str) -> list[str]:
    """Latin words a clerk can read on the page (the panel speaks Russian only)."""
    # Before the stylesheets apply, closed menus (the language switch) still show.
    page.wait_for_load_state("load")
    words = sorted(set(LATIN_WORD.findall(page.locator("body").inner_text())))
    return [f"{where}: English text on screen: {', '.join(words)}"] if words else []
