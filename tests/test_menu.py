"""Is the menu laid out by work: each role's own work first, no two items alike, the
rental queue item at the desk's queue?"""

from __future__ import annotations

import re

import pytest
from conftest import make_user, signed_in

from models.accounts import ROLE
from models.roles import policy

ITEM = re.compile(r'<a class="(?:nav-link|dropdown-item)[^"]*" href="([^"]+)">([^<]+)</a>')
MENU = re.compile(r'<ul class="nav navbar-nav mr-auto" id="work-menu">(.*?)\n</ul>', re.S)


def menu_of(client) -> list[tuple[str, str]]:
    """(name, url) of every item of the navbar's work menu, in reading order."""
    body = client.get("/").get_data(as_text=True)
    block = MENU.search(body)
    assert block, "no work menu on the home page"
    return [(name.strip(), url) for url, name in ITEM.findall(block.group(1))]


def head(name: str) -> str:
    """What an item is called before its explanation: «ИПСС» of «ИПСС: составление…»."""
    return name.split(":")[0].strip().casefold()


@pytest.fixture
def menus(app):
    with app.app_context():
        for code in ROLE.codes:
            make_user(code, username=f"m_{code}")
    return {code: menu_of(signed_in(app, f"m_{code}")) for code in ROLE.codes}


def test_no_two_menu_items_share_a_name_for_any_role(menus):
    """Does every role's menu name each item once, with no item named as another's head
    («ИПСС» beside «ИПСС: составление и мониторинг»)?"""
    for code, items in menus.items():
        names = [name.casefold() for name, _url in items]
        assert len(names) == len(set(names)), (code, names)
        for name in names:
            others = [other for other in names if other != name and head(other) == head(name)]
            assert not others, (code, name, others)
        assert items, code


def test_each_roles_menu_starts_with_its_work(menus, app):
    """Are a role's first menu items the screens of its work, in its order?"""
    with app.test_request_context():
        for code, items in menus.items():
            work = policy(code).work
            assert work, code
            urls = [url for _name, url in items[: len(work)]]
            assert all(url.startswith("/") for url in urls)
            first = [url.strip("/").split("/")[0] for url in urls]
            expected = [
                "rental_desk" if endpoint == "reservation" else endpoint for endpoint in work
            ]
            assert first == expected, (code, items[: len(work)])


def test_the_queue_item_opens_the_desks_queue(menus):
    """Does «Очередь» open the desk's queue (where a family is put in it), not the table?"""
    for code in ("rental_clerk", "admin", "coordinator"):
        urls = dict(menus[code])
        assert urls["Очередь"] == "/rental_desk/queue/", code


def test_reference_tables_are_under_the_reference_menu(app, menus):
    """Are the reference tables («Виды ТСР», «Участки»…) in «Справочники», and the records
    of the steps at the foot of «Сопровождение», under «Журналы», after its work?"""
    body = signed_in(app, "m_coordinator").get("/").get_data(as_text=True)
    block = MENU.search(body).group(1)
    reference = block.split(">Справочники<")[1].split("</ul>")[0]
    for name in ("Виды ТСР", "Участки", "Виды помощи", "Партнёры"):
        assert f">{name}<" in reference
    support = block.split(">Сопровождение<")[1].split("</ul>")[0]
    work, records = support.split('<h6 class="dropdown-header">Журналы</h6>')
    for name in ("Приём по записи", "ИПСС: составление и мониторинг", "Случаи сопровождения"):
        assert f">{name}<" in work
    for name in ("Визиты", "Мониторинг", "Реестр ИПСС", "История назначений"):
        assert f">{name}<" in records
