"""The menu by work: the signed-in role's own work first, then the areas (their records
at the foot, under «Журналы») and the reference tables.

Flask-Admin's menu is one order for everybody; this builds each user's from the same views:
the endpoints of the role's `work` (models/roles.py) lead the navbar as plain items, in that
order; the rest follow in their categories (the order of `admin_views.CATEGORIES`). A menu
item may open a work page instead of its table (`OPENS`): «Пункт проката → Очередь» is the
desk's queue, where a family can be put in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from flask import request, url_for
from flask_admin import BaseView
from flask_login import current_user
from jinja2 import Template
from markupsafe import Markup

from models.roles import policy

# A table's menu item that opens a work page instead: table endpoint → (page, its route).
OPENS = {"reservation": ("rental_desk", "rental_desk.queue_view")}


@dataclass(frozen=True)
class Item:
    name: str
    endpoint: str  # the view's endpoint (the MATRIX key)
    url: str
    # Request endpoints under which the item is lit as the current one.
    lit: tuple[str, ...] = ()
    # The heading it stands under in its category («Журналы»), after the work items.
    section: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    items: tuple[Item, ...]


def _url(view: BaseView) -> str | None:
    """The view's own page, or None where it has no menu page for this user."""
    if not view.is_accessible():
        return None
    if getattr(view, "model", None) is not None:
        return url_for(f"{view.endpoint}.index_view")
    if not view.is_visible():  # a page reached from a case (its steps, its referrals)
        return None
    return url_for(f"{view.endpoint}.index")


def _item(view: BaseView, views: dict[str, BaseView], section: str | None = None) -> Item | None:
    page = OPENS.get(view.endpoint)
    if page is not None and views.get(page[0]) is not None and views[page[0]].is_accessible():
        return Item(view.name, view.endpoint, url_for(page[1]), (page[1],), section)
    url = _url(view)
    if url is None:
        return None
    return Item(view.name, view.endpoint, url, (), section)


def build(
    admin_views: list[BaseView], categories: tuple[str, ...], sections: dict[str, str]
) -> list[Item | Group]:
    """The current user's menu: their work's items, then the groups, then the other
    uncategorised pages."""
    views = {view.endpoint: view for view in admin_views}
    role = current_user.role if current_user.is_authenticated else None
    work = [e for e in policy(role).work if e in views]
    head: list[Item | Group] = []
    for endpoint in work:
        item = _item(views[endpoint], views)
        if item is not None:
            head.append(item)
    taken = {item.endpoint for item in head if isinstance(item, Item)}
    groups: dict[str, list[Item]] = {name: [] for name in categories}
    tail: list[Item | Group] = []
    for view in admin_views:
        if view.endpoint in taken:
            continue
        item = _item(view, views, sections.get(view.endpoint))
        if item is None:
            continue
        if view.category is None:
            tail.append(item)
        else:
            groups.setdefault(view.category, []).append(item)
    # Within a category: the work first, then each section's items under its heading.
    middle: list[Item | Group] = [
        Group(name, tuple(sorted(items, key=lambda item: item.section is not None)))
        for name, items in groups.items()
        if items
    ]
    return head + middle + tail


def items_of(menu: list[Item | Group]) -> list[Item]:
    """Every item of the menu in reading order (the groups' items in place)."""
    flat: list[Item] = []
    for entry in menu:
        flat.extend(entry.items if isinstance(entry, Group) else (entry,))
    return flat


class Navbar:
    """Each role's menu, built once and each page's rendering of it kept for the process.

    The menu is a function of the role (its rights in the matrix) and the application's
    URL root alone, and its rendering adds only which item is lit: so the process keeps
    both, and every server of several gives the same menu. Building and rendering it per
    request was a fifth of a list page's CPU (issue 18).
    """

    def __init__(self, build: Callable[[], list[Item | Group]], template: Template):
        self._build = build
        self._template = template
        self._menus: dict[tuple[str | None, str], list[Item | Group]] = {}
        self._render = lru_cache(maxsize=1024)(self._render_uncached)

    def entries(self) -> list[Item | Group]:
        """The signed-in user's menu (the home page lists it too)."""
        role = current_user.role if current_user.is_authenticated else None
        key = (role, request.script_root)
        if key not in self._menus:
            self._menus[key] = self._build()
        return self._menus[key]

    def html(self, view_endpoint: str) -> Markup:
        """The navbar's menu on this page: `view_endpoint` is the page's admin view."""
        role = current_user.role if current_user.is_authenticated else None
        self.entries()
        return self._render(role, request.script_root, view_endpoint, request.endpoint)

    def _render_uncached(
        self, role: str | None, root: str, view: str, endpoint: str | None
    ) -> Markup:
        entries = self._menus[(role, root)]
        return Markup(self._template.render(entries=entries, view=view, endpoint=endpoint))
