"""An expired session never eats what was typed.

A form sent after its session ended (expired on the server, revoked, or idle past the
cookie's 30 minutes so that its CSRF session token is gone) keeps its fields as a draft
for the user of that session; after the same user signs in again, the form's page shows
them filled in, once, and nothing was saved in between. Another user signing in on that
browser finds nothing, and the draft is gone. A draft never holds a password, never
returns to another site, and stays out of the audit trail and the logs.

Sessions are ended by moving last_seen_at back in the database (the server's idle
timeout) or by moving the cookie signer's clock (the browser's cookie outliving it).
"""

from __future__ import annotations

import datetime as dt
import html
import logging

import factories as f
import pytest
from conftest import PASSWORD, Auth, csrf_token, make_user, signed_in
from itsdangerous import TimestampSigner
from security_factories import admin_form, flashes
from sqlalchemy import func, select, update
from workflow_factories import TODAY, active_case, specialist

from admin_views import drafts as d
from admin_views import my_tasks
from admin_views.forms import PageForm
from models import AuditRecord, Case, Family, FormDraft, Loan, Task, User, UserSession, Visit, db
from models.base import utcnow
from models.terms import FORM_DRAFT_HOURS
from workflows.drafts import DRAFT_LIFETIME, MAX_DRAFT_BYTES, discard_expired_drafts
from workflows.schedule import run_tick

WRITE_UP = "Семья дома, в квартире чисто; ребёнок посещает школу, мать просит консультацию юриста."


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr(my_tasks, "centre_today", lambda: TODAY)


def expire_sessions(app, username: str, minutes: int = 31) -> None:
    """End the user's sessions on the server: idle for `minutes`."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        back = utcnow() - dt.timedelta(minutes=minutes)
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id)
            .values(last_seen_at=back, created_at=back)
        )
        db.session.commit()


def drafts(app) -> list[FormDraft]:
    with app.app_context():
        rows = list(db.session.scalars(select(FormDraft)))
        db.session.expunge_all()
        return rows


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def sign_in_again(client, username: str):
    """The sign-in form after the refusal, as the user fills it in: the answer to it."""
    return Auth(client).login(username)


def draft_cookie_header(response) -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{d.COOKIE}=")]
    return cookie


# --- a visit write-up on «Мои задачи» (a workflow page) -----------------------------------


@pytest.fixture
def visit_task(app):
    """A district worker («worker») with an assigned home-visit task; the task's id."""
    with app.app_context():
        area = f.district()
        worker = specialist("district_worker", (area,), username="worker")
        case = active_case(area, lead=worker)
        task = f.task(
            case.family,
            case,
            title="Домашнее визитирование (патронаж) семьи",
            role="district_worker",
            status="assigned",
            assignee=worker,
            due_date=TODAY,
        )
        db.session.commit()
        return task.id


def test_a_visit_write_up_sent_after_the_session_expired_comes_back_after_sign_in(app, visit_task):
    """A visit write-up sent after the 30-minute timeout: is nothing saved, is the user
    sent to sign in with a calm Russian word, and after signing in as the same user does
    the task's page show the write-up in the form — once, not saved by itself?"""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    expire_sessions(app, "worker")
    form = {
        "visited_on": TODAY.isoformat(),
        "findings": WRITE_UP,
        "next_visit_on": "",
        "result": "Визит проведён",
        "csrf_token": token,
    }
    response = client.post(url, data=form)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert d.KEPT in flashes(login_page)
    assert count(app, Visit) == 0
    with app.app_context():
        assert db.session.get(Task, visit_task).status == "assigned"
    (draft,) = drafts(app)
    assert dict(draft.fields)["findings"] == WRITE_UP
    assert "csrf_token" not in dict(draft.fields)
    assert draft.path == url

    answer = sign_in_again(client, "worker")
    assert answer.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert html.escape(WRITE_UP, quote=False) in page
    assert d.RESTORED in flashes(page)
    assert count(app, Visit) == 0, "the form was submitted by itself"
    assert drafts(app) == [], "a draft is used once"
    again = client.get(url).get_data(as_text=True)
    assert html.escape(WRITE_UP, quote=False) not in again


def test_a_write_up_sent_when_the_browser_cookie_is_too_old_to_read_is_kept_too(
    app, visit_task, monkeypatch
):
    """After 30 idle minutes Flask no longer reads the session cookie (its signed time is
    too old), so the form's CSRF session token is gone: is the form still kept for the
    cookie's user, rather than the «form is stale» page?"""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda s: real(s) + 31 * 60)
    response = client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith("/login")
    assert len(drafts(app)) == 1
    assert sign_in_again(client, "worker").headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert html.escape(WRITE_UP, quote=False) in page


def test_a_write_up_sent_after_the_sign_in_page_was_opened_in_another_tab_is_kept(
    app, visit_task, monkeypatch
):
    """The session idled out; the user opened the sign-in page (or any page) in another tab,
    which gave the browser a new, signed-out session — then pressed «Выполнено» on the
    first tab: is the write-up still kept for them?"""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda s: real(s) + 31 * 60)
    for opened in ("/family/", "/login"):
        client.get(opened)
    response = client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith("/login")
    assert len(drafts(app)) == 1
    assert sign_in_again(client, "worker").headers["Location"] == url
    assert html.escape(WRITE_UP, quote=False) in client.get(url).get_data(as_text=True)


# --- a family's edit form (Flask-Admin) ----------------------------------------------------


def test_a_family_edit_sent_after_the_session_expired_is_filled_in_after_sign_in(app):
    """The panel's own edit form: is the edited address kept, the family unchanged, and the
    edit form after sign-in showing the typed address (the record's other values kept)?"""
    with app.app_context():
        make_user("coordinator", "boss")
        family_id = f.family(address="ул. Мира, д. 1", surname="Кузнецовы").id
        db.session.commit()
    client = signed_in(app, "boss")
    url = f"/family/edit/?id={family_id}&url=%2Ffamily%2F"
    fields = admin_form(client.get(url).get_data(as_text=True))["fields"]
    fields["address"] = "ул. Ленина, д. 42, кв. 7"
    fields["notes"] = "Переехали в марте; новый телефон уточнить."
    expire_sessions(app, "boss")
    response = client.post(url, data=fields)
    assert response.headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.get(Family, family_id).address == "ул. Мира, д. 1"

    assert sign_in_again(client, "boss").headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    restored = admin_form(page)["fields"]
    assert restored["address"] == "ул. Ленина, д. 42, кв. 7"
    assert restored["notes"] == "Переехали в марте; новый телефон уточнить."
    assert restored["surname"] == "Кузнецовы"
    assert d.RESTORED in flashes(page)
    with app.app_context():
        assert db.session.get(Family, family_id).address == "ул. Мира, д. 1"


def test_a_visit_created_in_the_panel_is_restored_into_the_create_form(app):
    """The create form of a visit (Flask-Admin): after sign-in, are the typed purpose and
    findings in the form, and no visit saved?"""
    with app.app_context():
        make_user("coordinator", "boss")
        family, mother, _child = f.family_with_members()
        case_id = f.case(family, mother).id
        db.session.commit()
    client = signed_in(app, "boss")
    url = "/visit/new/?url=%2Fvisit%2F"
    token = csrf_token(client, url)
    expire_sessions(app, "boss")
    client.post(
        url,
        data={
            "case": case_id,
            "visited_on": "2025-03-05",
            "purpose": "Обследование условий",
            "findings": WRITE_UP,
            "csrf_token": token,
        },
    )
    assert count(app, Visit) == 0
    assert sign_in_again(client, "boss").headers["Location"] == url
    restored = admin_form(client.get(url).get_data(as_text=True))["fields"]
    assert restored["findings"] == WRITE_UP
    assert restored["purpose"] == "Обследование условий"
    assert restored["visited_on"] == "2025-03-05"
    assert count(app, Visit) == 0


def test_a_pages_own_defaults_do_not_overwrite_the_restored_text(app):
    """A page that sets its form's fields after building it (the new family's surname and
    address from the search, the closure date today): is what the user typed shown, not
    those defaults, and nothing registered?"""
    with app.app_context():
        make_user("coordinator", "boss")
        district_id = f.district().id
        family, mother, _child = f.family_with_members()
        f.consent(family, mother)
        case_id = f.case(family, mother, status="active").id
        db.session.commit()
    client = signed_in(app, "boss")
    url = "/intake/new?surname=%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2%D1%8B"  # «Петровы»
    token = csrf_token(client, url)
    expire_sessions(app, "boss")
    typed = {"surname": "Петровские", "address": "ул. Садовая, д. 5", "district": district_id}
    client.post(url, data={**typed, "last_name": "Петровская", "csrf_token": token})
    assert sign_in_again(client, "boss").headers["Location"] == url
    body = client.get(url).get_data(as_text=True)
    assert 'value="Петровские"' in body and 'value="Петровы"' not in body
    assert 'value="ул. Садовая, д. 5"' in body
    assert 'value="Петровская"' in body
    assert count(app, Family) == 1

    url = f"/case_flow/{case_id}/closure"
    token = csrf_token(client, url)
    expire_sessions(app, "boss")
    client.post(
        url,
        data={"closed_on": "2025-03-03", "outcome": "Цели достигнуты", "csrf_token": token},
    )
    assert sign_in_again(client, "boss").headers["Location"] == url
    body = client.get(url).get_data(as_text=True)
    assert 'value="2025-03-03"' in body
    assert "Цели достигнуты" in body
    with app.app_context():
        assert db.session.get(Case, case_id).status == "active"


# --- only the same user, only once ---------------------------------------------------------


def test_another_user_signing_in_finds_nothing_and_the_draft_is_gone(app, visit_task):
    """On a shared computer another user signs in after the refusal: is nothing shown to
    them (not on the form's page either), and is the draft deleted?"""
    with app.app_context():
        area = f.district()
        specialist("district_worker", (area,), username="colleague")
        db.session.commit()
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    expire_sessions(app, "worker")
    client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
    assert len(drafts(app)) == 1
    answer = sign_in_again(client, "colleague")
    assert answer.headers["Location"] != url
    assert drafts(app) == [], "another user's sign-in left the draft"
    assert client.get_cookie(d.COOKIE) is None
    page = client.get(url).get_data(as_text=True)  # not their task: 404, and no text
    assert WRITE_UP not in page and html.escape(WRITE_UP, quote=False) not in page


def test_a_copied_draft_cookie_shows_another_user_nothing(app, visit_task):
    """A draft's key copied into a browser where another user is signed in: does that user
    see nothing on any page, and does the draft vanish?"""
    with app.app_context():
        make_user("coordinator", "boss")
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    expire_sessions(app, "worker")
    client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
    key = client.get_cookie(d.COOKIE).value
    other = signed_in(app, "boss")
    other.set_cookie(d.COOKIE, key)
    page = other.get(url).get_data(as_text=True)
    assert html.escape(WRITE_UP, quote=False) not in page
    assert drafts(app) == []


def test_the_draft_cookie_is_httponly_samesite_lax_and_secure_in_production(app, visit_task):
    """Is the draft's key an HttpOnly, SameSite=Lax cookie that lives a day, Secure when
    the session cookie is?"""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    expire_sessions(app, "worker")
    response = client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
    cookie = draft_cookie_header(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert f"Max-Age={FORM_DRAFT_HOURS * 3600}" in cookie
    assert "Secure" not in cookie  # the test app is not production
    assert dt.timedelta(hours=FORM_DRAFT_HOURS) == DRAFT_LIFETIME
    (draft,) = drafts(app)
    assert key_not_stored(client.get_cookie(d.COOKIE).value, draft)

    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        client = signed_in(app, "worker")
        token = csrf_token(client, url)
        expire_sessions(app, "worker")
        response = client.post(url, data={"findings": "x", "result": "", "csrf_token": token})
        assert "Secure" in draft_cookie_header(response)
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def key_not_stored(key: str, draft: FormDraft) -> bool:
    return draft.token_hash != key and key not in draft.token_hash and len(draft.token_hash) == 64


# --- what is refused, never kept -----------------------------------------------------------


def test_a_body_over_64_kb_keeps_nothing_and_says_so_calmly(app, visit_task):
    """Fields over 64 KB: no draft, no 500, a Russian message on the sign-in page."""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    expire_sessions(app, "worker")
    long_text = "я" * (MAX_DRAFT_BYTES // 2 + 10)  # two bytes a letter in UTF-8
    response = client.post(url, data={"findings": long_text, "result": "", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert drafts(app) == []
    assert client.get_cookie(d.COOKIE) is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert d.TOO_LARGE in flashes(page)
    assert count(app, Visit) == 0


def test_password_fields_are_never_kept(app):
    """The administrator's user form sent after the session ended: is its new password
    left out of the draft (and the restored form), and is the own-password page never
    kept at all?"""
    with app.app_context():
        make_user("admin", "root")
        other_id = make_user("nurse", "sister").id
    client = signed_in(app, "root")
    url = f"/user/edit/?id={other_id}&url=%2Fuser%2F"
    fields = admin_form(client.get(url).get_data(as_text=True))["fields"]
    fields["new_password"] = "ветер-над-волховом-42"
    expire_sessions(app, "root")
    client.post(url, data=fields)
    (draft,) = drafts(app)
    names = [name for name, _value in draft.fields]
    assert "new_password" not in names and "csrf_token" not in names
    assert "ветер-над-волховом-42" not in str(draft.fields)
    assert sign_in_again(client, "root").headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "ветер-над-волховом-42" not in page
    assert drafts(app) == []

    token = csrf_token(client, "/account/password")
    expire_sessions(app, "root")
    client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "ещё-один-пароль-77", "repeat": "ещё-один-пароль-77",
              "csrf_token": token},
    )  # fmt: skip
    assert drafts(app) == [], "the password page was kept"


def test_every_password_field_of_the_panel_is_left_out_by_its_name(app):
    """Does the name rule catch every password field of every form the panel has — the
    tables' create and edit forms and every page's form — so that none is ever kept?
    (The sign-in and own-password pages are never kept at all.)"""
    missed = []
    with app.test_request_context("/"):
        assert not d._may_keep("auth.login") and not d._may_keep("auth.password")
        for view in app.extensions["admin"][0]._views:
            for build in ("_create_form_class", "_edit_form_class"):
                form_class = getattr(view, build, None)
                for field in form_class() if form_class is not None else ():
                    if field.type == "PasswordField" and not d.SECRET_NAME.search(field.name):
                        missed.append(f"{view.endpoint}.{field.name}")
        forms = list(PageForm.__subclasses__())
        while forms:
            form_class = forms.pop()
            forms.extend(form_class.__subclasses__())
            if form_class.__module__ == "admin_views.auth":
                continue
            for field in form_class(formdata=None, meta={"csrf": False}):
                if field.type == "PasswordField" and not d.SECRET_NAME.search(field.name):
                    missed.append(f"{form_class.__name__}.{field.name}")
    assert missed == []


def test_a_form_sent_from_another_site_keeps_nothing(app, visit_task):
    """A form another site makes the browser send (its Origin or Referer names that
    site): is nothing kept, so nobody can plant text into a user's form?"""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    expire_sessions(app, "worker")
    form = {"findings": "Подставлено чужим сайтом", "result": "", "csrf_token": token}
    for headers in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}):
        response = client.post(url, data=form, headers=headers)
        assert response.status_code == 302
        assert drafts(app) == [], headers


def test_a_draft_returns_only_to_a_page_of_the_panel(app):
    """No open redirect: another host, '//', a backslash, a scheme, the sign-in page, or an
    address that takes no GET is never a draft's page."""
    with app.test_request_context("/", base_url="http://localhost"):
        assert d.panel_page("/family/")
        assert d.panel_page("/family/edit/?id=3&url=%2Ffamily%2F")
        for target in (
            "//evil.example/family/",
            "/\\evil.example",
            "https://evil.example/family/",
            "http://localhost/family/",
            "/login",
            "/account/password",
            "/logout",
            "/no/such/page",
            "/my_tasks/1/start",  # POST only
            "/family/\n",
            "",
        ):
            assert not d.panel_page(target), target


def test_a_post_only_form_returns_to_the_page_it_was_sent_from(app):
    """The extension of a loan posts to an address that takes POST only: is the draft's
    page the loan's page it was sent from, filled in there (its default date not winning),
    and the loan not extended? A button without typing (a row's «Удалить») keeps nothing."""
    with app.app_context():
        make_user("rental_clerk", "clerk")
        family, _mother, child = f.family_with_members()
        loan_id = f.loan(f.equipment_unit(), family, child).id
        db.session.commit()
    client = signed_in(app, "clerk")
    page_url = f"/rental_desk/loan/{loan_id}/"
    token = csrf_token(client, page_url)
    expire_sessions(app, "clerk")
    client.post(
        f"{page_url}extend/",
        data={
            "new_due_on": "2025-06-15",
            "reason": "Курс реабилитации продлён",
            "csrf_token": token,
        },
        headers={"Referer": f"http://localhost{page_url}"},
    )
    (draft,) = drafts(app)
    assert draft.path == page_url
    assert sign_in_again(client, "clerk").headers["Location"] == page_url
    body = client.get(page_url).get_data(as_text=True)
    assert "Курс реабилитации продлён" in body and 'value="2025-06-15"' in body
    with app.app_context():
        assert db.session.get(Loan, loan_id).due_on == dt.date(2025, 5, 1)

    token = csrf_token(client, "/loan/")
    expire_sessions(app, "clerk")
    client.post(
        "/loan/delete/",
        data={"id": loan_id, "url": "/loan/", "csrf_token": token},
        headers={"Referer": "http://localhost/loan/"},
    )
    assert drafts(app) == []


def test_a_signed_out_browser_keeps_nothing(app, visit_task):
    """After «Выйти» the browser names no session: a form sent from an old tab keeps
    nothing (and is refused in Russian, as before)."""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    Auth(client).logout()
    response = client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
    assert response.status_code in (302, 400)
    assert drafts(app) == []


def test_a_form_of_an_older_sign_in_sent_after_a_new_one_comes_back_at_once(app, visit_task):
    """The user signed in again in another tab, then pressed «Выполнено» on the old one
    (its CSRF token is the ended session's): is the form's page shown filled in, without
    another sign-in?"""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    expire_sessions(app, "worker")
    signed_in(app, "worker", client=client)  # the other tab
    csrf_token(client, url)  # the new session's token
    response = client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert html.escape(WRITE_UP, quote=False) in page
    assert count(app, Visit) == 0


# --- the audit, the logs, the tick ---------------------------------------------------------


def test_a_draft_stays_out_of_the_audit_trail_and_the_logs(app, visit_task, caplog):
    """A draft may hold personal data: no audit row carries it, no log line does."""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    expire_sessions(app, "worker")
    with caplog.at_level(logging.DEBUG):
        client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
        sign_in_again(client, "worker")
        client.get(url)
    assert WRITE_UP not in caplog.text
    with app.app_context():
        tables = set(db.session.scalars(select(AuditRecord.table_name)))
        texts = " ".join(str(r.changes) for r in db.session.scalars(select(AuditRecord)))
    assert "form_draft" not in tables
    assert WRITE_UP not in texts


def test_the_tick_removes_drafts_past_their_term(app, visit_task):
    """Is a draft older than its term deleted by the tick (and a fresh one kept)?"""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    for _ in range(2):
        token = csrf_token(client, url)
        expire_sessions(app, "worker")
        client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
        client = signed_in(app, "worker")  # a new browser, a draft of its own
    assert len(drafts(app)) == 2
    with app.app_context():
        oldest = db.session.scalar(select(func.min(FormDraft.id)))
        db.session.execute(
            update(FormDraft)
            .where(FormDraft.id == oldest)
            .values(expires_at=utcnow() - dt.timedelta(minutes=1))
        )
        db.session.commit()
        assert (
            dict(run_tick(db.session, TODAY))["Удалены черновики форм, не восстановленные за сутки"]
            == 1
        )
        assert discard_expired_drafts(db.session, TODAY) == 0
    assert len(drafts(app)) == 1


def test_an_expired_draft_is_not_restored(app, visit_task):
    """A draft past its term, not yet removed by the tick: is it refused at sign-in?"""
    client = signed_in(app, "worker")
    url = f"/my_tasks/{visit_task}/"
    token = csrf_token(client, url)
    expire_sessions(app, "worker")
    client.post(url, data={"findings": WRITE_UP, "result": "", "csrf_token": token})
    with app.app_context():
        db.session.execute(update(FormDraft).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        db.session.commit()
    assert sign_in_again(client, "worker").headers["Location"] != url
    page = client.get(url).get_data(as_text=True)
    assert html.escape(WRITE_UP, quote=False) not in page
    assert drafts(app) == []
