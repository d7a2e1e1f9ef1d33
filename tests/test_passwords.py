"""Are weak passwords refused wherever a password is set, and must a password the
administrator set be changed at the first sign-in?

The rule (workflows/accounts.password_problem): at least 10 characters, not
the login, not the centre's name (nor its words with a guessable rest), and
not guessable (zxcvbn, on what was typed and on the same keys read in the
other keyboard layout). Each refusal
is a Russian message next to the field.
"""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD, Auth, csrf_token, make_user, signed_in
from security_factories import admin_form
from sqlalchemy import select

from models import User, db
from workflows import accounts

GOOD = "ветер-над-волховом-42"
CENTRE = "Комплексный центр социального обслуживания населения"

WEAK = {
    "the login": ("kuznetsova", "kuznetsova2024", accounts.CONTAINS_LOGIN),
    "the login, other case": ("kuznetsova", "Kuznetsova!!77", accounts.CONTAINS_LOGIN),
    "the centre's name": ("kuznetsova", CENTRE, accounts.CONTAINS_CENTRE),
    "the centre's initials": ("kuznetsova", "КЦСОН-2024-нов", accounts.CONTAINS_CENTRE),
    "the initials typed in the latin layout": (
        "kuznetsova",
        "rwcjy-2024!",
        accounts.CONTAINS_CENTRE,
    ),
    "a word of the centre's name and digits": (
        "kuznetsova",
        "Обслуживание2024",
        accounts.CONTAINS_CENTRE,
    ),
    "«центр» typed in the latin layout": ("kuznetsova", "wtynh-12345", accounts.CONTAINS_CENTRE),
    "a top password": ("kuznetsova", "qwertyuiop", accounts.COMMON_PASSWORD),
    "digits in a row": ("kuznetsova", "1234567890", accounts.COMMON_PASSWORD),
    "password123": ("kuznetsova", "password123", accounts.COMMON_PASSWORD),
    "«пароль» in the latin layout": ("kuznetsova", "gfhjkm12345", accounts.COMMON_PASSWORD),
    "«qwerty» in the russian layout": ("kuznetsova", "йцукенгшщз", accounts.COMMON_PASSWORD),
    "«пароль»": ("kuznetsova", "Пароль12345", accounts.COMMON_PASSWORD),
    "one letter repeated": ("kuznetsova", "ааааааааааааа", accounts.TOO_SIMPLE),
    "too short": ("kuznetsova", "Ab3$kq", accounts.TOO_SHORT),
}
STRONG = (
    "ветер-над-волховом-42",
    "Незабудка-2019",
    "correct horse battery",
    "x7#Lq9!vTz2m",
    "социальный-работник-77",  # a word of the centre's name with a strong rest
)


def _feedback(body: str) -> list[str]:
    return [m.strip() for m in re.findall(r'class="invalid-feedback">([^<]*)<', body)]


@pytest.mark.parametrize("case", WEAK, ids=list(WEAK))
def test_weak_passwords_are_named_in_russian(app_ctx, case):
    """Does the rule refuse each kind of weak password with its Russian reason?"""
    username, password, message = WEAK[case]
    assert accounts.password_problem(password, username, CENTRE) == message
    assert re.search("[а-яё]", message)


@pytest.mark.parametrize("password", STRONG)
def test_strong_passwords_pass(app_ctx, password):
    """Do long, unguessable passwords (Russian ones too) pass the rule?"""
    assert accounts.password_problem(password, "kuznetsova", CENTRE) is None


def test_a_very_long_password_is_judged_not_refused(app_ctx):
    """A password longer than zxcvbn measures (72) is judged on its beginning
    rather than crashing the form."""
    assert accounts.password_problem("ъ" * 40 + "q7#" * 30, "user", CENTRE) is None
    assert accounts.password_problem("a" * 200, "user", CENTRE) == accounts.TOO_SIMPLE


def test_own_password_change_refuses_weak_passwords_next_to_the_field(app, client, login_as):
    """On «Смена пароля», is each weak password refused with its Russian
    message under the new-password field, and the hash left as it was?"""
    user = login_as("social_worker", "kuznetsova")
    with app.app_context():
        old_hash = db.session.get(User, user.id).password_hash
    token = csrf_token(client)
    for password, message in (
        ("kuznetsova2024", accounts.CONTAINS_LOGIN),
        ("1234567890", accounts.COMMON_PASSWORD),
        (app.config["CENTRE_NAME"], accounts.CONTAINS_CENTRE),
        (PASSWORD, accounts.SAME_PASSWORD),
    ):
        data = {"current": PASSWORD, "new": password, "repeat": password, "csrf_token": token}
        response = client.post("/account/password", data=data)
        assert response.status_code == 200, password
        assert message in _feedback(response.get_data(as_text=True)), password
    with app.app_context():
        assert db.session.get(User, user.id).password_hash == old_hash


def _user_form(client, url: str, **values) -> dict:
    form = admin_form(client.get(url).get_data(as_text=True))
    fields = {**form["fields"], **values}
    if "__None" in form["options"].get("staff", ()):
        fields.setdefault("staff", "__None")
    fields["csrf_token"] = csrf_token(client)
    return fields


def test_admin_cannot_set_a_weak_password(app, client, login_as):
    """Creating an account or setting a new password in «Учётные записи»: is a
    weak one refused with the Russian reason, and nothing written?"""
    login_as("admin", "boss")
    create = _user_form(
        client,
        "/user/new/",
        username="petrova",
        role="lawyer",
        active="y",
        new_password="petrova-2024",
    )
    body = client.post("/user/new/", data=create).get_data(as_text=True)
    assert accounts.CONTAINS_LOGIN in body
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "petrova")) is None
        target = make_user("lawyer", "sidorova")
        target_id, old_hash = target.id, target.password_hash
    url = f"/user/edit/?id={target_id}"
    body = client.post(url, data=_user_form(client, url, new_password="qwertyuiop")).get_data(
        as_text=True
    )
    assert accounts.COMMON_PASSWORD in body
    with app.app_context():
        assert db.session.get(User, target_id).password_hash == old_hash


def test_create_user_command_refuses_a_weak_password(app, runner):
    """Does `flask create-user` refuse a common password in Russian?"""
    result = runner.invoke(
        args=["create-user", "first-admin", "--role", "admin", "--password", "1234567890"]
    )
    assert result.exit_code != 0
    assert accounts.COMMON_PASSWORD in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "first-admin")) is None


def _must_change(client) -> None:
    for url in ("/", "/family/", "/user/", "/reports/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/account/password"), url
    page = client.get("/account/password").get_data(as_text=True)
    assert "Смените пароль" in page


@pytest.mark.parametrize("how", ["new account", "reset"])
def test_a_password_the_admin_set_must_be_changed_at_first_sign_in(app, client, login_as, how):
    """A password the administrator set (a new account, or a reset) is
    temporary: until the user sets their own, does every page send them to
    «Смените пароль», and after the change do pages open again?"""
    login_as("admin", "boss")
    boss = client
    if how == "new account":
        fields = _user_form(
            boss, "/user/new/", username="novice", role="coordinator", active="y", new_password=GOOD
        )
        assert boss.post("/user/new/", data=fields).status_code == 302
    else:
        with app.app_context():
            user_id = make_user("coordinator", "novice").id
        url = f"/user/edit/?id={user_id}"
        assert boss.post(url, data=_user_form(boss, url, new_password=GOOD)).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "novice")).must_change_password

    novice = app.test_client()
    assert Auth(novice).login("novice", GOOD).status_code == 302
    _must_change(novice)
    token = csrf_token(novice, "/account/password")
    same = {"current": GOOD, "new": GOOD, "repeat": GOOD, "csrf_token": token}
    refused = novice.post("/account/password", data=same)
    assert accounts.SAME_PASSWORD in _feedback(refused.get_data(as_text=True))
    _must_change(novice)

    own = "сосны-у-реки-Мсты-7"
    data = {"current": GOOD, "new": own, "repeat": own, "csrf_token": token}
    assert novice.post("/account/password", data=data).status_code == 302
    assert novice.get("/family/").status_code == 200
    with app.app_context():
        assert not db.session.scalar(
            select(User).where(User.username == "novice")
        ).must_change_password
    assert boss.get("/user/").status_code == 200


def test_signing_out_is_open_while_the_password_must_change(app, login_as):
    """A user with a temporary password can still sign out."""
    with app.app_context():
        user = make_user("coordinator", "leaving")
        user.must_change_password = True
        db.session.commit()
    client = signed_in(app, "leaving")
    token = csrf_token(client, "/account/password")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/family/").headers["Location"].startswith("/login")
