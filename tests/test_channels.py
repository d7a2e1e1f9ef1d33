"""How families reach the centre: a partner's incoming referral and a social raid, the
channel intake records («как выявлена»), the target group the contract asks for, and
the pilot report's families by channel.

The journey signs in through the real /login form and posts the real forms; the rules
are tested on the workflows and on the database's CHECKs.
"""

from __future__ import annotations

import datetime as dt
import html

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from security_factories import admin_form
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import (
    AuditRecord,
    Case,
    District,
    Family,
    IncomingReferral,
    Partner,
    Person,
    Referral,
    SocialRaid,
    Staff,
    Task,
    User,
    db,
)
from models.cases import LIFE_DOMAIN
from workflows import cases as case_wf
from workflows import channels as wf
from workflows import reports, schedule
from workflows.dates import centre_today
from workflows.errors import WorkflowError

TODAY = centre_today()
ALL_MEDIUM = {domain: ("medium", None) for domain in LIFE_DOMAIN.codes}


def post(client, url: str, data: dict, form_url: str = "/"):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_url)})


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def place(app):
    """District A with its worker, district B with its worker, a coordinator; a school with
    its social pedagogue, a clinic; a service for the outgoing referral."""
    with app.app_context():
        area, other = f.district(name="Участок А"), f.district(name="Участок Б")
        worker = make_user("district_worker", "worker_a", districts=[area.id])
        worker_b = make_user("district_worker", "worker_b", districts=[other.id])
        make_user("coordinator", "boss")
        make_user("psychologist", "psy")
        school = f.partner(name="Школа № 3", kind="school")
        clinic = f.partner(name="Детская поликлиника № 1", kind="clinic")
        teacher = f.partner_contact(school, last_name="Белова", position="социальный педагог")
        doctor = f.partner_contact(clinic, last_name="Смирнова", position="педиатр")
        service = f.service(kind="pedagogical", name="Содействие в получении образования")
        db.session.commit()
        return {
            "area": area.id,
            "other": other.id,
            "worker": worker.staff_id,
            "worker_b": worker_b.staff_id,
            "school": school.id,
            "clinic": clinic.id,
            "teacher": teacher.id,
            "doctor": doctor.id,
            "service": service.id,
        }


def actor(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def incoming_form(place, **changes) -> dict:
    return {
        "partner": place["school"],
        "contact": place["teacher"],
        "district": place["area"],
        "person_name": "Кузнецова Ольга Петровна",
        "address": "ул. Державина, д. 3, кв. 8",
        "phone": "",
        "referred_on": (TODAY - dt.timedelta(days=2)).isoformat(),
        "received_on": TODAY.isoformat(),
        "reason": "Сын пропускает занятия, мать просит помощи",
        **changes,
    }


def new_family_form(**changes) -> dict:
    return {
        "surname": "Кузнецовы",
        "district": "0",
        "address": "ул. Державина, д. 3, кв. 8",
        "family_phone": "",
        "last_name": "Кузнецова",
        "first_name": "Ольга",
        "middle_name": "Петровна",
        "birth_date": "1987-04-12",
        "sex": "f",
        "relation": "mother",
        "snils": "",
        "phone": "",
        "identified_by": "self",
        "identified_partner": "0",
        "social_raid": "0",
        **changes,
    }


def child_form(**changes) -> dict:
    """The child form's fields, as the page names them (prefixed «child-»)."""
    fields = {
        "last_name": "Кузнецов",
        "first_name": "Артём",
        "middle_name": "Игоревич",
        "birth_date": (TODAY - dt.timedelta(days=365 * 9)).isoformat(),
        "sex": "m",
        "disability_status": "disabled",
        "disability_group": "child",
        "disability_review_date": "",
        "snils": "",
        **changes,
    }
    return {f"child-{name}": value for name, value in fields.items()}


def test_journey_partner_referral_intake_case_and_an_outgoing_referral(app, place):
    """A school refers a family → the district worker records the referral → «Новое
    обращение» starts from it prefilled → the family is registered «направление
    партнёра: Школа № 3», linked to the referral → the child, the consent, the
    application → assessment and contract → an outgoing referral of the case, sent → its
    answer overdue → the tick gives the lead worker one task → the school answers (the task
    is done) → fulfilled."""
    worker = signed_in(app, "worker_a")
    answer = post(worker, "/channels/incoming/new", incoming_form(place))
    assert answer.status_code == 302, text(answer)
    with app.app_context():
        referral = db.session.scalar(select(IncomingReferral))
        assert (referral.status, referral.received_by_id) == ("received", place["worker"])
        referral_id = referral.id
    page = text(worker.get("/channels/"))
    assert "Кузнецова Ольга Петровна" in page and f"/intake/?referral={referral_id}" in page

    search = text(worker.get(f"/intake/?referral={referral_id}"))
    assert "По направлению партнёра «Школа № 3»" in search
    form = text(worker.get(f"/intake/new?referral={referral_id}"))
    assert 'value="Кузнецова"' in form and 'value="ул. Державина, д. 3, кв. 8"' in form
    answer = post(
        worker,
        f"/intake/new?referral={referral_id}",
        new_family_form(district=place["area"], identified_by="self"),
    )
    assert answer.status_code == 302, text(answer)
    with app.app_context():
        family = db.session.scalar(select(Family).where(Family.surname == "Кузнецовы"))
        assert (family.identified_by, family.identified_partner_id) == ("partner", place["school"])
        referral = db.session.get(IncomingReferral, referral_id)
        assert (referral.status, referral.family_id, referral.decided_on) == (
            "taken",
            family.id,
            TODAY,
        )
        family_id = family.id
        mother_id = family.members[0].id
    page = text(worker.get(f"/intake/family/{family_id}"))
    assert "Как выявлена: направление партнёра: Школа № 3" in page
    assert "не записан ребёнок-инвалид или ребёнок с ОВЗ" in page

    assert post(worker, f"/intake/family/{family_id}/child", child_form()).status_code == 302
    consent = {"person": mother_id, "given_on": TODAY.isoformat(), "scope": "сопровождение"}
    assert post(worker, f"/intake/family/{family_id}/consent", consent).status_code == 302
    application = {"applicant": mother_id, "application_date": TODAY.isoformat()}
    answer = post(worker, f"/intake/family/{family_id}", application)
    assert answer.status_code == 302, text(answer)

    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.family_id == family_id))
        user = actor("worker_a")
        case_wf.record_assessment(
            db.session, user, case, levels=ALL_MEDIUM, assessed_on=TODAY, today=TODAY
        )
        case_wf.sign_contract(
            db.session,
            user,
            case,
            decision_date=TODAY,
            contract_number="Д-К-1",
            contract_date=TODAY,
            start_date=TODAY,
            planned_end_date=None,
            lead_worker=db.session.get(Staff, place["worker"]),
            today=TODAY,
        )
        db.session.commit()
        case_id = case.id
    answer = post(
        worker,
        f"/referrals/case/{case_id}/prepare",
        {
            "partner": place["school"],
            "contact": place["teacher"],
            "service": place["service"],
            "reason_kind": "education",
            "reason": "Индивидуальный учебный план",
        },
    )
    assert answer.status_code == 302
    with app.app_context():
        outgoing = db.session.scalar(select(Referral).where(Referral.case_id == case_id))
        assert outgoing.status == "prepared"
        outgoing_id = outgoing.id
    sent = {"sent_on": TODAY.isoformat(), "answer_due": TODAY.isoformat()}
    assert post(worker, f"/referrals/{outgoing_id}/send", sent).status_code == 302
    with app.app_context():
        schedule.run_tick(db.session, TODAY + dt.timedelta(days=1))  # the answer is overdue
        task = db.session.scalar(select(Task).where(Task.source_key == f"referral:{outgoing_id}"))
        assert (task.assignee_id, task.status) == (place["worker"], "assigned")
        task_id = task.id
    accepted = {"accepted_on": TODAY.isoformat()}
    assert post(worker, f"/referrals/{outgoing_id}/accept", accepted).status_code == 302
    fulfilled = {"answered_on": TODAY.isoformat(), "answer": "Составлен индивидуальный план"}
    assert post(worker, f"/referrals/{outgoing_id}/fulfil", fulfilled).status_code == 302
    with app.app_context():
        assert db.session.get(Task, task_id).status == "done"
        assert db.session.get(Referral, outgoing_id).status == "fulfilled"
    details = text(worker.get(f"/channels/incoming/{referral_id}"))
    assert "семья зарегистрирована" in details and f"случай № {case_id}" in details


def test_a_raid_records_its_team_and_its_families_start_intake_from_it(app, place):
    """A raid with its team (a worker, a partner's teacher) → «Зарегистрировать выявленную
    семью» registers a family «социальный рейд», linked → the raid page lists it with
    its intake, then its case."""
    worker = signed_in(app, "worker_a")
    raid_form = {
        "held_on": TODAY.isoformat(),
        "district": place["area"],
        "area": "ул. Ломоносова, д. 1–30",
        "staff": [place["worker"]],
        "contacts": [place["teacher"]],
        "notes": "",
    }
    answer = post(worker, "/channels/raids/new", raid_form)
    assert answer.status_code == 302, text(answer)
    with app.app_context():
        raid_id = db.session.scalar(select(SocialRaid.id))
    page = text(worker.get(f"/channels/raids/{raid_id}"))
    assert "Белова" in page and "Семей по этому рейду ещё не зарегистрировано" in page
    assert f"/intake/new?raid={raid_id}" in page

    answer = post(
        worker,
        f"/intake/new?raid={raid_id}",
        new_family_form(surname="Орловы", last_name="Орлова", district=place["area"]),
    )
    assert answer.status_code == 302, text(answer)
    with app.app_context():
        family = db.session.scalar(select(Family).where(Family.surname == "Орловы"))
        assert (family.identified_by, family.social_raid_id) == ("raid", raid_id)
        family_id = family.id
    page = text(worker.get(f"/channels/raids/{raid_id}"))
    assert "Орловы" in page and f"/intake/family/{family_id}" in page

    # The raid's team takes no one who is not in the list.
    answer = post(worker, "/channels/raids/new", {**raid_form, "staff": []})
    assert "Укажите хотя бы одного сотрудника центра" in text(answer)


def test_another_districts_worker_gets_404(app, place):
    """A referral and a raid of district A do not exist for district B's worker: their
    pages, their tables' details and intake started from them answer 404."""
    with app.app_context():
        referral = f.incoming_referral(
            db.session.get(Partner, place["school"]),
            db.session.get(District, place["area"]),
        )
        raid = f.social_raid(db.session.get(District, place["area"]))
        db.session.commit()
        referral_id, raid_id = referral.id, raid.id
    other = signed_in(app, "worker_b")
    for url in (
        f"/channels/incoming/{referral_id}",
        f"/channels/raids/{raid_id}",
        f"/incoming_referral/details/?id={referral_id}",
        f"/social_raid/details/?id={raid_id}",
        f"/intake/?referral={referral_id}",
        f"/intake/new?raid={raid_id}",
    ):
        assert other.get(url).status_code == 404, url
    assert "Кузнецова" not in text(other.get("/incoming_referral/"))
    mine = signed_in(app, "worker_a")
    assert mine.get(f"/channels/incoming/{referral_id}").status_code == 200
    assert "Кузнецова" in text(mine.get("/incoming_referral/"))
    # A psychologist is not an intake role: no page of the channels.
    assert signed_in(app, "psy").get("/channels/").status_code == 403


def test_incoming_referral_refusals(app_ctx, place):
    """The workflow refuses in Russian: a contact of another partner, a date in the future,
    received before referred, another district; a referral decided twice; a decline
    without its reason."""
    user = actor("worker_a")
    base = {
        "partner_id": place["school"],
        "contact_id": place["teacher"],
        "district_id": place["area"],
        "person_name": "Кузнецова Ольга",
        "address": None,
        "phone": None,
        "referred_on": TODAY,
        "received_on": TODAY,
        "reason": "Пропуски занятий",
        "today": TODAY,
    }
    cases = [
        ({"contact_id": place["doctor"]}, "contact", "сотрудник другой организации"),
        ({"referred_on": TODAY + dt.timedelta(days=1)}, "referred_on", "в будущем"),
        (
            {"referred_on": TODAY, "received_on": TODAY - dt.timedelta(days=1)},
            "received_on",
            "раньше",
        ),
        ({"district_id": place["other"]}, "district", "из своих"),
        ({"reason": " "}, "reason", "почему"),
        ({"partner_id": None}, "partner", "партнёра"),
    ]
    for change, field, words in cases:
        with pytest.raises(WorkflowError) as refused:
            wf.register_incoming_referral(db.session, user, **{**base, **change})
        assert refused.value.field == field and words in str(refused.value), change
    referral = wf.register_incoming_referral(db.session, user, **base)
    with pytest.raises(WorkflowError, match="что не подтвердилось"):
        wf.decline_incoming_referral(
            db.session, user, referral.id, decided_on=TODAY, reason="", today=TODAY
        )
    wf.decline_incoming_referral(
        db.session, user, referral.id, decided_on=TODAY, reason="Семья переехала", today=TODAY
    )
    audited = db.session.scalars(
        select(AuditRecord.action).where(
            AuditRecord.table_name == "incoming_referral",
            AuditRecord.row_id == str(referral.id),
        )
    ).all()
    assert {"insert", "update"} <= set(audited)
    with pytest.raises(WorkflowError, match="уже рассмотрено"):
        wf.decline_incoming_referral(
            db.session, user, referral.id, decided_on=TODAY, reason="Ещё раз", today=TODAY
        )
    with pytest.raises(WorkflowError, match="уже рассмотрено"):
        wf.identification(db.session, user, channel="self", referral_id=referral.id)
    other = actor("worker_b")
    with pytest.raises(WorkflowError, match="не найдено"):
        wf.decline_incoming_referral(
            db.session, other, referral.id, decided_on=TODAY, reason="Чужое", today=TODAY
        )


def test_identification_refusals(app_ctx, place):
    """A partner channel needs its partner, a raid channel its raid (one the user sees), a
    channel from the list."""
    user = actor("worker_a")
    for kwargs, field in (
        ({"channel": "partner"}, "identified_partner"),
        ({"channel": "raid"}, "social_raid"),
        ({"channel": "telepathy"}, "identified_by"),
        ({"channel": None}, "identified_by"),
    ):
        with pytest.raises(WorkflowError) as refused:
            wf.identification(db.session, user, **kwargs)
        assert refused.value.field == field
    raid = f.social_raid(db.session.get(District, place["other"]))
    with pytest.raises(WorkflowError, match="Рейд не найден"):
        wf.identification(db.session, user, channel="raid", raid_id=raid.id)
    assert wf.identification(db.session, user, channel="transfer").channel == "transfer"


def test_the_database_holds_the_channel_with_its_partner_or_raid(app_ctx, place):
    """A partner channel without its partner, a raid channel without its raid, a partner
    named for a family that came by itself, a referral taken without a family: each is
    refused by a CHECK."""
    area = db.session.get(District, place["area"])
    partner = db.session.get(Partner, place["school"])
    for kw in (
        {"identified_by": "partner"},
        {"identified_by": "raid"},
        {"identified_by": "self", "identified_partner": partner},
    ):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            f.family(area, **kw)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        f.incoming_referral(partner, area, status="taken", decided_on=TODAY)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        f.incoming_referral(partner, area, received_on=dt.date(2025, 3, 1))
    assert f.family(area, identified_by="partner", identified_partner=partner).id


def test_the_family_list_filters_by_channel_and_partner(app, place):
    """«Как выявлена» and «Направил партнёр» filter the family list (Russian labels)."""
    with app.app_context():
        area = db.session.get(District, place["area"])
        school = db.session.get(Partner, place["school"])
        clinic = db.session.get(Partner, place["clinic"])
        f.family(area, surname="Сами", identified_by="self")
        f.family(area, surname="Школьные", identified_by="partner", identified_partner=school)
        f.family(area, surname="Больничные", identified_by="partner", identified_partner=clinic)
        db.session.commit()
    boss = signed_in(app, "boss")
    page = text(boss.get("/family/"))
    assert "Как выявлена" in page and "Направил партнёр" in page
    partners = text(boss.get("/family/?flt0_identified_by_equals=partner"))
    assert "Школьные" in partners and "Больничные" in partners and "Сами" not in partners
    school_only = text(boss.get("/family/?flt0_partner_name_equals=Школа № 3"))
    assert "Школьные" in school_only and "Больничные" not in school_only


def test_the_contract_needs_a_disabled_child_or_a_child_with_ovz(app_ctx, place):
    """Without a child under 18 who is disabled or has ОВЗ the contract is refused with a
    message that says what is missing; a child with ОВЗ is enough; an adult son does not
    count."""
    user = actor("worker_a")
    area = db.session.get(District, place["area"])
    lead = db.session.get(Staff, place["worker"])
    family = f.family(area)
    mother = f.person(family, "mother")
    f.person(family, "child", disability_status="none", disability_group=None)
    adult = f.person(family, "child", snils=None, birth_date=TODAY - dt.timedelta(days=365 * 20))
    f.consent(family, mother, given_on=TODAY - dt.timedelta(days=5))
    case = case_wf.open_case(
        db.session, user, family=family, applicant=mother, application_date=TODAY, today=TODAY
    )
    case_wf.record_assessment(
        db.session, user, case, levels=ALL_MEDIUM, assessed_on=TODAY, today=TODAY
    )

    def sign():
        return case_wf.sign_contract(
            db.session,
            user,
            case,
            decision_date=TODAY,
            contract_number="Д-ЦГ-1",
            contract_date=TODAY,
            start_date=TODAY,
            planned_end_date=None,
            lead_worker=lead,
            today=TODAY,
        )

    with pytest.raises(WorkflowError) as refused:
        sign()
    assert str(refused.value) == case_wf.TARGET_GROUP_MISSING
    assert "ребёнок-инвалид или ребёнок с ОВЗ" in str(refused.value)
    assert adult.disability_status == "disabled"  # counted only under 18
    case_wf.add_child(
        db.session,
        user,
        family,
        case_wf.ChildData("Смирнова", "Алина", None, TODAY - dt.timedelta(days=2000), "f", "ovz"),
        today=TODAY,
    )
    assert sign().status == "active"


def test_intake_refuses_a_child_it_cannot_register(app, place):
    """The child form says in Russian what is wrong: a group without a disability, an
    adult, no status chosen, no sex where no patronymic tells it."""
    with app.app_context():
        family = f.family(db.session.get(District, place["area"]))
        db.session.commit()
        family_id = family.id
    worker = signed_in(app, "worker_a")
    url = f"/intake/family/{family_id}/child"
    for change, words in (
        ({"disability_status": "ovz", "disability_group": "1"}, "только при инвалидности"),
        ({"birth_date": "1990-01-01"}, "меньше 18 лет"),
        ({"disability_status": ""}, "Обязательное поле"),
        ({"sex": "", "middle_name": ""}, "по отчеству его не определить"),
    ):
        answer = post(worker, url, child_form(**change))
        assert answer.status_code == 200 and words in text(answer), change
    with app.app_context():
        assert db.session.scalar(select(Person.id).where(Person.family_id == family_id)) is None


def test_the_pilot_report_counts_families_by_channel(app_ctx, place):
    """«Семьи по способу выявления»: families registered in the period by channel, partner
    referrals by the partner's kind; a family registered before the period is not counted."""
    area = db.session.get(District, place["area"])
    school = db.session.get(Partner, place["school"])
    clinic = db.session.get(Partner, place["clinic"])
    raid = f.social_raid(area)
    inside = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(12), tzinfo=dt.UTC)
    before = dt.datetime.combine(TODAY - dt.timedelta(days=60), dt.time(12), tzinfo=dt.UTC)
    made = [
        ("self", {}, 3),
        ("partner", {"identified_partner": school}, 2),
        ("partner", {"identified_partner": clinic}, 1),
        ("raid", {"social_raid": raid}, 2),
        ("transfer", {}, 1),
    ]
    for channel, kw, number in made:
        for _ in range(number):
            f.family(area, identified_by=channel, created_at=inside, **kw)
    f.family(area, identified_by="partner", identified_partner=school, created_at=before)
    db.session.commit()
    params = reports.Params(TODAY - dt.timedelta(days=30), TODAY)
    report = reports.pilot_report(db.session, actor("boss"), params)
    table = next(t for t in report.tables if t.title.startswith("Семьи по способу выявления"))
    rows = dict((label, number) for label, number in table.rows)
    assert rows == {
        "обратилась сама": 3,
        "направление партнёра": 3,
        "в т. ч. образовательная организация": 2,
        "в т. ч. медицинская организация": 1,
        "социальный рейд": 2,
        "передача из другой организации или участка": 1,
    }
    assert table.total == ["Итого", 9]
    assert reports.families_by_channel(db.session, actor("worker_b"), params).total == [
        "Итого",
        0,
    ]


def test_the_family_form_says_in_russian_that_a_partner_channel_needs_its_partner(app, place):
    """The family table's form: «направление партнёра» without a partner comes back with the
    Russian message by the partner field (the CHECK's), nothing saved."""
    with app.app_context():
        family = f.family(db.session.get(District, place["area"]), surname="Формовые")
        db.session.commit()
        family_id = family.id
    boss = signed_in(app, "boss")
    url = f"/family/edit/?id={family_id}"
    page = boss.get(url).get_data(as_text=True)
    assert "Направил партнёр" in page and "Выявлена в рейде" in page
    data = {**admin_form(page)["fields"], "identified_by": "partner"}
    answer = post(boss, url, data, url)
    assert "укажите партнёра, который направил семью" in text(answer)
    with app.app_context():
        assert db.session.get(Family, family_id).identified_by == "self"


def test_two_users_deciding_one_referral_at_once(app, place):
    """When the district worker declines a referral while the coordinator declines it too
    (two connections, the same moment), does exactly one win and the other get the Russian
    refusal «уже рассмотрено» (the row lock makes it wait and read the first's)?"""
    import threading

    from sqlalchemy.orm import Session

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks need PostgreSQL")
        referral = f.incoming_referral(
            db.session.get(Partner, place["school"]),
            db.session.get(District, place["area"]),
            received_on=TODAY,
            referred_on=TODAY,
        )
        db.session.commit()
        users = [actor("worker_a").id, actor("boss").id]
        referral_id, engine = referral.id, db.engine
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(user_id, reason):
        with app.app_context(), Session(engine) as session:
            user = session.get(User, user_id)
            barrier.wait()
            try:
                wf.decline_incoming_referral(
                    session, user, referral_id, decided_on=TODAY, reason=reason, today=TODAY
                )
                session.commit()
                outcomes.append("won")
            except WorkflowError as refused:
                session.rollback()
                outcomes.append(str(refused))

    threads = [
        threading.Thread(target=decide, args=pair)
        for pair in zip(users, ("Семья переехала", "Не подтвердилось"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("won") == 1, outcomes
    assert any("уже рассмотрено" in outcome for outcome in outcomes), outcomes


def test_the_childs_sex_left_unchosen_is_read_from_the_patronymic(app, place):
    """Is a child registered without a chosen sex recorded by the patronymic's?"""
    with app.app_context():
        family = f.family(db.session.get(District, place["area"]))
        db.session.commit()
        family_id = family.id
    worker = signed_in(app, "worker_a")
    answer = post(
        worker,
        f"/intake/family/{family_id}/child",
        child_form(sex="", middle_name="Игоревна", first_name="Алиса"),
    )
    assert answer.status_code == 302
    with app.app_context():
        child = db.session.scalar(select(Person).where(Person.family_id == family_id))
        assert (child.first_name, child.sex) == ("Алиса", "f")
