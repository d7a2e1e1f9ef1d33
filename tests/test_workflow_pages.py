"""The workflow pages over HTTP: «Мои задачи», the coordinator's board, the ИПСС editor.

«Today» is pinned (each page module's centre_today) so the groups and figures are exact.
"""

from __future__ import annotations

import datetime as dt
import re

import factories as f
import pytest
from conftest import post_form, signed_in
from security_factories import row_ids
from sqlalchemy import select
from workflow_factories import TODAY, active_case, specialist

from admin_views import board, ipss, my_tasks
from models import Case, PlanRevision, Task, User, Visit, db
from workflows import board as board_model


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    for page in (my_tasks, board, ipss):
        monkeypatch.setattr(page, "centre_today", lambda: TODAY)


def section(page: str, element_id: str) -> str:
    """The HTML of the element with `element_id` (a table or block) up to its closing tag."""
    match = re.search(rf'id="{element_id}".*?</(table|p)>', page, re.S)
    return match.group(0) if match else ""


# --- «Мои задачи» -------------------------------------------------------------------------


@pytest.fixture
def my_world(app):
    """A psychologist with tasks due at every distance from today, and a colleague's task."""
    with app.app_context():
        me = specialist(last_name="Моя", username="me")
        other = specialist(last_name="Чужая")
        case = active_case()
        fam = case.family
        days = {"overdue": -3, "today": 0, "week": 1, "later": 30}
        ids = {}
        for key, offset in days.items():
            task = f.task(
                fam,
                case,
                title=f"Задача {key}",
                status="assigned",
                assignee=me,
                due_date=TODAY + dt.timedelta(days=offset),
            )
            ids[key] = task.id
        f.task(
            fam,
            case,
            title="Сделанная",
            status="done",
            assignee=me,
            closed_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        )
        stranger_case = active_case()
        theirs = f.task(
            stranger_case.family,
            stranger_case,
            title="Чужая тайна",
            status="assigned",
            assignee=other,
        )
        db.session.commit()
        return {"me": me.id, "ids": ids, "theirs": theirs.id, "case": case.id}


def test_my_tasks_are_grouped_by_due_date(app, client, my_world):
    """Does «Мои задачи» show overdue, today, this week and later (TODAY is a Monday),
    leave out done tasks and link each task's case?"""
    assert TODAY.weekday() == 0
    signed_in(app, "me", client=client)
    page = client.get("/my_tasks/").get_data(as_text=True)
    for key in ("overdue", "today", "week", "later"):
        assert f"Задача {key}" in section(page, f"tasks-{key}"), key
    assert "Сделанная" not in page and "Чужая тайна" not in page
    assert f'href="/case/details/?id={my_world["case"]}"' in page


def test_another_specialists_task_does_not_exist(app, client, my_world):
    """Does a colleague's task answer 404 to open, start or complete, and stay unchanged?"""
    signed_in(app, "me", client=client)
    theirs = my_world["theirs"]
    token_page = "/my_tasks/"
    assert client.get(f"/my_tasks/{theirs}/").status_code == 404
    assert post_form(client, f"/my_tasks/{theirs}/start", {}, token_page).status_code == 404
    response = post_form(client, f"/my_tasks/{theirs}/", {"result": "Сделано"}, token_page)
    assert response.status_code == 404
    assert "Чужая тайна" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Task, theirs).status == "assigned"


def test_start_and_complete_from_my_tasks(app, client, my_world):
    """Can the specialist take a task into work and complete it with a result in one form,
    and is an empty result refused next to the field?"""
    signed_in(app, "me", client=client)
    task_id = my_world["ids"]["today"]
    post_form(client, f"/my_tasks/{task_id}/start", {}, "/my_tasks/")
    with app.app_context():
        assert db.session.get(Task, task_id).status == "in_progress"
    refused = post_form(client, f"/my_tasks/{task_id}/", {"result": ""})
    assert 'id="error-result"' in refused.get_data(as_text=True)
    done = post_form(client, f"/my_tasks/{task_id}/", {"result": "Консультация проведена"})
    assert done.status_code == 302
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert (task.status, task.result) == ("done", "Консультация проведена")


def test_visit_task_records_the_visit(app, client):
    """Does completing a home-visit task from its page record the visit too?"""
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
        task_id, case_id = task.id, case.id
    signed_in(app, "worker", client=client)
    page = client.get(f"/my_tasks/{task_id}/").get_data(as_text=True)
    assert 'id="findings"' in page
    form = {
        "visited_on": TODAY.isoformat(),
        "findings": "Жилищные условия удовлетворительные",
        "next_visit_on": "",
        "result": "Визит проведён",
    }
    assert post_form(client, f"/my_tasks/{task_id}/", form).status_code == 302
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.case_id == case_id))
        assert visit.findings == "Жилищные условия удовлетворительные"


# --- the coordinator's board --------------------------------------------------------------


@pytest.fixture
def board_world(app):
    with app.app_context():
        area = f.district()
        busy = specialist("psychologist", last_name="Загруженная")
        specialist("psychologist", last_name="Свободная")
        fam = f.family(area)
        for offset in (-2, -1, 3):  # two overdue, one not
            f.task(fam, status="assigned", assignee=busy, due_date=TODAY + dt.timedelta(offset))
        new_psy = f.task(fam, title="Диагностика без исполнителя", due_date=TODAY)
        f.task(fam, title="Юрист нужен", role="lawyer")
        for days in (5, 10, 20, 40, -1):  # ends within 7, 14, 30, beyond 30, and past
            active_case(area, planned_end_date=TODAY + dt.timedelta(days))
        db.session.commit()
        return {"busy": busy.id, "new_psy": new_psy.id}


def test_board_figures(app, client, login_as, board_world):
    """Does the board show unassigned tasks by role, each specialist's open and overdue
    counts, and the cases ending within 30/14/7 days and past their end?"""
    login_as("coordinator")
    page = client.get("/board/").get_data(as_text=True)
    assert 'id="unassigned-total">2<' in page
    assert "Диагностика без исполнителя" in section(page, "unassigned-psychologist")
    assert "Юрист нужен" in section(page, "unassigned-lawyer")
    busy_row = re.search(rf'id="staff-{board_world["busy"]}".*?</tr>', page, re.S).group(0)
    assert re.search(r"data-open>3<", busy_row) and re.search(r"data-overdue>2<", busy_row)
    figures = {n: re.search(rf'id="ending-{n}">(\d+)<', page).group(1) for n in (30, 14, 7)}
    assert figures == {30: "3", 14: "2", 7: "1"}
    assert re.search(r'id="ending-past">1<', page)


def test_board_shows_the_most_urgent_unassigned_and_links_to_all(
    app, client, login_as, board_world, monkeypatch
):
    """With more unassigned tasks of a role than the board shows, are the most urgent
    shown and does «Все N задач» open the task list of exactly those tasks?"""
    monkeypatch.setattr(board_model, "UNASSIGNED_SHOWN", 2)
    with app.app_context():
        fam = db.session.get(Task, board_world["new_psy"]).family
        for days in (5, 6, 7):
            f.task(fam, title=f"Позже на {days}", due_date=TODAY + dt.timedelta(days))
        db.session.commit()
    login_as("coordinator")
    page = client.get("/board/").get_data(as_text=True)
    shown = section(page, "unassigned-psychologist")
    assert "Диагностика без исполнителя" in shown and "Позже на 5" in shown
    assert "Позже на 7" not in shown
    link = re.search(
        r'id="all-unassigned-psychologist" href="([^"]+)"|href="([^"]+)" id="all-unassigned-psychologist"',
        page,
    )
    url = (link.group(1) or link.group(2)).replace("&amp;", "&")
    listed = client.get(url).get_data(as_text=True)
    titles = ("Диагностика без исполнителя", "Позже на 5", "Позже на 6", "Позже на 7")
    assert all(title in listed for title in titles)
    assert "Юрист нужен" not in listed


def test_board_lists_the_earliest_ending_cases_and_links_to_all(
    app, client, login_as, board_world, monkeypatch
):
    """With more cases ending within 30 days than the board lists, are the earliest listed
    and does «Все N случаев» open the case list of exactly those cases?"""
    monkeypatch.setattr(board_model, "ENDING_SHOWN", 1)
    with app.app_context():
        ends = {
            (case.planned_end_date - TODAY).days: case.id
            for case in db.session.scalars(select(Case).where(Case.status == "active"))
        }
    login_as("coordinator")
    page = client.get("/board/").get_data(as_text=True)
    soon = section(page, "cases-soon")
    assert f'id="case-{ends[5]}"' in soon and f'id="case-{ends[10]}"' not in soon
    assert f'id="case-{ends[-1]}"' in section(page, "cases-past")
    assert 'id="all-cases-past"' not in page  # the one past case is listed
    link = re.search(r'href="([^"]+)" id="all-cases-soon">Все 3 случая', page)
    listed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert row_ids(listed, "case") == {ends[5], ends[10], ends[20]}


def test_board_offers_the_least_loaded_and_shows_the_most_overdue(
    app, client, login_as, board_world, monkeypatch
):
    """With few places, does a task offer the least loaded specialist and the workload
    table show the most overdue one, with the rest in the workload report?"""
    monkeypatch.setattr(board_model, "CANDIDATES_SHOWN", 1)
    monkeypatch.setattr(board, "WORKLOAD_SHOWN", 1)
    login_as("coordinator")
    page = client.get("/board/").get_data(as_text=True)
    options = re.search(
        rf'id="assign-staff-{board_world["new_psy"]}".*?</select>', page, re.S
    ).group(0)
    assert options.count("<option") == 1 and "Свободная" in options
    workload = section(page, "workload")
    assert f'id="staff-{board_world["busy"]}"' in workload and "Свободная" not in workload
    more = re.search(r'id="workload-more-psychologist">.*?</tr>', page, re.S).group(0)
    assert "Показаны 1 самых загруженных из 2" in more and "/reports/workload/" in more


def test_coordinator_assigns_from_the_board(app, client, login_as, board_world):
    """Does «Назначить» on the board give the task to the chosen specialist?"""
    login_as("coordinator")
    page = client.get("/board/").get_data(as_text=True)
    options = re.search(
        rf'id="assign-staff-{board_world["new_psy"]}".*?</select>', page, re.S
    ).group(0)
    first = re.search(r'value="(\d+)"', options).group(1)  # the least loaded comes first
    assert "Свободная" in options.split("</option>")[0]
    post_form(client, f"/board/assign/{board_world['new_psy']}", {"staff": first}, "/board/")
    with app.app_context():
        task = db.session.get(Task, board_world["new_psy"])
        assert (task.status, task.assignee_id) == ("assigned", int(first))


def test_board_is_the_coordinators(app, client, login_as):
    """Is the board closed (403) to a district worker?"""
    login_as("district_worker")
    assert client.get("/board/").status_code == 403


# --- the ИПСС editor ----------------------------------------------------------------------


@pytest.fixture
def plan_world(app):
    with app.app_context():
        area = f.district()
        specialist("psychologist", last_name="Психологова")
        service = f.service(name="Консультация психолога")
        case = active_case(area)
        other = active_case(f.district())
        db.session.commit()
        return {"area": area.id, "service": service.id, "case": case.id, "other": other.id}


def test_district_worker_writes_and_approves_the_plan(app, client, login_as, plan_world):
    """Can the district worker write the goal and an activity, see the revision, approve
    the plan and find the activity's task assigned to the psychologist?"""
    user = login_as("district_worker", districts=[plan_world["area"]])
    url = f"/ipss/{plan_world['case']}"
    form = {
        "goal": "Социальная адаптация ребёнка",
        "new-0-service": str(plan_world["service"]),
        "new-0-role": "psychologist",
        "new-0-planned_date": "2025-03-20",
        "version": "",
    }
    for n in (1, 2):
        form.update({f"new-{n}-service": "", f"new-{n}-role": "psychologist"})
        form[f"new-{n}-planned_date"] = ""
    assert post_form(client, url, form).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Консультация психолога — психолог, 20.03.2025" in page  # the revision
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    response = post_form(client, f"{url}/approve", {"version": version}, url)
    assert response.status_code == 302
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.case_id == plan_world["case"]))
        assert (task.status, task.due_date, task.assignee.last_name) == (
            "assigned",
            dt.date(2025, 3, 20),
            "Психологова",
        )
        revision = db.session.scalars(select(PlanRevision).order_by(PlanRevision.id)).all()[0]
        assert revision.changed_by_id == user.staff_id


def test_a_bad_date_is_refused_next_to_its_field(app, client, login_as, plan_world):
    """Is an activity dated after the end of the term refused next to its date, with
    nothing saved?"""
    login_as("district_worker", districts=[plan_world["area"]])
    url = f"/ipss/{plan_world['case']}"
    form = {
        "goal": "Цель",
        "new-0-service": str(plan_world["service"]),
        "new-0-role": "psychologist",
        "new-0-planned_date": "2025-12-01",
    }
    page = post_form(client, url, form).get_data(as_text=True)
    assert 'id="error-new-0-planned_date"' in page and "в пределах срока" in page
    with app.app_context():
        assert db.session.get(Case, plan_world["case"]).plan is None


def test_other_districts_plan_does_not_exist(app, client, login_as, plan_world):
    """Does another district's case answer 404 on the editor, its print and its approval?"""
    login_as("district_worker", districts=[plan_world["area"]])
    other = plan_world["other"]
    assert client.get(f"/ipss/{other}").status_code == 404
    assert client.get(f"/ipss/{other}/print").status_code == 404
    url = f"/ipss/{plan_world['case']}"
    assert post_form(client, f"/ipss/{other}/approve", {}, url).status_code == 404


def test_printable_ipss(app, client, login_as, plan_world):
    """Is the printable ИПСС a clean Russian page with the centre's name and the family,
    and without health data?"""
    app.config["CENTRE_NAME"] = "ГБУ «КЦСОН Тестового района»"
    try:
        login_as("coordinator")
        page = client.get(f"/ipss/{plan_world['case']}/print").get_data(as_text=True)
    finally:
        app.config["CENTRE_NAME"] = "Комплексный центр социального обслуживания населения"
    assert "ГБУ «КЦСОН Тестового района»" in page
    assert "Индивидуальная программа социального сопровождения" in page
    assert "Смирновы" in page and "print.css" in page
    assert "ребёнок-инвалид" not in page and "navbar" not in page


def test_monitoring_is_recorded_from_the_plan_page(app, client, login_as, plan_world):
    """Can the coordinator record a review with progress, feedback and effectiveness?"""
    login_as("coordinator")
    url = f"/ipss/{plan_world['case']}"
    form = {
        "held_on": "2025-03-05",
        "plan_progress": "Выполняется",
        "family_feedback": "Довольны",
        "effectiveness": "high",
    }
    assert post_form(client, f"{url}/review", form, url).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Довольны" in section(page, "reviews") and "высокая" in section(page, "reviews")


# --- reassignment, the plain task form, who may open what ------------------------------------


def test_coordinator_reassigns_with_a_reason(app, client, login_as, board_world):
    """Does the board's task page refuse a reassignment without a reason next to the
    field, and with one move the task and show both names in the history?"""
    login_as("coordinator")
    with app.app_context():
        task = db.session.scalar(
            select(Task).where(Task.assignee_id == board_world["busy"]).limit(1)
        )
        f.task_assignment(task, task.assignee, reason="Автоназначение")
        free = db.session.scalar(
            select(User.staff_id)
            .join(User.staff)
            .where(User.role == "psychologist", User.staff_id != board_world["busy"])
        )
        db.session.commit()
        url, version = f"/board/task/{task.id}", task.version
    form = {"do": "reassign", "staff": str(free), "reason": "", "version": str(version)}
    refused = post_form(client, url, form).get_data(as_text=True)
    assert 'id="error-reason"' in refused and "причину" in refused
    form["reason"] = "Отпуск специалиста"
    assert post_form(client, url, form).status_code == 302
    history = section(client.get(url).get_data(as_text=True), "history")
    assert "Загруженная" in history and "Свободная" in history and "Отпуск специалиста" in history


def test_plain_task_form_cannot_set_status_or_assignee(app, client, login_as):
    """Does the plain task form leave status, assignee and result to the workflow — a
    task created there is auto-assigned, and a posted status is ignored?"""
    login_as("coordinator")
    with app.app_context():
        psychologist = specialist("psychologist")
        fam = f.family()
        db.session.commit()
        family_id, psychologist_id = fam.id, psychologist.id
    page = client.get("/task/new/").get_data(as_text=True)
    assert 'name="status"' not in page and 'name="assignee"' not in page
    for endpoint in ("support_plan", "plan_activity"):  # written only in the ИПСС editor
        refused = client.get(f"/{endpoint}/new/")
        assert refused.status_code == 302 and "/new/" not in refused.location, endpoint
    form = {
        "family": str(family_id),
        "title": "Позвонить семье",
        "role": "psychologist",
        "due_date": "2025-03-20",
        "status": "done",
        "result": "Сделано",
    }
    post_form(client, "/task/new/", form)
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.title == "Позвонить семье"))
        assert (task.status, task.assignee_id, task.result) == (
            "assigned",
            psychologist_id,
            None,
        )


@pytest.mark.parametrize("role", ["viewer", "rental_clerk", "admin"])
def test_workflow_pages_are_closed_to_roles_without_tasks(client, login_as, role):
    """Are «Мои задачи» and the board closed (403) to roles that hold no tasks?"""
    login_as(role)
    assert client.get("/my_tasks/").status_code == 403
    assert client.get("/board/").status_code == 403
    assert client.get("/ipss/").status_code == (200 if role == "admin" else 403)


def test_a_second_scheduled_review_is_refused_in_russian(app, client, login_as):
    """Is a second not-yet-held review of a case, added in the plain form, refused with
    a Russian message rather than an error page?"""
    login_as("coordinator")
    with app.app_context():
        case = active_case()
        f.review(case, due_on=dt.date(2025, 3, 1), held_on=None)
        db.session.commit()
        case_id = case.id
    form = {"case": str(case_id), "due_on": "2025-04-01"}
    page = post_form(client, "/review/new/", form).get_data(as_text=True)
    assert "уже запланирован мониторинг" in page
