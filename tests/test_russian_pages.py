"""Does every page a user of each role reaches from the menu speak Russian only?

One row of every model is built (test_pages.build_world); each role signs in and opens
every item of its menu, and from each list its «Создать» form and the first row's
details and edit pages. The text a person can read — the page's words, its title,
placeholders, tooltips, labels, button values — holds no Latin word, every page says
`<html lang="ru">`, and no form leaves its messages to the browser (`novalidate`:
the server answers in Russian next to the field).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from conftest import empty_every_table, make_user, signed_in
from sqlalchemy import select
from test_pages import build_world

from models import User, db
from models.roles import ROLES

# A Latin word; Roman numerals («II группа») are Russian usage.
LATIN_WORD = re.compile(r"\b(?![IVX]+\b)[A-Za-z]{2,}")
# Names of things, not English: the formats a clerk downloads and uploads.
NAMES = {"Excel", "xlsx", "PDF", "JPEG", "PNG", "DOCX", "SMS", "email"}
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-placeholder")
# Never followed: they end the session, download a file or print. The audit trail shows
# what was written as it was stored (tables, columns, logins): evidence, not words.
NOT_FOLLOWED = re.compile(r"^/(logout|static/|admin/static/|audit_record/)|/export|/file/|print")
# Logins are Latin by nature: the test's own are «вход-…» in Cyrillic letters.
LOGIN = "вход-{}"
ROLE_NUMBER = {role: number for number, role in enumerate(ROLES, 100)}


class PageText(HTMLParser):
    """What a person can read on a page, its links, its <html> and its forms."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self.links: list[str] = []
        self.menu_links: list[str] = []
        self.html_lang: str | None = None
        self.forms_without_novalidate: list[str] = []
        self._skip = 0
        self._in_nav = 0
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template", "noscript"):
            self._skip += 1  # and Flask-Admin's hidden JSON for its filter script
        elif (attrs.get("id") or "").endswith("-data") and "d-none" in (attrs.get("class") or ""):
            self._skip += 1
        if tag == "html":
            self.html_lang = attrs.get("lang")
        if tag == "nav":
            self._in_nav += 1
        if tag == "form":
            self._form = {**attrs, "fields": False}
        if tag in ("input", "select", "textarea") and self._form is not None and _checked(attrs):
            self._form["fields"] = True
        for name in READ_ATTRIBUTES:
            if attrs.get(name):
                self.words.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.words.append(attrs["value"])
        href = attrs.get("href") or ""
        if tag == "a" and href.startswith("/"):
            (self.menu_links if self._in_nav else self.links).append(href)

    def handle_endtag(self, tag):
        form = self._form
        if tag == "form" and form is not None:
            # A form whose fields the browser would check says `novalidate`.
            if form["fields"] and "novalidate" not in form:
                self.forms_without_novalidate.append(form.get("action") or "(this page)")
            self._form = None
        if self._skip:
            self._skip -= 1
        if tag == "nav" and self._in_nav:
            self._in_nav -= 1

    def handle_data(self, data):
        if not self._skip:
            self.words.append(data)


def _checked(attrs: dict) -> bool:
    """Whether the browser would check the field itself, in its own language."""
    limits = ("required", "min", "max", "pattern", "minlength", "maxlength")
    return any(a in attrs for a in limits) or attrs.get("type") in ("email", "number", "url")


def read(html: str) -> PageText:
    parser = PageText()
    parser.feed(html)
    return parser


def pages_of(client) -> dict[str, PageText]:
    """Every menu page, and from lists the create, details and edit pages, read."""
    home = read(client.get("/").get_data(as_text=True))
    queue = list(dict.fromkeys(["/", *home.menu_links]))
    seen: dict[str, PageText] = {}
    while queue:
        url = queue.pop(0)
        if url in seen or NOT_FOLLOWED.search(url):
            continue
        response = client.get(url)
        if response.status_code != 200 or not response.mimetype.startswith("text/html"):
            continue
        page = read(response.get_data(as_text=True))
        seen[url] = page
        if url in home.menu_links:  # one step from the menu: the list's own forms and rows
            path = urlsplit(url).path
            queue += [
                link
                for link in page.links
                if urlsplit(link).path.startswith(path) and re.search(r"/(new|edit|details)/", link)
            ][:3]
    return seen


@pytest.fixture(scope="module")
def every_roles_pages(app):
    """{role: {url: PageText}} for each role, on one world."""
    empty_every_table(app)  # whatever a previous test kept
    with app.app_context():
        build_world()
        for user in db.session.scalars(select(User)):  # build_world's own accounts
            user.username = LOGIN.format(user.id)
        db.session.commit()
        logins = {role: make_user(role, LOGIN.format(ROLE_NUMBER[role])).username for role in ROLES}
    pages = {role: pages_of(signed_in(app, login)) for role, login in logins.items()}
    empty_every_table(app)
    return pages


@pytest.mark.parametrize("role", list(ROLES))
def test_no_english_on_any_page_of_the_role(every_roles_pages, role):
    """Does any page of the role show a Latin word a clerk could read?"""
    pages = every_roles_pages[role]
    assert len(pages) >= 3, f"{role}: the crawl reached only {list(pages)}"
    english = {
        url: sorted(set(LATIN_WORD.findall(" ".join(page.words))) - NAMES)
        for url, page in pages.items()
    }
    assert {url: words for url, words in english.items() if words} == {}


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_says_it_is_russian(every_roles_pages, role):
    """Does every page of the role carry <html lang="ru">?"""
    pages = every_roles_pages[role]
    assert {url: page.html_lang for url, page in pages.items() if page.html_lang != "ru"} == {}


@pytest.mark.parametrize("role", list(ROLES))
def test_forms_leave_no_message_to_the_browser(every_roles_pages, role):
    """Does every form with fields say `novalidate`, so that the server's Russian message,
    not the browser's «Please fill out this field.», is what the user reads?"""
    pages = every_roles_pages[role]
    missing = {url: page.forms_without_novalidate for url, page in pages.items()}
    assert {url: forms for url, forms in missing.items() if forms} == {}


def test_our_catalogue_rewords_flask_admins(app, client):
    """Do the create form's buttons read «Сохранить и добавить ещё», our wording, not the
    catalogue's «…новый объект»?"""
    with app.app_context():
        make_user("admin", "вход-админ")
    page = signed_in(app, "вход-админ", client=client).get("/district/new/").get_data(as_text=True)
    assert "Сохранить и добавить ещё" in page and "новый объект" not in page
    assert "— обязательное поле" in page
