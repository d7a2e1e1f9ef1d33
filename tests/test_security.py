"""Is the panel safe to put on a network: forms, sign-in, sessions, redirects, pages?

Each test drives the panel as a browser would (Flask test clients; two
clients are two browsers) and checks one promise of admin_views/auth.py,
workflows/accounts.py or app.py.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import factories as f
import pytest
from conftest import PASSWORD, Auth, csrf_token, make_user, signed_in
from itsdangerous import TimestampSigner
from security_factories import admin_form, count
from sqlalchemy import select

from admin_views.auth import IDLE_TIMEOUT
from models import ROLE, AuditRecord, Family, LoginThrottle, User, db
from workflows import accounts
from workflows.accounts import SIGN_IN_REFUSED, SIGN_IN_THROTTLED

NEW_PASSWORD = "a-new-password-42"
PAYLOAD = "<script>alert(1)</script>"


def _alert(response) -> str:
    """The error shown on the sign-in page."""
    match = re.search(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True))
    return match.group(1).strip() if match else ""


def _is_signed_out(client) -> bool:
    response = client.get("/family/")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _family_form(client, district_id: int, surname: str) -> dict:
    fields = admin_form(client.get("/family/new/").get_data(as_text=True))["fields"]
    fields.pop("csrf_token", None)
    fields.update(surname=surname, district=str(district_id), address="ул. Новая, д. 1")
    return fields


# --- CSRF --------------------------------------------------------------------------------


def test_posts_without_csrf_token_are_refused(app, client, auth):
    """Is a POST without a CSRF token (or with a forged one) refused on the
    sign-in form, a create form and sign-out — while the same POSTs with the
    token succeed?"""
    with app.app_context():
        make_user("coordinator", "coord")
        district_id = f.district().id
        db.session.commit()

    refused = client.post("/login", data={"username": "coord", "password": PASSWORD})
    assert refused.status_code == 400
    assert _is_signed_out(client)

    assert auth.login("coord").status_code == 302
    form = _family_form(client, district_id, "Подделкины")
    assert client.post("/family/new/", data=form).status_code == 400
    forged = {**form, "csrf_token": "forged-token"}
    assert client.post("/family/new/", data=forged).status_code == 400
    assert count(app, Family) == 0
    accepted = client.post("/family/new/", data={**form, "csrf_token": csrf_token(client)})
    assert accepted.status_code == 302
    assert count(app, Family) == 1

    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged-token"}).status_code == 400
    assert client.get("/family/").status_code == 200, "sign-out happened without a token"
    assert auth.logout().status_code == 302
    assert _is_signed_out(client)


# --- sign-in throttle and messages -----------------------------------------------------------


def test_sixth_attempt_is_throttled_even_with_the_right_password(app, client, auth, monkeypatch):
    """After five wrong passwords for one login within 15 minutes, is the sixth
    attempt refused with the throttle message even with the right password
    (in another browser too), and does the lock lift after the window?"""
    with app.app_context():
        make_user("district_worker", "victim")
    for attempt in range(1, 6):
        response = auth.login("victim", f"wrong-password-{attempt}")
        assert response.status_code == 401
        if attempt < 5:
            assert _alert(response) == SIGN_IN_REFUSED
    response = auth.login("victim", PASSWORD)
    assert response.status_code == 401
    assert _alert(response) == SIGN_IN_THROTTLED
    assert _is_signed_out(client)

    other_browser = Auth(app.test_client())
    assert _alert(other_browser.login("VICTIM", PASSWORD)) == SIGN_IN_THROTTLED

    later = accounts.utcnow() + accounts.LOCK_WINDOW + dt.timedelta(minutes=1)
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    assert auth.login("victim", PASSWORD).status_code == 302


GUESSES = 16


def _guess_at_once(app, monkeypatch, username: str) -> tuple[list[int], int]:
    """GUESSES browsers send a wrong password for `username` at the same instant;
    the status of each answer and how many passwords were actually checked."""
    checked = []
    lock = threading.Lock()
    real_check = User.check_password

    def counting_check(user, password):
        with lock:
            checked.append(password)
        return real_check(user, password)

    monkeypatch.setattr(User, "check_password", counting_check)
    browsers = [app.test_client() for _ in range(GUESSES)]
    tokens = [csrf_token(b, "/login") for b in browsers]
    barrier = threading.Barrier(GUESSES)
    statuses = [0] * GUESSES

    def guess(i: int) -> None:
        data = {"username": username, "password": f"guess-{i}-wrong", "csrf_token": tokens[i]}
        barrier.wait()
        statuses[i] = browsers[i].post("/login", data=data).status_code

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses, len(checked)


def _check_sixteen_guesses(app, monkeypatch) -> None:
    with app.app_context():
        make_user("district_worker", "raced")
    statuses, checked = _guess_at_once(app, monkeypatch, "raced")
    assert statuses == [401] * GUESSES, statuses
    assert checked <= accounts.MAX_FAILURES, f"{checked} passwords checked of {GUESSES} guesses"
    assert checked == accounts.MAX_FAILURES
    assert _alert(Auth(app.test_client()).login("raced", PASSWORD)) == SIGN_IN_THROTTLED


@pytest.mark.postgres
def test_sixteen_guesses_at_once_check_at_most_five_passwords_on_postgresql(app, monkeypatch):
    """16 wrong guesses for one login sent at the same instant, each on its own
    connection: are at most 5 passwords checked (the throttle counts before it
    checks, in one statement) and is the right password then refused too?"""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("set DATABASE_URL to a PostgreSQL server")
    _check_sixteen_guesses(app, monkeypatch)


def test_sixteen_guesses_at_once_check_at_most_five_passwords_on_sqlite(app, monkeypatch):
    """The same race on SQLite (one writer at a time; the count still comes
    before the slow password check, so the race is the same)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the PostgreSQL run has its own test")
    _check_sixteen_guesses(app, monkeypatch)


def test_a_right_password_resets_the_count_and_spares_the_address(app, auth):
    """Do successful sign-ins leave the address's count alone (an office behind
    one address signs in all morning), and does one reset the login's count?"""
    office = accounts.MAX_FAILURES * 4 + 1
    with app.app_context():
        for n in range(office):
            f.user("viewer", username=f"office{n}")
        db.session.commit()
        make_user("district_worker", "forgetful")
    for n in range(office):
        assert Auth(app.test_client()).login(f"office{n}").status_code == 302, n
    for _ in range(accounts.MAX_FAILURES - 1):
        assert auth.login("forgetful", "not-it-at-all").status_code == 401
    assert auth.login("forgetful").status_code == 302
    auth.logout()
    for _ in range(accounts.MAX_FAILURES - 1):
        assert _alert(auth.login("forgetful", "not-it-at-all")) == SIGN_IN_REFUSED


def test_one_address_guessing_many_logins_is_throttled(app):
    """Twenty wrong guesses from one address, each at a different login: is the
    address then throttled for a login it has not tried?"""
    with app.app_context():
        make_user("district_worker", "untouched")
    for n in range(accounts.MAX_FAILURES * 4):
        assert Auth(app.test_client()).login(f"nobody{n}", "wrong-password").status_code == 401
    assert _alert(Auth(app.test_client()).login("untouched")) == SIGN_IN_THROTTLED


def test_windows_long_past_are_dropped_at_a_sign_in(app, auth):
    """Does a successful sign-in drop counts whose window ended long ago (the
    throttle table does not grow with every login ever guessed), keeping the
    live ones?"""
    with app.app_context():
        make_user("district_worker", "sweeper")
        old = accounts.utcnow() - accounts.LOCK_WINDOW - dt.timedelta(minutes=1)
        live = accounts.utcnow()
        for key, start in (("user:gone", old), ("ip:10.0.0.9", old), ("user:recent", live)):
            db.session.add(LoginThrottle(key=key, attempts=3, window_start=start))
        db.session.commit()
    assert auth.login("sweeper").status_code == 302
    with app.app_context():
        keys = set(db.session.scalars(select(LoginThrottle.key)))
    assert keys == {"user:recent", "ip:127.0.0.1"}


def test_unknown_user_gets_the_same_message_as_a_wrong_password(app, client, auth):
    """Is the refusal for an unknown login (and for a disabled account) word for
    word the one for a wrong password, so the page never tells who exists?"""
    with app.app_context():
        make_user("district_worker", "known")
        make_user("nurse", "disabled").active = False
        db.session.commit()
    answers = {
        "wrong password": auth.login("known", "not-the-password"),
        "unknown user": auth.login("nobody-here", "not-the-password"),
        "disabled account": auth.login("disabled", PASSWORD),
    }
    for case, response in answers.items():
        assert response.status_code == 401, case
        assert _alert(response) == SIGN_IN_REFUSED, case


# --- sessions -----------------------------------------------------------------------------


def test_idle_session_expires_after_thirty_minutes(app, client, login_as, monkeypatch):
    """Does a signed-in session survive 29 idle minutes (each request renewing
    it) but end after 31 idle minutes, with no remember-me cookie to revive it?

    Flask checks the session cookie's signed timestamp against
    PERMANENT_SESSION_LIFETIME (itsdangerous max_age), so the test moves the
    signer's clock rather than sleeping."""
    login_as("coordinator")
    assert client.get_cookie("remember_token") is None
    skew = {"seconds": 0}
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda s: real(s) + skew["seconds"])

    for minutes in (0, 29, 58):  # each request comes 29 minutes after the last one
        skew["seconds"] = minutes * 60
        assert client.get("/family/").status_code == 200, f"signed out at +{minutes} min"
    skew["seconds"] = (58 + 31) * 60
    assert _is_signed_out(client), (
        f"still signed in after 31 idle minutes; the session lives "
        f"{app.permanent_session_lifetime}, not {IDLE_TIMEOUT}"
    )
    skew["seconds"] = 0
    assert _is_signed_out(client), "an expired session came back"


def test_session_cookie_is_httponly_and_samesite_lax(app, client, auth):
    """Is the session cookie HttpOnly and SameSite=Lax?"""
    with app.app_context():
        make_user("district_worker", "cookie")
    response = auth.login("cookie")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


def test_sign_in_starts_a_new_session(app, client, auth):
    """Does sign-in start a new session — a new cookie, the pre-login cookie
    still anonymous, and the pre-login CSRF token no longer accepted?"""
    with app.app_context():
        make_user("district_worker", "fixed")
    old_token = csrf_token(client, "/login")
    before = client.get_cookie("session").value
    response = client.post(
        "/login", data={"username": "fixed", "password": PASSWORD, "csrf_token": old_token}
    )
    assert response.status_code == 302
    assert client.get_cookie("session").value != before

    planted = app.test_client()
    planted.set_cookie("session", before)
    assert _is_signed_out(planted)

    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": old_token}).status_code == 400
    assert client.get("/family/").status_code == 200


def test_password_change_ends_the_users_other_sessions(app):
    """When a user changes their password in one browser, is their session in
    another browser ended (sent to /login) while the changing one stays signed in?"""
    with app.app_context():
        make_user("district_worker", "twin")
    first, second = signed_in(app, "twin"), signed_in(app, "twin")
    assert second.get("/family/").status_code == 200
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    response = first.post("/account/password", data={**form, "csrf_token": csrf_token(first)})
    assert response.status_code == 302
    assert first.get("/family/").status_code == 200
    assert _is_signed_out(second)
    assert Auth(app.test_client()).login("twin", PASSWORD).status_code == 401
    signed_in(app, "twin", NEW_PASSWORD)


@pytest.mark.parametrize("change", ["disable", "new password"])
def test_admin_change_of_an_account_ends_its_sessions(app, change):
    """When the administrator disables an account (or sets it a new password),
    is that user's open session ended at once?"""
    with app.app_context():
        make_user("admin", "boss")
        user_id = make_user("district_worker", "leaver").id
    victim, boss = signed_in(app, "leaver"), signed_in(app, "boss")
    assert victim.get("/family/").status_code == 200
    url = f"/user/edit/?id={user_id}"
    form = admin_form(boss.get(url).get_data(as_text=True))["fields"]
    if change == "disable":
        form.pop("active", None)
    else:
        form["new_password"] = NEW_PASSWORD
    response = boss.post(url, data={**form, "csrf_token": csrf_token(boss)})
    assert response.status_code == 302
    assert _is_signed_out(victim)
    if change == "disable":
        assert _alert(Auth(app.test_client()).login("leaver")) == SIGN_IN_REFUSED


def test_a_disabled_account_loses_its_open_session(app):
    """However an account is disabled (here straight in the database), does
    its open session end at the next request?"""
    with app.app_context():
        user_id = make_user("nurse", "switched-off").id
    client = signed_in(app, "switched-off")
    assert client.get("/family/").status_code == 200
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert _is_signed_out(client)


def test_users_change_their_own_password(app, client, login_as):
    """Can a user change their own password, with Russian refusals for a too
    short new password, a mismatch and a wrong current password?"""
    user = login_as("social_worker", "self")
    with app.app_context():
        old_hash = db.session.get(User, user.id).password_hash
    token = csrf_token(client)

    def change(current, new, repeat):
        data = {"current": current, "new": new, "repeat": repeat, "csrf_token": token}
        return client.post("/account/password", data=data)

    short = change(PASSWORD, "short", "short")
    assert short.status_code == 200
    assert "Пароль должен быть не короче 10 символов." in short.get_data(as_text=True)
    mismatch = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert "Пароли не совпадают." in mismatch.get_data(as_text=True)
    wrong = change("not-my-password", NEW_PASSWORD, NEW_PASSWORD)
    assert "Текущий пароль указан неверно." in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).password_hash == old_hash

    assert change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD).status_code == 302
    signed_in(app, "self", NEW_PASSWORD)


def test_only_the_admin_reaches_user_accounts(app):
    """Is /user/ (and creating an account) open to the administrator only?"""
    with app.app_context():
        for role in ROLE.codes:
            make_user(role, f"u_{role}")
    for role in ROLE.codes:
        client = signed_in(app, f"u_{role}")
        expected = 200 if role == "admin" else 403
        assert client.get("/user/").status_code == expected, role
        assert client.get("/user/new/").status_code == expected, role


def test_passwords_are_hashed_with_scrypt(app, runner, login_as, client):
    """Is every password — set for a new account, by the create-user command and
    by a user's own change — stored as a scrypt hash, never shown on the account
    page nor written to the audit trail?"""
    admin = login_as("admin", "boss")
    result = runner.invoke(
        args=["create-user", "cli-user", "--role", "viewer", "--password", "cli-password-123"]
    )
    assert result.exit_code == 0, result.output
    token = csrf_token(client)
    data = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": token}
    assert client.post("/account/password", data=data).status_code == 302

    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        assert set(users) == {"boss", "cli-user"}
        for user in users.values():
            assert user.password_hash.startswith("scrypt:"), user.username
        assert users["cli-user"].check_password("cli-password-123")
        assert users["boss"].check_password(NEW_PASSWORD)
        hashes = [u.password_hash for u in users.values()]
        trail = " ".join(str(r.changes) for r in db.session.scalars(select(AuditRecord)))
    assert "scrypt" not in trail
    page = client.get(f"/user/details/?id={admin.id}").get_data(as_text=True)
    assert not any(h.split("$")[-1] in page for h in hashes)


def test_admin_creates_an_account_with_a_scrypt_password(app, login_as, client):
    """Can the administrator create an account with its first password in the
    panel (/user/new/, field «Новый пароль»), stored as a scrypt hash?"""
    login_as("admin", "boss")
    form = admin_form(client.get("/user/new/").get_data(as_text=True))
    assert "new_password" in form["fields"], "the account form has no password field"
    fields = {**form["fields"], "username": "panel-user", "role": "lawyer", "active": "y"}
    fields["new_password"] = "panel-password-123"
    if "__None" in form["options"].get("staff", ()):
        fields["staff"] = "__None"
    response = client.post("/user/new/", data={**fields, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "panel-user"))
        assert user.password_hash.startswith("scrypt:")
        assert user.check_password("panel-password-123")


# --- redirects ------------------------------------------------------------------------------

EVIL = (
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "///evil.example",
    "/\t/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
)


@pytest.mark.parametrize("target", EVIL)
def test_next_outside_the_panel_is_not_followed(app, client, target):
    """After sign-in (and for an already signed-in user), does a `next` pointing outside the panel land on the panel's home
    page instead?"""
    with app.app_context():
        make_user("district_worker", "redirected")
    query = urlencode({"next": target})
    token = csrf_token(client, "/login")
    data = {"username": "redirected", "password": PASSWORD, "csrf_token": token}
    responses = [client.post(f"/login?{query}", data=data)]
    responses.append(client.get(f"/login?{query}"))
    for response in responses:
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location == "/", location
        assert not urlsplit(location).netloc


def test_next_inside_the_panel_is_followed(app, client, auth):
    """Does `next=/family/` bring the user to the family list after sign-in?"""
    with app.app_context():
        make_user("district_worker", "returning")
    response = auth.login("returning", next_url="/family/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/family/"
    assert client.get(response.headers["Location"]).status_code == 200


# --- pages ----------------------------------------------------------------------------------


def test_stored_markup_is_shown_escaped(app, client, login_as):
    """Is HTML/JS stored in free-text fields (written straight to the database)
    shown as text on list, details, edit and audit pages, never as markup?"""
    login_as("admin")
    with app.app_context():
        family, mother, _child = f.family_with_members(
            surname=f"Иксэсовы{PAYLOAD}", address=f"ул. {PAYLOAD}", notes=PAYLOAD
        )
        mother.last_name = f"Иксэсова{PAYLOAD}"
        mother.health_notes = PAYLOAD
        f.consent(family, mother, scope=PAYLOAD)
        case = f.case(family, mother, outcome=PAYLOAD)
        f.visit(case, purpose=PAYLOAD)
        db.session.commit()
        ids = {"family": family.id, "person": mother.id, "case": case.id}
        audit_id = db.session.scalar(
            select(AuditRecord.id).where(
                AuditRecord.table_name == "family", AuditRecord.action == "insert"
            )
        )
    urls = [
        "/family/",
        "/person/",
        "/case/",
        "/consent/",
        "/visit/",
        "/family/?search=Иксэсовы",
        f"/audit_record/details/?id={audit_id}",
    ]
    for endpoint, row_id in ids.items():
        urls += [f"/{endpoint}/details/?id={row_id}", f"/{endpoint}/edit/?id={row_id}"]
    for url in urls:
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert "<script>alert(1)" not in body, url
        assert "&lt;script&gt;alert(1)" in body, url


def test_security_headers(app, client, login_as):
    """Do pages carry a nonce-based Content-Security-Policy (every script tag
    bearing that nonce), X-Frame-Options DENY, X-Content-Type-Options nosniff,
    and pages with personal data Cache-Control: no-store?"""
    anonymous = client.get("/login")
    login_as("coordinator")
    with app.app_context():
        family, mother, _child = f.family_with_members()
        db.session.commit()
        ids = {"family": family.id, "person": mother.id, "stem": family.surname[:4]}
    personal = [
        "/family/",
        f"/family/details/?id={ids['family']}",
        f"/family/edit/?id={ids['family']}",
        f"/person/details/?id={ids['person']}",
        f"/person/ajax/lookup/?name=family&query={ids['stem']}",
    ]
    nonces = set()
    for url in ["/", *personal]:
        response = client.get(url)
        assert response.status_code == 200, url
        csp = response.headers["Content-Security-Policy"]
        match = re.search(r"script-src ([^;]*)", csp)
        assert match and "'unsafe-inline'" not in match.group(1), csp
        nonce = re.search(r"'nonce-([^']+)'", match.group(1)).group(1)
        nonces.add(nonce)
        assert "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers.get("Cache-Control", ""), url
        for tag in re.findall(r"<script\b[^>]*>", response.get_data(as_text=True)):
            assert f'nonce="{nonce}"' in tag, (url, tag)
    assert len(nonces) == len(personal) + 1, "a nonce was reused"
    assert anonymous.headers["X-Frame-Options"] == "DENY"
    assert "nonce-" in anonymous.headers["Content-Security-Policy"]


def test_hsts_in_production_only(app, client, tmp_path):
    """With OPORA_ENV=production, does every answer carry Strict-Transport-Security
    (a year, subdomains too) — and in development (plain http) none?"""
    assert "Strict-Transport-Security" not in client.get("/login").headers
    script = (
        "from app import create_app; "
        "r = create_app().test_client().get('/login'); "
        "print(r.headers.get('Strict-Transport-Security'))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "OPORA_ENV": "production",
        "SECRET_KEY": "production-test-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    header = result.stdout.strip().splitlines()[-1]
    assert header.startswith("max-age=31536000"), result.stdout + result.stderr
    assert "includeSubDomains" in header


def test_last_login_is_audited_as_the_user(app, auth):
    """Is the sign-in's write of last_login_at recorded in the audit trail as
    the user who signed in, not «anonymous»?"""
    with app.app_context():
        user_id = make_user("district_worker", "stamped").id
    assert auth.login("stamped").status_code == 302
    with app.app_context():
        rows = [
            r
            for r in db.session.scalars(
                select(AuditRecord).where(
                    AuditRecord.table_name == "user_account", AuditRecord.action == "update"
                )
            )
            if "last_login_at" in (r.changes or {})
        ]
    assert len(rows) == 1
    assert (rows[0].username, rows[0].user_id) == ("stamped", user_id)
    assert rows[0].ip == "127.0.0.1"
