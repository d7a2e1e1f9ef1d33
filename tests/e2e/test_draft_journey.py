"""An expired session never eats what was typed, in Chromium: the district worker writes
up a home visit, the session ends on the server while the page is open, «Выполнено» leads
to the sign-in page with a calm word, and after signing in the write-up is back in the
form — not saved until the worker presses the button again."""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from conftest import PASSWORD
from playwright.sync_api import expect
from sqlalchemy import func, select, update
from workflow_factories import active_case, specialist

from admin_views.drafts import KEPT, RESTORED
from models import Task, User, UserSession, Visit, db
from models.base import utcnow
from workflows.dates import centre_today

from .browser import english_on_screen, go, sign_in

pytestmark = pytest.mark.e2e

WRITE_UP = "Семья дома, в квартире чисто; ребёнок посещает школу, мать просит консультацию юриста."


def test_a_visit_write_up_survives_an_expired_session(app, page, screenshot):
    """Typed, the session expired on the server, «Выполнено», signed in again: is the
    write-up in the form with the notice, and nothing saved until pressed again?"""
    with app.app_context():
        area = f.district()
        worker = specialist("district_worker", (area,), username="uchastkovaya")
        case = active_case(area, lead=worker)
        task = f.task(
            case.family,
            case,
            title="Домашнее визитирование (патронаж) семьи",
            role="district_worker",
            status="assigned",
            assignee=worker,
            due_date=centre_today(),
        )
        db.session.commit()
        task_id = task.id

    sign_in(page, "uchastkovaya")
    page.goto(f"/my_tasks/{task_id}/")
    page.fill("#findings", WRITE_UP)
    page.fill("#result", "Визит проведён")

    with app.app_context():  # 31 minutes without a request, as far as the server knows
        user_id = db.session.scalar(select(User.id).where(User.username == "uchastkovaya"))
        back = utcnow() - dt.timedelta(minutes=31)
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id)
            .values(last_seen_at=back, created_at=back)
        )
        db.session.commit()

    go(page, page.locator("#complete"))
    expect(page.get_by_role("button", name="Войти")).to_be_visible()
    expect(page.locator(".alert", has_text=KEPT)).to_be_visible()
    problems = english_on_screen(page, "sign-in after the session ended")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0

    page.fill("input[name=username]", "uchastkovaya")
    page.fill("input[name=password]", PASSWORD)
    go(page, page.get_by_role("button", name="Войти"))
    expect(page.locator("#findings")).to_have_value(WRITE_UP)
    expect(page.locator("#result")).to_have_value("Визит проведён")
    expect(page.locator(".alert", has_text=RESTORED)).to_be_visible()
    screenshot(page, "draft-restored")
    problems += english_on_screen(page, "the restored form")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
        assert db.session.get(Task, task_id).status == "assigned"

    go(page, page.locator("#complete"))  # the worker saves it now
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        assert visit is not None and visit.findings == WRITE_UP
    assert problems == []
