"""What the archive's buttons say: «В архив» and «Восстановить», each asking in Russian what
it will do — never «Удалить» on any page of any view, for any role that may archive.

Every registered view is walked as the administrator and the coordinator (the roles with
the archive right): its list, the list of its archive, a row's details and edit pages.
"""

from __future__ import annotations

import html

import factories as f
import pytest
from conftest import make_user, signed_in
from security_factories import ENDPOINTS, MODELS, world

from admin_views import VIEWS
from admin_views.modelview.archive import (
    CONFIRM_ARCHIVE,
    CONFIRM_RESTORE,
    RESTORE,
    TO_ARCHIVE,
)
from admin_views.permissions import allowed
from models import db
from models.base import ArchivedMixin, utcnow

ARCHIVERS = ("admin", "coordinator")
VIEW_CLASSES = {endpoint: view for view, _model, _name, _category, endpoint in VIEWS}
DELETE_WORDS = ("Удалить", "удалить", "Delete", "delete this record")


def pages_of(client, endpoint: str, row_id: int, role: str) -> dict[str, str]:
    """The pages of `endpoint` the role may open, by URL, as text with entities decoded."""
    urls = [f"/{endpoint}/", f"/{endpoint}/?archive=1"]
    if allowed(role, endpoint, "details"):
        urls.append(f"/{endpoint}/details/?id={row_id}")
    if allowed(role, endpoint, "edit"):
        urls.append(f"/{endpoint}/edit/?id={row_id}")
    pages = {}
    for url in urls:
        response = client.get(url)
        if response.status_code == 200:
            pages[url] = html.unescape(response.get_data(as_text=True))
    return pages


@pytest.mark.parametrize("role", ARCHIVERS)
def test_no_page_says_delete_and_archive_buttons_say_what_they_do(app, role):
    """As `role`, does no page of any view say «Удалить» (or Flask-Admin's English), and
    does every row the role may archive offer «В архив» on its list and its details page,
    asking what it does («Перенести запись в архив? Её можно будет восстановить.», or the
    view's own words: a member of staff also loses their account)?"""
    username = f"words_{role}"
    with app.app_context():
        district = f.district()
        make_user(role, username, districts=[district])
        ids = world(district, "Словесов")
        db.session.commit()
    client = signed_in(app, username)
    problems = []
    for endpoint in ENDPOINTS:
        if not allowed(role, endpoint, "list"):
            continue
        pages = pages_of(client, endpoint, ids[endpoint], role)
        for url, page in pages.items():
            problems += [f"{url}: «{w}»" for w in DELETE_WORDS if w in page]
        archivable = issubclass(MODELS[endpoint], ArchivedMixin)
        confirm = VIEW_CLASSES[endpoint].confirm_archive
        assert "архив" in confirm and "восстановить" in confirm, confirm
        if allowed(role, endpoint, "delete") and archivable:
            for url in (f"/{endpoint}/", f"/{endpoint}/details/?id={ids[endpoint]}"):
                page = pages.get(url, "")
                if f'data-opora-confirm="{confirm}"' not in page:
                    problems.append(f"{url}: no «{TO_ARCHIVE}» asking what it does")
        elif confirm in "".join(pages.values()):
            problems.append(f"{endpoint}: «{TO_ARCHIVE}» offered without the right")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ARCHIVERS)
def test_an_archived_row_offers_restore_to_the_administrator_only(app, role):
    """On an archived row's list line (with «архив» shown) and its details page, does the
    administrator get «Восстановить» asking whether to bring it back — and the coordinator
    neither that nor «В архив» again?"""
    username = f"restore_{role}"
    with app.app_context():
        district = f.district()
        make_user(role, username, districts=[district])
        ids = world(district, "Возвратнов")
        family = db.session.get(MODELS["family"], ids["family"])
        family.archived_at = utcnow()
        db.session.commit()
    client = signed_in(app, username)
    pages = pages_of(client, "family", ids["family"], role)
    for url in ("/family/?archive=1", f"/family/details/?id={ids['family']}"):
        page = pages[url]
        restore = f'data-opora-confirm="{CONFIRM_RESTORE}"' in page
        assert restore == (role == "admin"), url
        assert f'data-opora-confirm="{CONFIRM_ARCHIVE}"' not in page, url
    if role == "admin":
        assert f">{RESTORE}</button>" in pages[f"/family/details/?id={ids['family']}"]


def test_the_details_pages_buttons_archive_and_restore(app, login_as, client):
    """Does the details page's «В архив» archive the row, and its «Восстановить» (the
    administrator's) bring it back, each landing on a page that says so?"""
    from conftest import csrf_token
    from security_factories import flashes

    login_as("admin")
    with app.app_context():
        partner = f.partner(name="Партнёр кнопок")
        db.session.commit()
        partner_id = partner.id
    details = f"/partner/details/?id={partner_id}"
    token = csrf_token(client, details)
    page = client.post(
        "/partner/delete/",
        data={"id": partner_id, "url": details, "csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Запись перенесена в архив." in flashes(page)
    data = {"action": "restore", "rowid": partner_id, "url": details, "csrf_token": token}
    page = client.post("/partner/action/", data=data, follow_redirects=True).get_data(as_text=True)
    assert "Восстановлено из архива: 1." in flashes(page)
    with app.app_context():
        assert db.session.get(MODELS["partner"], partner_id).archived_at is None
