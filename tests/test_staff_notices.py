"""The bell in the navbar: a task newly assigned to me and my task that has become overdue
are notices until I mark them read; a task assigned before, or closed, is none."""

from __future__ import annotations

import datetime as dt

import factories as f
from conftest import csrf_token, make_user, signed_in

from models import Staff, User, db
from models.base import utcnow
from workflows import staff_notices
from workflows.dates import centre_today


def _tasks(staff_id: int) -> None:
    staff = db.session.get(Staff, staff_id)
    today = centre_today()
    fam = f.family()
    coordinator = f.user("coordinator").id
    fresh = f.task(
        fam, title="Консультация семьи Орловых", status="assigned", assignee=staff,
        due_date=today + dt.timedelta(days=3),
    )  # fmt: skip
    f.task_assignment(fresh, staff, assigned_at=utcnow(), assigned_by_id=coordinator)
    f.task(
        fam, title="Диагностика ребёнка", status="assigned", assignee=staff,
        due_date=today - dt.timedelta(days=1),
    )  # fmt: skip
    done = f.task(
        fam, title="Закрытая задача", status="done", assignee=staff,
        due_date=today - dt.timedelta(days=2), closed_at=utcnow(), result="сделано",
    )  # fmt: skip
    f.task_assignment(done, staff, assigned_at=utcnow(), assigned_by_id=coordinator)
    db.session.commit()


def test_the_bell_shows_new_and_overdue_tasks_until_marked_read(app):
    """Does the bell count one new assignment and one overdue task (not the closed one),
    link them to «Мои задачи», and show nothing after «Отметить прочитанными» — until a
    new assignment comes?"""
    with app.app_context():
        user = make_user("psychologist", "psy")
        staff_id = user.staff_id
        _tasks(staff_id)
    client = signed_in(app, "psy")
    page = client.get("/").get_data(as_text=True)
    assert 'id="bell-count">2<' in page
    assert "Вам назначена задача: Консультация семьи Орловых" in page
    assert "Просрочена задача (срок" in page and "Диагностика ребёнка" in page
    assert "Закрытая задача" not in page
    assert "/my_tasks/" in page
    token = csrf_token(client)
    answer = client.post("/notices/read", data={"csrf_token": token, "next": "/my_tasks/"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/my_tasks/")
    assert "Новых уведомлений нет" in client.get("/").get_data(as_text=True)
    with app.app_context():
        staff = db.session.get(Staff, staff_id)
        later = f.task(f.family(), title="Визит к Зайцевым", status="assigned", assignee=staff)
        f.task_assignment(later, staff, assigned_at=utcnow() + dt.timedelta(seconds=1))
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert 'id="bell-count">1<' in page and "Визит к Зайцевым" in page


def test_a_task_one_took_oneself_and_an_account_without_staff_have_no_notices(app_ctx):
    """Is a task I assigned myself no news, and has an account without a staff card no
    notices at all?"""
    user = make_user("coordinator", "coord")
    staff = db.session.get(Staff, user.staff_id)
    own = f.task(f.family(), status="assigned", assignee=staff, due_date=centre_today())
    f.task_assignment(own, staff, assigned_at=utcnow(), assigned_by_id=user.id)
    db.session.commit()
    assert staff_notices.notices_of(db.session, user, centre_today()) == []
    lone = User(username="lone", role="viewer", password_hash="x", active=True)
    assert staff_notices.notices_of(db.session, lone, centre_today()) == []
