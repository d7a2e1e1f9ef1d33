"""Does a session live on the server, so that what ends it there ends it everywhere?

The session cookie carries only a random session id; the database row
(user_session) says whether that session is still alive. Each test copies a
cookie into a second browser (a stolen cookie), ends the session the way a
user or the administrator would, and checks that the copy is refused too.
Times are moved by writing created_at / last_seen_at in the database.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import PASSWORD, Auth, csrf_token, make_user, signed_in
from flask_login.utils import encode_cookie
from security_factories import admin_form
from sqlalchemy import select, update

from app import create_app
from models import User, UserSession, db
from models.base import utcnow

NEW_PASSWORD = "ветер-над-волховом-42"


def _is_signed_out(client) -> bool:
    response = client.get("/family/")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _copy(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _sessions(app, username: str) -> list[UserSession]:
    with app.app_context():
        query = (
            select(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(User.username == username)
            .order_by(UserSession.created_at)
        )
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def _set_times(app, username: str, **times) -> None:
    """Move the user's live sessions in time (created_at, last_seen_at)."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(**times)
        )
        db.session.commit()


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app):
    """A cookie copied before «Выйти» opens pages until then; after sign-out is
    it refused, and is the session row marked revoked by the sign-out?"""
    with app.app_context():
        make_user("coordinator", "copied")
    browser = signed_in(app, "copied")
    thief = _copy(app, browser)
    assert thief.get("/family/").status_code == 200
    assert Auth(browser).logout().status_code == 302
    assert _is_signed_out(browser)
    assert _is_signed_out(thief), "a copied cookie outlived the sign-out"
    (row,) = _sessions(app, "copied")
    assert row.revoked_at is not None
    assert row.revoke_reason == "logout"


def test_the_cookie_holds_no_user_id_and_the_database_only_a_hash(app):
    """Is the session row keyed by a hash of the cookie's random id (a copy of
    the table opens no session), with the browser's address and user agent?"""
    with app.app_context():
        make_user("nurse", "hashed")
    browser = signed_in(app, "hashed")
    with app.test_request_context():
        data = app.session_interface.get_signing_serializer(app).loads(
            browser.get_cookie("session").value
        )
    token = data["_user_id"]
    assert len(token) >= 32
    (row,) = _sessions(app, "hashed")
    assert row.id != token and token not in row.id
    assert len(row.id) == 64
    assert row.ip == "127.0.0.1"
    assert row.user_agent is not None


def test_a_remember_cookie_does_not_bring_a_revoked_session_back(app):
    """Flask-Login signs in from a remember-me cookie when the session cookie is
    gone. Is a remember cookie made for a session that has since been signed
    out refused?"""
    with app.app_context():
        make_user("coordinator", "remembered")
    browser = signed_in(app, "remembered")
    with app.test_request_context():
        data = app.session_interface.get_signing_serializer(app).loads(
            browser.get_cookie("session").value
        )
        remember = encode_cookie(str(data["_user_id"]))
    Auth(browser).logout()
    revived = app.test_client()
    revived.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), remember)
    assert _is_signed_out(revived), "a remember cookie revived a signed-out session"


def test_own_password_change_refuses_the_old_cookie_and_keeps_this_browser(app):
    """After a user changes their password, is a copy of the cookie this very
    browser held before the change refused, while the browser itself goes on
    (with a new session)?"""
    with app.app_context():
        make_user("district_worker", "changer")
    browser = signed_in(app, "changer")
    thief = _copy(app, browser)
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    response = browser.post("/account/password", data={**form, "csrf_token": csrf_token(browser)})
    assert response.status_code == 302
    assert browser.get("/family/").status_code == 200
    assert _is_signed_out(thief)
    rows = _sessions(app, "changer")
    assert [r.revoke_reason for r in rows] == ["password_changed", None]


@pytest.mark.parametrize("change", ["disable", "new password"])
def test_admin_disabling_or_resetting_refuses_every_cookie_of_the_user(app, change):
    """When the administrator disables an account or sets it a new password,
    are both of the user's sessions (two browsers) and a copied cookie refused,
    and the rows revoked with the reason?"""
    with app.app_context():
        make_user("admin", "boss")
        user_id = make_user("district_worker", "leaver").id
    first, second = signed_in(app, "leaver"), signed_in(app, "leaver")
    thief = _copy(app, first)
    boss = signed_in(app, "boss")
    url = f"/user/edit/?id={user_id}"
    form = admin_form(boss.get(url).get_data(as_text=True))["fields"]
    if change == "disable":
        form.pop("active", None)
    else:
        form["new_password"] = NEW_PASSWORD
    assert boss.post(url, data={**form, "csrf_token": csrf_token(boss)}).status_code == 302
    for client in (first, second, thief):
        assert _is_signed_out(client)
    reason = "disabled" if change == "disable" else "password_changed"
    assert [r.revoke_reason for r in _sessions(app, "leaver")] == [reason, reason]
    assert boss.get("/family/").status_code == 200


def test_a_session_older_than_twelve_hours_ends_however_busy(app):
    """A session used every minute never idles out; does it still end 12 hours
    after sign-in (the row's created_at moved back), for its copy too?"""
    with app.app_context():
        make_user("coordinator", "busy")
    browser = signed_in(app, "busy")
    thief = _copy(app, browser)
    lifetime = app.config["SESSION_ABSOLUTE_LIFETIME"]
    assert lifetime == dt.timedelta(hours=12)
    now = utcnow()
    _set_times(app, "busy", created_at=now - lifetime + dt.timedelta(minutes=1), last_seen_at=now)
    assert browser.get("/family/").status_code == 200, "ended before 12 hours"
    _set_times(app, "busy", created_at=now - lifetime - dt.timedelta(minutes=1), last_seen_at=now)
    assert _is_signed_out(browser)
    assert _is_signed_out(thief)
    assert signed_in(app, "busy").get("/family/").status_code == 200


def test_absolute_lifetime_is_a_config_value(app):
    """Does a shorter SESSION_ABSOLUTE_LIFETIME end sessions sooner?"""
    with app.app_context():
        make_user("coordinator", "short")
    browser = signed_in(app, "short")
    app.config["SESSION_ABSOLUTE_LIFETIME"] = dt.timedelta(hours=2)
    try:
        _set_times(app, "short", created_at=utcnow() - dt.timedelta(hours=2, minutes=1))
        assert _is_signed_out(browser)
    finally:
        app.config["SESSION_ABSOLUTE_LIFETIME"] = dt.timedelta(hours=12)


def test_a_session_idle_for_thirty_minutes_is_refused_by_the_server(app):
    """Does the server refuse a session whose last request was 30 minutes ago,
    even when the cookie itself is fresh (a copy kept alive elsewhere), and
    accept one idle for 29 minutes?"""
    with app.app_context():
        make_user("coordinator", "idle")
    browser = signed_in(app, "idle")
    _set_times(app, "idle", last_seen_at=utcnow() - dt.timedelta(minutes=29))
    assert browser.get("/family/").status_code == 200
    _set_times(app, "idle", last_seen_at=utcnow() - dt.timedelta(minutes=30, seconds=5))
    assert _is_signed_out(browser)


def test_last_seen_is_written_at_most_once_a_minute(app):
    """Do requests within a minute leave last_seen_at alone (no write per
    request), and does a request a minute later move it forward?"""
    with app.app_context():
        make_user("coordinator", "seen")
    browser = signed_in(app, "seen")
    (row,) = _sessions(app, "seen")
    for _ in range(3):
        assert browser.get("/family/").status_code == 200
    (again,) = _sessions(app, "seen")
    assert again.last_seen_at == row.last_seen_at
    earlier = utcnow() - dt.timedelta(minutes=2)
    _set_times(app, "seen", last_seen_at=earlier)
    assert browser.get("/family/").status_code == 200
    (moved,) = _sessions(app, "seen")
    assert moved.last_seen_at.replace(tzinfo=dt.UTC) > earlier + dt.timedelta(minutes=1)


def test_two_app_servers_on_one_database_agree(app):
    """Two app instances (two create_app() on the same database, as two servers
    behind a balancer): does a session opened on one work on the other, and
    does signing out on the second end it on the first?"""
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"],
        }
    )
    try:
        with app.app_context():
            make_user("coordinator", "roaming")
        on_first = signed_in(app, "roaming")
        on_second = other.test_client()
        on_second.set_cookie("session", on_first.get_cookie("session").value)
        assert on_second.get("/family/").status_code == 200
        assert Auth(on_second).logout().status_code == 302
        assert _is_signed_out(on_first), "the first server still trusts the session"
        assert _is_signed_out(on_second)
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_disabled_account_straight_in_the_database_loses_its_session(app):
    """However an account is disabled (here straight in the database), is its
    open session refused at the next request?"""
    with app.app_context():
        user_id = make_user("nurse", "switched-off").id
    browser = signed_in(app, "switched-off")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert _is_signed_out(browser)
