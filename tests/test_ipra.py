"""The child's ИПРА: its rules in the database, the health right and the row scope, the
proposals the worker confirms (once), the tick's tasks and the family's messages, the
case page's warning, and every role's pages without a server error.
"""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from workflow_factories import TODAY, active_case, specialist

from admin_views.permissions import allowed
from models import (
    ROLE,
    Case,
    District,
    Message,
    PlanActivity,
    PlanRevision,
    RehabProgramme,
    Reservation,
    Task,
    User,
    db,
)
from models.constraints import integrity_message
from models.roles import policy
from workflows import rehab
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.schedule import run_tick
from workflows.scope import where_visible


def account(staff) -> User:
    return db.session.scalar(select(User).where(User.staff_id == staff.id))


def child_of(case):
    return next(p for p in case.family.members if p.relation == "child")


@pytest.fixture
def world(app_ctx):
    """A district worker leading an active case; the child's ИПРА with a
    psychological-pedagogical and a medical measure, a ТСР the Fund provides and one
    it does not (a type of the rental point, outside the guaranteed list)."""
    area = f.district()
    worker = specialist("district_worker", (area,), last_name="Участковая")
    case = active_case(area, lead=worker)
    child = child_of(case)
    f.service(kind="psychological", name="Социально-психологическое консультирование")
    f.service(kind="medical", name="Содействие в получении медицинской помощи")
    walker = f.equipment_type(name="Ходунки детские", outside_guaranteed=True)
    programme = f.rehab_programme(child, valid_until=dt.date(2025, 6, 1))
    talks = f.rehab_measure(programme, kind="psych_ped")
    clinic = f.rehab_measure(programme, kind="medical", description="Восстановительная терапия")
    by_fund = f.rehab_tsr(programme, name="Кресло-коляска комнатная", by_fund=True)
    rental = f.rehab_tsr(programme, name="Ходунки", by_fund=False, equipment_type=walker)
    db.session.commit()
    return {
        "area": area,
        "worker": worker,
        "case": case,
        "child": child,
        "programme": programme,
        "talks": talks,
        "clinic": clinic,
        "by_fund": by_fund,
        "rental": rental,
        "walker": walker,
    }


# --- the database's rules -----------------------------------------------------------------


def test_an_ipra_ends_after_it_is_issued(world):
    """Is an ИПРА valid until the day it was issued (or earlier) refused by the database,
    with a Russian message next to «Действует до»?"""
    child = world["child"]
    with pytest.raises(IntegrityError) as refused:
        f.rehab_programme(child, issued_on=dt.date(2025, 3, 1), valid_until=dt.date(2025, 3, 1))
    assert integrity_message(refused.value) == "Срок действия ИПРА — позже даты её выдачи."
    db.session.rollback()


def test_a_number_names_one_live_ipra(world):
    """Is a second live ИПРА with the same number refused, while an archived one is no
    obstacle?"""
    number = world["programme"].number
    with pytest.raises(IntegrityError) as refused:
        f.rehab_programme(world["child"], number=number)
    assert integrity_message(refused.value) == "ИПРА с таким номером уже есть."
    db.session.rollback()
    programme = db.session.get(RehabProgramme, world["programme"].id)
    programme.archived_at = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    db.session.flush()
    assert f.rehab_programme(programme.child, number=number).id


def test_a_queue_place_only_for_a_tsr_the_fund_does_not_provide(world):
    """Does the database refuse a queue place on a ТСР the Social Fund provides?"""
    place = f.reservation(world["case"].family, world["child"], world["walker"])
    item = world["by_fund"]
    item.reservation_id = place.id
    with pytest.raises(IntegrityError) as refused:
        db.session.flush()
    assert "Социальный фонд" in integrity_message(refused.value)
    db.session.rollback()


# --- the health right and the scope -------------------------------------------------------


def test_only_health_roles_of_the_familys_scope_see_the_ipra(world):
    """Do the worker of the district and the coordinator see the ИПРА, and the
    administrator, the lawyer, the social worker, the rental clerk and another district's
    worker not at all?"""
    other = specialist("district_worker", (f.district(),), last_name="Чужая")
    lawyer, social = specialist("lawyer"), specialist("social_worker", (world["area"],))

    def sees(user) -> bool:
        query = select(RehabProgramme.id).where(where_visible(RehabProgramme, user))
        return world["programme"].id in set(db.session.scalars(query))

    assert sees(account(world["worker"])) and sees(f.user("coordinator"))
    for user in (f.user("admin"), account(other), account(lawyer), account(social)):
        assert not sees(user), user.role
    assert not sees(f.user("rental_clerk"))
    assert rehab.visible_programme(db.session, account(other), world["programme"].id) is None


# --- the proposals ----------------------------------------------------------------------


def test_confirming_a_measure_puts_one_activity_in_the_ipss(world):
    """Does «Внести в ИПСС» add the proposed activity (a service of the measure's kind, its
    role) with a revision, keep it on the measure, and refuse a second confirmation?"""
    user = account(world["worker"])
    proposals = {
        p.measure.id: p for p in rehab.measure_proposals(db.session, world["programme"], TODAY)
    }
    talks = proposals[world["talks"].id]
    assert talks.can_confirm and talks.role == "psychologist"
    assert talks.service.name == "Социально-психологическое консультирование"
    activity = rehab.confirm_measure(db.session, user, world["talks"].id, TODAY)
    db.session.commit()
    assert activity.responsible_role == "psychologist"
    assert activity.planned_date == TODAY + dt.timedelta(days=rehab.PROPOSAL_LEAD_DAYS)
    assert world["talks"].activity_id == activity.id
    assert db.session.scalar(select(func.count()).select_from(PlanRevision)) == 1
    with pytest.raises(WorkflowError, match="Уже в ИПСС"):
        rehab.confirm_measure(db.session, user, world["talks"].id, TODAY)
    db.session.rollback()
    again = {
        p.measure.id: p for p in rehab.measure_proposals(db.session, world["programme"], TODAY)
    }
    assert again[world["talks"].id].activity is not None
    assert not again[world["talks"].id].can_confirm
    assert db.session.scalar(select(func.count()).select_from(PlanActivity)) == 1


def test_no_activity_is_proposed_without_an_active_case(world):
    """Without a case on support, is the activity refused with the reason in Russian?"""
    case = world["case"]
    case.status, case.closure_reason, case.closed_on = "closed", "goal_achieved", TODAY
    case.outcome = "Цель достигнута"
    db.session.commit()
    proposals = rehab.measure_proposals(db.session, world["programme"], TODAY)
    assert all(not p.can_confirm for p in proposals)
    with pytest.raises(WorkflowError, match="нет открытого случая"):
        rehab.confirm_measure(db.session, account(world["worker"]), world["talks"].id, TODAY)
    db.session.rollback()


def test_confirming_a_tsr_queues_the_child_once(world):
    """Does «Поставить в очередь» put the child in the queue for the rental type, keep the
    place on the ТСР, and refuse a second time and a ТСР the Fund provides?"""
    user = account(world["worker"])
    rows = {t.item.id: t for t in rehab.tsr_proposals(db.session, world["programme"])}
    assert rows[world["rental"].id].can_confirm
    assert "Социальный фонд" in rows[world["by_fund"].id].why_not
    place = rehab.confirm_tsr(db.session, user, world["rental"].id, TODAY)
    db.session.commit()
    assert place.type_id == world["walker"].id and place.child_id == world["child"].id
    assert place.status in ("waiting", "offered")
    with pytest.raises(WorkflowError, match="Уже в очереди"):
        rehab.confirm_tsr(db.session, user, world["rental"].id, TODAY)
    db.session.rollback()
    with pytest.raises(WorkflowError, match="Социальный фонд"):
        rehab.confirm_tsr(db.session, user, world["by_fund"].id, TODAY)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Reservation)) == 1
    rows = {t.item.id: t for t in rehab.tsr_proposals(db.session, world["programme"])}
    assert rows[world["rental"].id].reservation is not None


def test_a_role_without_the_health_right_confirms_nothing(world):
    """Is a lawyer's confirmation refused as if the ИПРА did not exist?"""
    with pytest.raises(WorkflowError):
        rehab.confirm_tsr(db.session, account(specialist("lawyer")), world["rental"].id, TODAY)
    db.session.rollback()


# --- the tick and the messages ----------------------------------------------------------


def _reachable(case) -> None:
    family = case.family
    family.contact_channel, family.phone = "sms", "+7 900 000-00-02"
    f.consent(family, case.applicant, notifications=True)


def test_the_tick_gives_the_lead_worker_each_task_once(world):
    """Do an ИПРА ending within the notice days and a child's МСЭ date ahead each make one
    task for the case's lead worker, however often the tick runs?"""
    today = world["programme"].valid_until - dt.timedelta(days=10)
    world["child"].disability_review_date = today + dt.timedelta(days=20)
    db.session.commit()
    run_tick(db.session, today)
    run_tick(db.session, today)
    tasks = db.session.scalars(
        select(Task).where(Task.source_key.like("ipra:%") | Task.source_key.like("mse:%"))
    ).all()
    assert len(tasks) == 2
    assert {t.assignee_id for t in tasks} == {world["worker"].id}
    assert {t.case_id for t in tasks} == {world["case"].id}
    assert any("ИПРА" in t.title for t in tasks)
    assert any("переосвидетельствования" in t.title for t in tasks)


def test_an_mse_date_on_the_ipras_end_is_said_once(world):
    """When the child's МСЭ date is the ИПРА's end, is there one task and no second
    message about the same day?"""
    _reachable(world["case"])
    today = world["programme"].valid_until - dt.timedelta(days=10)
    world["child"].disability_review_date = world["programme"].valid_until
    db.session.commit()
    run_tick(db.session, today)
    assert rehab.task_mse_reviews(db.session, today) == 0
    kinds = db.session.scalars(select(Message.event_kind)).all()
    assert kinds == ["ipra_end"]


def test_nothing_is_tasked_long_before_the_date(world):
    """Is an ИПРА ending beyond the notice days left alone by the tick?"""
    today = world["programme"].valid_until - dt.timedelta(days=rehab.IPRA_NOTICE_DAYS + 5)
    assert rehab.task_ipra_ending(db.session, today) == 0
    assert rehab.remind_ipra_ending(db.session, today) == 0


def test_the_family_is_told_once_without_health_details(world):
    """Does a family with a channel and consent get one message per event — the date and
    the specialist's phone, no name of the child, no diagnosis?"""
    _reachable(world["case"])
    world["worker"].phone = "8 (8162) 77-20-15"
    today = world["programme"].valid_until - dt.timedelta(days=10)
    world["child"].disability_review_date = today + dt.timedelta(days=20)
    db.session.commit()
    run_tick(db.session, today)
    run_tick(db.session, today)
    rows = db.session.scalars(select(Message).order_by(Message.event_kind)).all()
    assert [m.event_kind for m in rows] == ["ipra_end", "mse_review"]
    for message in rows:
        assert message.channel == "sms" and message.family_id == world["case"].family_id
        assert "77-20-15" in message.body
        assert world["child"].first_name not in message.body
    assert "переосвидетельствования" in rows[1].body


def test_no_message_without_consent(world):
    """Is a family that gave no consent to notifications not written to at all?"""
    family = world["case"].family
    family.contact_channel, family.phone = "sms", "+7 900 000-00-02"
    db.session.commit()
    today = world["programme"].valid_until - dt.timedelta(days=10)
    assert rehab.remind_ipra_ending(db.session, today) == 0
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_case_ending_after_the_ipra_is_flagged(world):
    """Does a case planned to end after the child's ИПРА expires get a calm warning, and
    one ending before it none?"""
    warnings = rehab.case_outlasts_ipra(db.session, world["case"])
    assert len(warnings) == 1 and "01.06.2025" in warnings[0]
    world["programme"].valid_until = dt.date(2025, 12, 31)
    db.session.commit()
    assert rehab.case_outlasts_ipra(db.session, world["case"]) == []


# --- the pages --------------------------------------------------------------------------


@pytest.fixture
def page_world(app):
    """`world` committed for HTTP tests: the ids, the worker's login."""
    with app.app_context():
        area = f.district()
        worker = specialist("district_worker", (area,), username="ipra_worker")
        today = centre_today()
        start = today - dt.timedelta(days=30)
        case = active_case(
            area,
            lead=worker,
            application_date=start - dt.timedelta(days=10),
            decision_date=start - dt.timedelta(days=5),
            contract_date=start,
            start_date=start,
            planned_end_date=start + dt.timedelta(days=170),
        )
        child = child_of(case)
        f.service(kind="psychological", name="Социально-психологическое консультирование")
        walker = f.equipment_type(name="Ходунки детские", outside_guaranteed=True)
        programme = f.rehab_programme(
            child, issued_on=start, valid_until=today + dt.timedelta(days=60)
        )
        measure = f.rehab_measure(programme)
        item = f.rehab_tsr(programme, by_fund=False, equipment_type=walker)
        db.session.commit()
        return {
            "area": area.id,
            "case": case.id,
            "programme": programme.id,
            "child": child.id,
            "measure": measure.id,
            "tsr": item.id,
        }


@pytest.mark.parametrize("role", ROLE.codes)
def test_every_roles_ipra_pages_answer_without_a_server_error(app, page_world, role):
    """Does each role get its ИПРА pages (the table, the details, the proposals, the case)
    as the matrix says — 200 with the right, 403 or 404 without — and never a 500?"""
    with app.app_context():
        area = db.session.get(District, page_world["area"])
        user = make_user(role, f"ipra_{role}", districts=[area])
        if policy(role).specialist:  # a specialist sees the case of their task
            case = db.session.get(Case, page_world["case"])
            f.task(case.family, case, role=role, status="assigned", assignee=user.staff)
        db.session.commit()
    client = signed_in(app, f"ipra_{role}")
    pid = page_world["programme"]
    pages = {
        ("rehab_programme", "list"): "/rehab_programme/",
        ("rehab_programme", "details"): f"/rehab_programme/details/?id={pid}",
        ("rehab_measure", "list"): "/rehab_measure/",
        ("rehab_tsr", "list"): "/rehab_tsr/",
        ("ipra", "details"): f"/ipra/{pid}",
    }
    for (endpoint, action), url in pages.items():
        status = client.get(url).status_code
        if allowed(role, endpoint, action):
            assert status == 200, (url, status)
        else:
            assert status in (302, 403, 404), (url, status)
    case_page = client.get(f"/case/details/?id={page_world['case']}")
    assert case_page.status_code in (200, 403, 404)
    if case_page.status_code == 200:
        body = case_page.get_data(as_text=True)
        health = allowed(role, "ipra", "details")
        assert ("ИПРА ребёнка" in body) == health, role
        assert (f"/ipra/{pid}" in body) == health, role
    person_page = client.get(f"/person/details/?id={page_world['child']}")
    assert person_page.status_code in (200, 403, 404)
    if person_page.status_code == 200:
        health = allowed(role, "ipra", "details")
        assert (f"/ipra/{pid}" in person_page.get_data(as_text=True)) == health, role
    if role == "rental_clerk":
        desk = client.get("/rental_desk/").get_data(as_text=True)
        assert "вне гарантированного перечня" in desk


def test_another_districts_worker_gets_404(app, page_world, login_as, client):
    """Is another district's worker answered 404 for the ИПРА, its page and its rows?"""
    login_as("district_worker", "stranger", districts=[])
    pid = page_world["programme"]
    assert client.get(f"/rehab_programme/details/?id={pid}").status_code == 404
    assert client.get(f"/ipra/{pid}").status_code == 404
    token = csrf_token(client)
    response = client.post(f"/ipra/tsr/{page_world['tsr']}/confirm", data={"csrf_token": token})
    assert response.status_code == 404


def test_the_worker_confirms_from_the_page_once(app, page_world):
    """Does the worker's click on the proposals page make the activity and the queue
    place, and does the page then say so instead of offering them again?"""
    client = signed_in(app, "ipra_worker")
    pid = page_world["programme"]
    page = client.get(f"/ipra/{pid}").get_data(as_text=True)
    assert f"confirm-measure-{page_world['measure']}" in page
    assert f"confirm-tsr-{page_world['tsr']}" in page
    token = csrf_token(client, f"/ipra/{pid}")
    for url in (
        f"/ipra/measure/{page_world['measure']}/confirm",
        f"/ipra/tsr/{page_world['tsr']}/confirm",
    ):
        assert client.post(url, data={"csrf_token": token}).status_code == 302
    page = client.get(f"/ipra/{pid}").get_data(as_text=True)
    assert "Уже в ИПСС" in page and "Уже в очереди" in page
    assert f"confirm-measure-{page_world['measure']}" not in page
    again = client.post(
        f"/ipra/tsr/{page_world['tsr']}/confirm", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Уже в очереди" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reservation)) == 1
        assert db.session.scalar(select(func.count()).select_from(PlanActivity)) == 1


def test_a_bad_ipra_form_is_refused_next_to_its_field(app, page_world):
    """Are dates out of order refused in Russian by the form, and nothing saved?"""
    client = signed_in(app, "ipra_worker")
    token = csrf_token(client, "/rehab_programme/new/")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(RehabProgramme))
    response = client.post(
        "/rehab_programme/new/",
        data={
            "csrf_token": token,
            "number": "999.1.53/2025",
            "issued_on": "2025-03-01",
            "valid_until": "2025-02-01",
        },
    )
    assert response.status_code == 200
    assert "Срок действия ИПРА — позже даты её выдачи." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RehabProgramme)) == before


def test_the_coordinator_archives_and_restores_an_ipra(app, page_world, login_as, client):
    """Does «В архив» keep the ИПРА (archived), and does the coordinator restore it?"""
    login_as("coordinator")
    pid = page_world["programme"]
    token = csrf_token(client)
    client.post("/rehab_programme/delete/", data={"id": pid, "csrf_token": token})
    with app.app_context():
        assert db.session.get(RehabProgramme, pid).archived_at is not None
    client.post(
        "/rehab_programme/action/?archive=1",
        data={"action": "restore", "rowid": pid, "csrf_token": token},
    )
    with app.app_context():
        assert db.session.get(RehabProgramme, pid).archived_at is None


def test_only_a_role_reading_health_calls_about_the_ipra(world):
    """Does the ИПРА's message wait on the district worker's call list and not on the
    rental clerk's, though the clerk sees the family (it has a queue place)?"""
    from workflows.calls import calls_today

    family = world["case"].family
    family.contact_channel, family.phone = "call", "+7 900 000-00-02"
    f.consent(family, world["case"].applicant, notifications=True)
    f.reservation(family, world["child"], world["walker"])
    today = world["programme"].valid_until - dt.timedelta(days=10)
    assert rehab.remind_ipra_ending(db.session, today) == 1
    db.session.commit()
    later = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    worker_calls = calls_today(db.session, account(world["worker"]), ("call",), later)
    clerk_calls = calls_today(db.session, f.user("rental_clerk"), ("call",), later)
    assert [c.family_id for c in worker_calls] == [family.id]
    assert clerk_calls == []


def test_the_child_picker_offers_children_only(app, page_world):
    """Does the ИПРА form's child picker offer the family's child and not its mother?"""
    client = signed_in(app, "ipra_worker")
    with app.app_context():
        case = db.session.get(Case, page_world["case"])
        stem = case.applicant.last_name[:4]
    found = client.get(f"/rehab_programme/ajax/lookup/?name=child&query={stem}").get_json()
    ids = {row[0] for row in found}
    assert page_world["child"] in ids
    assert case.applicant_id not in ids
