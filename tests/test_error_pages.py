"""Does every refusal answer a calm Russian page that needs no database?

404, 405, 413, a refused CSRF token (400), 403 and 500 are Werkzeug's English pages
unless the app answers them; while the database is down the app answers a Russian 503
instead of the WSGI server's bare «Internal Server Error».
"""

from __future__ import annotations

import re

import factories as f
import pytest
from conftest import PASSWORD, Auth, csrf_token, make_user, post_form
from flask import abort
from sqlalchemy import make_url, select
from variant_apps import variant_app

from models import District, Family, db

ENGLISH = (
    "Bad Request",
    "Not Found",
    "Method Not Allowed",
    "Request Entity Too Large",
    "Internal Server Error",
    "Forbidden",
    "Service Unavailable",
    "CSRF",
    "Failed to",
)


def assert_russian_page(response, status: int, words: str) -> str:
    """The response is `status` with `words` on a page that carries no English refusal."""
    page = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, page[:300])
    assert words in page, page[:500]
    assert '<html lang="ru">' in page
    for english in ENGLISH:
        assert english not in page, english
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert response.headers["X-Request-ID"] in page  # the number to tell the administrator
    return page


def test_unknown_page_is_404_in_russian(client):
    """Is an address that does not exist a Russian 404?"""
    assert_russian_page(client.get("/no-such-page"), 404, "Такой страницы или записи нет")


def test_unknown_row_is_404_in_russian(app, client, login_as):
    """Is a row that does not exist (or is out of scope) a Russian 404?"""
    login_as("admin")
    assert_russian_page(client.get("/family/details/?id=999999"), 404, "Такой страницы")


def test_wrong_method_is_405_in_russian(client):
    """Is a GET of the sign-out (a POST-only address) a Russian 405 that still says Allow?"""
    response = client.get("/logout")
    assert_russian_page(response, 405, "не принимает такой запрос")
    assert "POST" in response.headers["Allow"]


def test_refused_csrf_token_is_400_in_russian(app, client):
    """Is a form sent without its CSRF token (a stale page, an ended session) a Russian 400?"""
    with app.app_context():
        make_user("admin")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert_russian_page(response, 400, "Форма устарела")


def test_forged_csrf_token_is_400_in_russian(app, client, login_as):
    """Is a save with a forged token refused in Russian, and nothing stored?"""
    login_as("admin")
    with app.app_context():
        district_id = f.district().id
        db.session.commit()
    data = {"surname": "Поддельные", "district": district_id, "address": "ул. Мира, д. 1"}
    response = client.post("/family/new/", data={**data, "csrf_token": "forged"})
    assert_russian_page(response, 400, "обновите страницу")
    with app.app_context():
        assert db.session.query(Family).count() == 0


def test_oversized_form_field_is_413_in_russian(app, client, login_as):
    """Is a form field larger than the server accepts a Russian 413, and nothing stored?"""
    login_as("admin")
    with app.app_context():
        district_id = f.district().id
        db.session.commit()
    data = {
        "surname": "Большие",
        "district": district_id,
        "address": "ул. Мира, д. 1",
        "notes": "x" * 600_000,
        "csrf_token": csrf_token(client, "/family/new/"),
    }
    # The panel's forms are multipart, as a browser sends them.
    response = client.post("/family/new/", data=data, content_type="multipart/form-data")
    assert_russian_page(response, 413, "Отправлено слишком много данных")
    with app.app_context():
        assert db.session.query(Family).count() == 0


def test_oversized_request_is_413_in_russian(client):
    """Is any request body above MAX_CONTENT_LENGTH a Russian 413?"""
    response = client.post("/login", data={"username": "x" * (5 * 1024 * 1024)})
    assert_russian_page(response, 413, "Отправлено слишком много данных")


def test_forbidden_page_is_403_in_russian(app, client, login_as):
    """Is a page the role may not open a Russian 403?"""
    login_as("viewer")
    assert_russian_page(client.get("/family/"), 403, "нет доступа")


def test_refused_edit_shows_a_russian_banner(app, client, login_as):
    """Does a refused edit say so in Russian, not Flask-Admin's «Failed to save record.»?"""
    login_as("admin")
    with app.app_context():
        family_id = f.family().id
        db.session.commit()
    url = f"/family/edit/?id={family_id}"
    response = post_form(client, url, {"surname": "", "address": "ул. Мира, д. 1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Изменения не сохранены" in page
    assert "Failed to" not in page


def _boom():
    raise RuntimeError("a bug")


def _bad_request():
    abort(400)


def _failed_flush():
    """A programming error the database refuses: a second district of the same name."""
    name = db.session.scalar(select(District.name))
    db.session.add(District(name=name))
    db.session.commit()


@pytest.fixture
def buggy_app(app):
    """The suite's database behind an app that answers 500 as production does."""
    routes = (
        ("/test/boom", _boom),
        ("/test/bad-request", _bad_request),
        ("/test/failed-flush", _failed_flush),
    )
    with variant_app(app.config["SQLALCHEMY_DATABASE_URI"], routes, TESTING=False) as variant:
        with app.app_context():
            make_user("admin")
        client = variant.test_client()
        assert Auth(client).login("admin").status_code == 302
        yield client


def test_bug_is_500_in_russian(buggy_app):
    """Is an unexpected exception a calm Russian 500?"""
    assert_russian_page(buggy_app.get("/test/boom"), 500, "Что-то пошло не так")


def test_refused_flush_is_500_with_the_security_headers(app, buggy_app):
    """Does a database refusal nobody caught answer the Russian 500, with the headers
    that need the signed-in user (the session was left unusable by the failed flush)?"""
    with app.app_context():
        f.district()
        db.session.commit()
    response = buggy_app.get("/test/failed-flush")
    assert_russian_page(response, 500, "Что-то пошло не так")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_bad_request_is_400_in_russian(buggy_app):
    """Is a plain 400 Russian too?"""
    assert_russian_page(buggy_app.get("/test/bad-request"), 400, "В запросе ошибка")


# --- the database is down ---------------------------------------------------------------


def unreachable_url(url: str, tmp_path) -> str:
    """A URL of the suite's kind of database that answers nothing: a closed port on
    PostgreSQL, a file in a directory that does not exist on SQLite."""
    if url.startswith("postgresql"):
        return make_url(url).set(host="127.0.0.1", port=5179).render_as_string(False)
    return f"sqlite:///{tmp_path / 'missing' / 'opora.sqlite3'}"


@pytest.fixture
def down_app(app, tmp_path):
    """An app as production runs it, on a database that does not answer."""
    with variant_app(unreachable_url(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)) as down:
        yield down


def test_database_down_answers_a_russian_503(app, client, login_as, down_app):
    """While the database is down, does a signed-in user's page answer a Russian 503
    (with the security headers still set) rather than a bare 500?"""
    login_as("admin")
    cookie = client.get_cookie("session")
    browser = down_app.test_client()
    browser.set_cookie("session", cookie.value)
    for url in ("/", "/family/", "/intake/?surname=Смирнова"):
        response = browser.get(url)
        assert_russian_page(response, 503, "База данных сейчас не отвечает")
        assert response.headers["Retry-After"] == "60"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_sign_in_while_the_database_is_down(down_app):
    """Does signing in while the database is down answer the Russian 503?"""
    browser = down_app.test_client()
    token = csrf_token(browser, "/login")  # the sign-in page itself needs no database
    response = browser.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert_russian_page(response, 503, "попробуйте ещё раз через минуту")


def test_error_pages_need_no_database(down_app):
    """Do 404 and 405 answer as usual while the database is down?"""
    browser = down_app.test_client()
    assert_russian_page(browser.get("/no-such-page"), 404, "Такой страницы")
    assert_russian_page(browser.get("/logout"), 405, "не принимает такой запрос")
