"""Is a task that names a step of the case («Провести оценку…», «…получить согласие»,
«Заключить договор», «Провести мониторинг») done by that step and never by a line of text?"""

from __future__ import annotations

import factories as f
import pytest
from conftest import csrf_token, signed_in
from sqlalchemy import select
from workflow_factories import TODAY, active_case, specialist

from models import Task, User, db
from models.cases import LIFE_DOMAIN
from workflows import cases as wf
from workflows import tasks as t
from workflows.consent import record_consent
from workflows.errors import WorkflowError
from workflows.reviews import hold_review

LEVELS = {domain: ("medium", "") for domain in LIFE_DOMAIN.codes}


def account(staff) -> User:
    return db.session.scalar(select(User).where(User.staff_id == staff.id))


def application_case(area, lead=None):
    family, mother, _child = f.family_with_members(district_row=area)
    f.consent(family, mother)
    return f.case(
        family,
        mother,
        status="application",
        decision_date=None,
        contract_number=None,
        contract_date=None,
        start_date=None,
        planned_end_date=None,
        lead_worker=lead,
    )


def step_task(case_or_family, title, worker):
    family_id = getattr(case_or_family, "family_id", None) or case_or_family.id
    case_id = case_or_family.id if hasattr(case_or_family, "family_id") else None
    return t.create_task(
        db.session,
        family_id=family_id,
        case_id=case_id,
        title=title,
        role=worker.role,
        due_date=TODAY,
        today=TODAY,
        assignee=worker,
    )


def test_the_words_of_a_title_name_the_step():
    """Which titles name which step, and which name none?"""
    assert t.step_of("Провести оценку индивидуальных потребностей семьи") == "assessment"
    assert t.step_of("Провести оценку потребностей") == "assessment"
    assert (
        t.step_of(
            "Проверить сведения о семье по сообщению партнёра, получить согласие на обработку ПДн"
        )
        == "consent"
    )
    assert t.step_of("Заключить договор с семьёй") == "contract"
    assert t.step_of("Провести мониторинг случая № 4") == "review"
    assert t.step_of("Консультация психолога") is None
    assert t.step_of("Провести оценку потребностей", activity_id=3) is None  # an ИПСС activity
    assert t.step_of("Напомнить", source_key="review:5") == "review"


def test_an_assessment_task_is_done_by_the_assessment(app_ctx):
    """Does free text refuse an assessment task while the case is unassessed, and does
    recording the assessment close it as done?"""
    area = f.district()
    worker = specialist("district_worker", (area,))
    case = application_case(area, worker)
    task = step_task(case, "Провести оценку потребностей семьи", worker)
    user = account(worker)
    with pytest.raises(WorkflowError, match="шагом «оценка потребностей»"):
        t.complete_task(db.session, task.id, user, "Оценка проведена", TODAY)
    assert task.status == "assigned"
    wf.record_assessment(db.session, user, case, levels=LEVELS, assessed_on=TODAY, today=TODAY)
    db.session.refresh(task)
    assert task.status == "done"
    assert task.result == f"Оценка потребностей записана {TODAY:%d.%m.%Y}."


def test_a_contract_task_is_done_by_the_contract(app_ctx):
    """Is «Заключить договор» closed by signing the contract, and refused on text before?"""
    area = f.district()
    worker = specialist("district_worker", (area,))
    case = application_case(area, worker)
    user = account(worker)
    wf.record_assessment(db.session, user, case, levels=LEVELS, assessed_on=TODAY, today=TODAY)
    task = step_task(case, "Заключить договор на социальное обслуживание", worker)
    with pytest.raises(WorkflowError, match="«Перейти к шагу»"):
        t.complete_task(db.session, task.id, user, "Договор заключён", TODAY)
    wf.sign_contract(
        db.session,
        user,
        case,
        decision_date=TODAY,
        contract_number="Д-77",
        contract_date=TODAY,
        start_date=TODAY,
        planned_end_date=None,
        lead_worker=worker,
        today=TODAY,
    )
    db.session.refresh(task)
    assert (task.status, task.result) == ("done", f"Договор № Д-77 от {TODAY:%d.%m.%Y} заключён.")


def test_a_consent_task_is_done_by_the_consent(app_ctx):
    """Is «…получить согласие» of a family without a case closed when the consent is
    recorded, and refused on text while there is none?"""
    area = f.district()
    worker = specialist("district_worker", (area,))
    family, mother, _child = f.family_with_members(district_row=area)
    task = step_task(
        family, "Проверить сведения о семье, получить согласие на обработку ПДн", worker
    )
    with pytest.raises(WorkflowError, match="согласие на обработку"):
        t.complete_task(db.session, task.id, account(worker), "Согласие есть", TODAY)
    record_consent(db.session, family, mother, TODAY, today=TODAY)
    db.session.refresh(task)
    assert task.status == "done"


def test_a_review_task_named_by_its_title_is_done_by_the_review(app_ctx):
    """Is a coordinator's «Провести мониторинг» task (no scheduler key) closed by the review?"""
    area = f.district()
    worker = specialist("district_worker", (area,))
    case = active_case(area, lead=worker)
    task = step_task(case, "Провести мониторинг случая", worker)
    user = account(worker)
    with pytest.raises(WorkflowError, match="мониторинг"):
        t.complete_task(db.session, task.id, user, "Проведён", TODAY)
    hold_review(db.session, case.id, user, TODAY, "Выполняется", "", "high", TODAY)
    db.session.refresh(task)
    assert task.status == "done"


def test_a_step_already_done_lets_the_task_be_closed(app_ctx):
    """A task left open after its step was done some other way closes with its result."""
    area = f.district()
    worker = specialist("district_worker", (area,))
    case = active_case(area, lead=worker)
    task = step_task(case, "Провести оценку потребностей", worker)
    t.complete_task(db.session, task.id, account(worker), "Оценка была проведена", TODAY)
    assert task.status == "done"


def test_my_tasks_leads_to_the_step_and_refuses_free_text(app):
    """Does «Мои задачи» offer «Перейти к шагу» (the case's assessment page), the task page
    the same, and the free-text close refuse in Russian, leaving the task open?"""
    with app.app_context():
        area = f.district()
        worker = specialist("district_worker", (area,), username="worker")
        case = application_case(area, worker)
        task = step_task(case, "Провести оценку потребностей семьи", worker)
        db.session.commit()
        task_id, case_id = task.id, case.id
    client = signed_in(app, "worker")
    listing = client.get("/my_tasks/").get_data(as_text=True)
    assert f'id="step-{task_id}" href="/case_flow/{case_id}/assessment"' in listing
    assert "Перейти к шагу" in listing and f'id="complete-{task_id}"' not in listing
    page = client.get(f"/my_tasks/{task_id}/").get_data(as_text=True)
    assert 'id="go-to-step"' in page and 'id="complete-form"' not in page
    answer = client.post(
        f"/my_tasks/{task_id}/",
        data={"csrf_token": csrf_token(client, "/my_tasks/"), "result": "Сделано"},
    )
    assert answer.status_code == 200
    with app.app_context():
        assert db.session.get(Task, task_id).status == "assigned"
    body = answer.get_data(as_text=True)
    assert "Перейти к шагу" in body and "выполняется шагом «оценка потребностей»" in body
