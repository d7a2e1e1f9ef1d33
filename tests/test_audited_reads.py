"""Is every reading of a page with a family's personal or health data in the audit trail?

Each page's GET leaves exactly one audit row — «view», naming the user, the page (its
endpoint) and the row — through the one helper admin_views.openings.record_opening; a
refused opening (404) and a POST leave no «view» row.
"""

from __future__ import annotations

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from sqlalchemy import select

from models import AuditRecord, User, db
from workflows.centre import centre_settings

# (who opens it, endpoint, url with {ids}, the row's table, the seeded row it names)
PAGES = (
    (
        "coordinator",
        "assessment.details_view",
        "/assessment/details/?id={assessment}",
        "assessment",
        "assessment",
    ),
    (
        "coordinator",
        "assessment.edit_view",
        "/assessment/edit/?id={assessment}",
        "assessment",
        "assessment",
    ),
    ("coordinator", "visit.details_view", "/visit/details/?id={visit}", "visit", "visit"),
    ("coordinator", "visit.edit_view", "/visit/edit/?id={visit}", "visit", "visit"),
    ("coordinator", "case_flow.assessment", "/case_flow/{case}/assessment", "support_case", "case"),
    ("coordinator", "intake.family", "/intake/family/{family}", "family", "family"),
    (
        "rental_clerk",
        "rental_desk.family_view",
        "/rental_desk/family/{family}/",
        "family",
        "family",
    ),
    ("rental_clerk", "rental_desk.act_view", "/rental_desk/loan/{loan}/act/", "loan", "loan"),
    ("coordinator", "rental_desk.family_view", "/rental_desk/family/{family}/", "family", "family"),
    # The pages audited before, now through the same helper.
    ("coordinator", "family.details_view", "/family/details/?id={family}", "family", "family"),
    ("coordinator", "person.details_view", "/person/details/?id={child}", "person", "child"),
    ("coordinator", "case.details_view", "/case/details/?id={case}", "support_case", "case"),
    ("coordinator", "ipss.plan", "/ipss/{case}", "support_case", "case"),
    ("coordinator", "ipss.print_view", "/ipss/{case}/print", "support_case", "case"),
)


@pytest.fixture
def seeded(app):
    """A family in its case's assessment step, with a visit, a plan and a loan; a
    coordinator and a rental clerk."""
    with app.app_context():
        family, mother, child = f.family_with_members()
        f.consent(family, mother)
        case = f.case(
            family,
            mother,
            status="assessment",
            decision_date=None,
            contract_number=None,
            contract_date=None,
            start_date=None,
            planned_end_date=None,
        )
        assessment = f.assessment(case, domain="medical", need_level="high")
        visit = f.visit(case, findings="Находки визита")
        f.support_plan(case)
        loan = f.loan(f.equipment_unit(status="on_loan"), family, child)
        users = {role: make_user(role).id for role in ("coordinator", "rental_clerk")}
        centre_settings(db.session)  # made (and audited) once, before the readings counted
        db.session.commit()
        return {
            "family": family.id,
            "child": child.id,
            "case": case.id,
            "assessment": assessment.id,
            "visit": visit.id,
            "loan": loan.id,
            "users": users,
        }


def audit_rows(app, after: int) -> list[AuditRecord]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditRecord).where(AuditRecord.id > after).order_by(AuditRecord.id)
        ).all()
        db.session.expunge_all()
        return rows


def last_audit_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(AuditRecord.id).order_by(AuditRecord.id.desc())) or 0


@pytest.mark.parametrize(
    ("role", "endpoint", "url", "table", "key"), PAGES, ids=[f"{p[0]}-{p[1]}" for p in PAGES]
)
def test_each_reading_leaves_one_audit_row(app, seeded, role, endpoint, url, table, key):
    """Does one GET of the page leave exactly one audit row — a «view» by the user,
    naming the page and the row — and a GET of a row that does not exist none?"""
    client = signed_in(app, role)
    before = last_audit_id(app)
    response = client.get(url.format(**seeded))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    rows = audit_rows(app, before)
    assert len(rows) == 1, [(r.action, r.table_name, r.changes) for r in rows]
    (row,) = rows
    with app.app_context():
        username = db.session.get(User, seeded["users"][role]).username
    assert (row.action, row.user_id, row.username) == ("view", seeded["users"][role], username)
    assert (row.table_name, row.row_id) == (table, str(seeded[key]))
    assert row.changes == {"page": endpoint}

    missing = {key: 999999 for key in ("assessment", "visit", "case", "family", "child", "loan")}
    before = last_audit_id(app)
    assert client.get(url.format(**missing)).status_code == 404
    assert audit_rows(app, before) == []


def test_a_refused_post_is_no_reading(app, seeded):
    """Does a refused POST of the intake family page (no applicant sent), which shows
    the page again, leave no «view» row? The GET that showed the page recorded the
    reading; a change is the flush hook's to record."""
    client = signed_in(app, "coordinator")
    url = f"/intake/family/{seeded['family']}"
    token = csrf_token(client, url)
    before = last_audit_id(app)
    response = client.post(url, data={"application_date": "2025-01-20", "csrf_token": token})
    assert response.status_code == 200
    assert "Новое обращение: семья" in response.get_data(as_text=True)  # shown again
    assert audit_rows(app, before) == []
