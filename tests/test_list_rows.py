"""Are the rows that the list pages build in Python (admin_views/modelview/rows.py) and
the navbar kept per role (admin_views/menu.py Navbar) what the pages showed before:
escaped values, the row's links and its archive or restore form by the page's rights and
the row's state, the current page lit in the menu whatever page was kept before?"""

from __future__ import annotations

import re

import factories as f
import pytest
from conftest import make_user, signed_in
from flask_admin.model.template import LinkRowAction

from admin_views.modelview.rows import ListRows
from admin_views.permissions import MATRIX
from models import Family, db
from models.base import utcnow


@pytest.fixture
def families(app):
    with app.app_context():
        make_user("admin", "boss")
        make_user("coordinator", "coord")
        make_user("rental_clerk", "clerk")
        live, _mother, _child = f.family_with_members(surname="<b>Живая</b>")
        old, _mother, _child = f.family_with_members(surname="Давняя")
        old.archived_at = utcnow()
        db.session.commit()
        return {"live": live.id, "old": old.id}


def _row(body: str, family_id: int) -> str:
    """The list row of the family: from its checkbox or first cell to the row's end."""
    rows = [row for row in re.findall(r"<tr>(.*?)</tr>", body, re.S) if f"?id={family_id}&" in row]
    assert len(rows) == 1, f"family {family_id}: {len(rows)} rows"
    return rows[0]


def test_a_value_is_escaped_and_a_live_row_offers_its_links_and_the_archive(app, families):
    client = signed_in(app, "coord")
    body = client.get("/family/").get_data(as_text=True)
    row = _row(body, families["live"])
    assert "&lt;b&gt;Живая&lt;/b&gt;" in row and "<b>Живая" not in row
    assert f'href="/family/details/?id={families["live"]}&amp;url=%2Ffamily%2F' in row
    assert f'href="/family/edit/?id={families["live"]}&amp;url=' in row
    archive = re.search(
        r'<form class="icon" method="POST" action="/family/delete/">(.*?)</form>', row
    )
    assert archive, row
    assert f'name="id" type="hidden" value="{families["live"]}"' in archive.group(1)
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', archive.group(1))
    assert 'title="В архив"' in archive.group(1)
    assert "restore" not in row
    assert "</a> <a" in row and "</a> <form" in row  # the icons apart, not touching


def test_the_archive_button_archives_through_the_rows_form(app, families):
    client = signed_in(app, "coord")
    body = client.get("/family/").get_data(as_text=True)
    form = re.search(r'action="/family/delete/">(.*?)</form>', _row(body, families["live"]), re.S)
    fields = dict(re.findall(r'name="([a-z_]+)" type="hidden" value="([^"]*)"', form.group(1)))
    fields.update(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', form.group(1)))
    response = client.post("/family/delete/", data=fields)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Family, families["live"]).archived_at is not None


def test_an_archived_row_offers_restore_to_the_administrator_only(app, families):
    admin_row = _row(
        signed_in(app, "boss").get("/family/?archive=1").get_data(as_text=True), families["old"]
    )
    assert 'name="action" value="restore"' in admin_row
    assert f'name="rowid" value="{families["old"]}"' in admin_row
    assert "/family/delete/" not in admin_row
    coordinator_row = _row(
        signed_in(app, "coord").get("/family/?archive=1").get_data(as_text=True), families["old"]
    )
    assert "restore" not in coordinator_row and "/family/delete/" not in coordinator_row


def test_a_reader_gets_the_details_link_only(app, families, monkeypatch):
    monkeypatch.setitem(MATRIX["coordinator"], "family", frozenset({"list", "details"}))
    row = _row(signed_in(app, "coord").get("/family/").get_data(as_text=True), families["live"])
    assert "/family/details/?id=" in row
    assert "/family/edit/" not in row and "<form" not in row and "action-checkbox" not in row


def test_a_row_action_the_list_cannot_show_is_refused(app):
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "family")
    refused = pytest.raises(TypeError, match="a row action the list cannot show")
    with app.test_request_context("/family/"), refused:
        ListRows(
            view,
            list_columns=[],
            row_actions=[LinkRowAction("fa fa-star", "/x/{row_id}")],
            return_url="/family/",
            checkbox=False,
            csrf=None,
        )


def _lit(body: str) -> list[str]:
    menu = re.search(r'id="work-menu">(.*?)\n</ul>', body, re.S).group(1)
    return re.findall(r'<a class="(?:nav-link|dropdown-item) active" href="([^"]+)"', menu) + [
        href for href in re.findall(r'<li class="active"><a class="nav-link" href="([^"]+)"', menu)
    ]


def test_the_kept_menu_lights_the_page_shown_and_is_each_roles_own(app, families):
    coordinator = signed_in(app, "coord")
    for url in ("/family/", "/person/", "/family/"):
        assert _lit(coordinator.get(url).get_data(as_text=True)) == [url], url
    reader = signed_in(app, "clerk")
    reader_menu = reader.get("/family/").get_data(as_text=True)
    coordinator_menu = coordinator.get("/family/").get_data(as_text=True)
    assert 'href="/intake/"' in coordinator_menu
    assert 'href="/intake/"' not in reader_menu
