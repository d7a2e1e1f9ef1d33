"""Staff who leave, and their login accounts: archiving a member of staff disables their
account and ends its sessions; restoring the staff row does not bring the account back —
re-enabling it is the administrator's own act («Включить»), with its line in the audit
trail; nobody archives their own staff card.
"""

from __future__ import annotations

from conftest import Auth, csrf_token, make_user, signed_in
from security_factories import flashes, snapshot
from sqlalchemy import select

from admin_views.reference import ACCOUNT_DISABLED, STILL_DISABLED
from models import AuditRecord, Staff, User, UserSession, db
from workflows.accounts import OWN_STAFF_CARD


def _archive(client, endpoint: str, row_id: int):
    data = {"id": row_id, "csrf_token": csrf_token(client)}
    return client.post(f"/{endpoint}/delete/", data=data, follow_redirects=True)


def _act(client, endpoint: str, name: str, row_id: int, query: str = ""):
    data = {"action": name, "rowid": str(row_id), "csrf_token": csrf_token(client)}
    return client.post(f"/{endpoint}/action/{query}", data=data, follow_redirects=True)


def _is_signed_out(client) -> bool:
    response = client.get("/family/")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _audit_of_account(app, user_id: int) -> list[tuple[str, dict]]:
    """(who, changes) of each audited update of the account, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.table_name == "user_account",
                AuditRecord.row_id == str(user_id),
                AuditRecord.action == "update",
            )
            .order_by(AuditRecord.id)
        ).all()
        return [(r.username, r.changes or {}) for r in rows]


def _active_change(changes: dict) -> tuple | None:
    change = changes.get("active")
    return None if change is None else (change["old"], change["new"])


def test_archiving_staff_disables_their_account_and_ends_its_sessions(app):
    """When the administrator archives a member of staff who is signed in, is their
    account disabled (the audit naming the administrator), every session of it ended
    with the reason, the staff row marked as not working — and the page saying so?"""
    with app.app_context():
        make_user("admin", "staff_admin")
        leaver = make_user("psychologist", "leaver_p", last_name="Уходящая")
        ids = {"user": leaver.id, "staff": leaver.staff_id}
    browser, other = signed_in(app, "leaver_p"), signed_in(app, "leaver_p")
    admin = signed_in(app, "staff_admin")
    page = _archive(admin, "staff", ids["staff"]).get_data(as_text=True)
    assert ACCOUNT_DISABLED.format(username="leaver_p") in flashes(page)
    assert snapshot(app, User, ids["user"])["active"] is False
    staff = snapshot(app, Staff, ids["staff"])
    assert staff["archived_at"] is not None and staff["active"] is False
    assert _is_signed_out(browser) and _is_signed_out(other)
    with app.app_context():
        reasons = db.session.scalars(
            select(UserSession.revoke_reason).where(UserSession.user_id == ids["user"])
        ).all()
    assert reasons == ["disabled", "disabled"]
    assert ("staff_admin", (True, False)) in [
        (who, _active_change(changes)) for who, changes in _audit_of_account(app, ids["user"])
    ]
    refused = Auth(app.test_client()).login("leaver_p")
    assert refused.status_code == 401  # the sign-in form again, with its refusal


def test_restoring_staff_leaves_the_account_disabled_until_the_admin_enables_it(app):
    """Does «Восстановить» on an archived member of staff bring the row back but neither
    their «Работает» nor their account — saying so and how to re-enable it — while the
    administrator's «Включить» on the account, a separate act with its own audit line,
    lets them sign in again?"""
    with app.app_context():
        make_user("admin", "restore_admin")
        leaver = make_user("social_worker", "leaver_s", last_name="Вернувшаяся")
        ids = {"user": leaver.id, "staff": leaver.staff_id}
    admin = signed_in(app, "restore_admin")
    _archive(admin, "staff", ids["staff"])
    page = _act(admin, "staff", "restore", ids["staff"], query="?archive=1").get_data(as_text=True)
    messages = flashes(page)
    assert "Восстановлено из архива: 1." in messages
    assert any(
        m == STILL_DISABLED.format(staff="Вернувшаяся Мария Петровна", username="leaver_s")
        for m in messages
    ), messages
    staff = snapshot(app, Staff, ids["staff"])
    assert staff["archived_at"] is None and staff["active"] is False
    assert snapshot(app, User, ids["user"])["active"] is False
    assert Auth(app.test_client()).login("leaver_s").status_code == 401
    updates_before = len(_audit_of_account(app, ids["user"]))

    page = _act(admin, "user", "enable", ids["user"]).get_data(as_text=True)
    assert "Включено учётных записей: 1." in flashes(page)
    assert snapshot(app, User, ids["user"])["active"] is True
    audit = _audit_of_account(app, ids["user"])
    assert len(audit) == updates_before + 1
    assert (audit[-1][0], _active_change(audit[-1][1])) == ("restore_admin", (False, True))
    signed_in(app, "leaver_s")


def test_nobody_archives_their_own_staff_card(app):
    """Is the administrator's «В архив» on their own staff card refused with the reason,
    their card and account left as they were?"""
    with app.app_context():
        admin_user = make_user("admin", "self_admin")
        ids = {"user": admin_user.id, "staff": admin_user.staff_id}
    admin = signed_in(app, "self_admin")
    before = snapshot(app, Staff, ids["staff"])
    page = _archive(admin, "staff", ids["staff"]).get_data(as_text=True)
    assert OWN_STAFF_CARD in flashes(page)
    assert snapshot(app, Staff, ids["staff"]) == before
    assert snapshot(app, User, ids["user"])["active"] is True
    assert admin.get("/family/").status_code == 200


def test_a_staff_member_without_an_account_is_archived_quietly(app):
    """Is a member of staff with no login account archived without a word about one?"""
    import factories as f

    with app.app_context():
        make_user("admin", "quiet_admin")
        partner_specialist = f.staff(role="lawyer", last_name="Приглашённая")
        db.session.commit()
        staff_id = partner_specialist.id
    page = _archive(signed_in(app, "quiet_admin"), "staff", staff_id).get_data(as_text=True)
    messages = flashes(page)
    assert "Запись перенесена в архив." in messages
    assert not any("Учётная запись" in m for m in messages), messages
