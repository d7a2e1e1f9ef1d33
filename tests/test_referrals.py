"""Outgoing referrals of a case, without HTTP: each status change and its refusals, the
database's rules, the row scope, the health right on the reason and the overdue answer
that the tick turns into one task for the lead worker.
"""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from workflow_factories import TODAY, active_case, specialist

from models import AuditRecord, PartnerContact, Referral, Task, User, db
from models.audit import HIDDEN_VALUE
from workflows import referrals as r
from workflows import schedule
from workflows.errors import WorkflowError

SENT = dt.date(2025, 3, 3)
DUE = dt.date(2025, 3, 7)


def account(staff) -> User:
    return db.session.scalar(select(User).where(User.staff_id == staff.id))


def contact(partner, **kw) -> PartnerContact:
    row = PartnerContact(
        **{
            "partner": partner,
            "last_name": "Смирнова",
            "first_name": "Ольга",
            "middle_name": "Ивановна",
            "position": "заведующая педиатрическим отделением",
            "phone": "+7 900 000-00-01",
            **kw,
        }
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def world(app_ctx):
    """A district, its worker leading an active case, a clinic with a contact, a school."""
    area = f.district()
    worker = specialist("district_worker", (area,), last_name="Участковая")
    case = active_case(area, lead=worker)
    clinic = f.partner(name="Детская поликлиника № 1", kind="clinic")
    school = f.partner(name="Школа № 3", kind="school")
    escort = f.service(
        kind="medical",
        name="Содействие в получении медицинской помощи, сопровождение в медицинские организации",
    )
    schooling = f.service(kind="pedagogical", name="Содействие в получении образования")
    doctor = contact(clinic)
    teacher = contact(school, last_name="Белова", position="социальный педагог")
    db.session.commit()
    return {
        "area": area,
        "worker": worker,
        "user": account(worker),
        "case": case,
        "clinic": clinic,
        "doctor": doctor,
        "school": school,
        "teacher": teacher,
        "escort": escort,
        "schooling": schooling,
    }


def prepare(world, *, partner="clinic", service="escort", kind="medical", who=None, **kw):
    values = {
        "partner_id": world[partner].id,
        "contact_id": world["doctor" if partner == "clinic" else "teacher"].id,
        "service_id": world[service].id,
        "reason_kind": kind,
        "reason": "Консультация невролога, сопровождение на приём",
        "today": dt.date(2025, 3, 1),
        **kw,
    }
    referral = r.prepare_referral(db.session, who or world["user"], world["case"].id, **values)
    db.session.commit()
    return referral


def sent(world, **kw):
    referral = prepare(world, **kw)
    r.send_referral(
        db.session, world["user"], referral.id, sent_on=SENT, answer_due=DUE, today=SENT
    )
    db.session.commit()
    return referral


# --- the status changes ---------------------------------------------------------------------


def test_the_whole_way_prepared_sent_accepted_fulfilled(world):
    """Does a referral go подготовлено → отправлено → принято → исполнено, each step
    naming who handled it, the escort's result kept as the answer?"""
    referral = prepare(world)
    assert (referral.status, referral.prepared_on) == ("prepared", dt.date(2025, 3, 1))
    assert referral.handled_by_id == world["worker"].id
    r.send_referral(
        db.session, world["user"], referral.id, sent_on=SENT, answer_due=DUE, today=SENT
    )
    assert (referral.status, referral.sent_on, referral.answer_due) == ("sent", SENT, DUE)
    r.accept_referral(db.session, world["user"], referral.id, accepted_on=DUE, today=DUE)
    assert (referral.status, referral.accepted_on) == ("accepted", DUE)
    r.fulfil_referral(
        db.session,
        world["user"],
        referral.id,
        answered_on=dt.date(2025, 3, 12),
        answer="Приём невролога состоялся, медсестра сопровождала; назначен курс",
        today=dt.date(2025, 3, 12),
    )
    db.session.commit()
    assert referral.status == "fulfilled"
    assert referral.health_answer.startswith("Приём невролога") and referral.answer is None


def test_refused_from_sent_and_from_accepted(world):
    """May the partner refuse both before and after accepting, with its reason?"""
    first = sent(world)
    r.refuse_referral(
        db.session, world["user"], first.id, answered_on=DUE, answer="Нет мест", today=DUE
    )
    assert first.status == "refused"
    second = sent(world, partner="school", service="schooling", kind="education")
    r.accept_referral(db.session, world["user"], second.id, accepted_on=SENT, today=SENT)
    r.refuse_referral(
        db.session, world["user"], second.id, answered_on=DUE, answer="Передумали", today=DUE
    )
    db.session.commit()
    assert (second.status, second.answer) == ("refused", "Передумали")


def test_no_answer_only_after_the_answer_date(world):
    """Is «нет ответа» refused while the answer may still come, and allowed after?"""
    referral = sent(world)
    with pytest.raises(WorkflowError, match=r"ещё не истёк.*07\.03\.2025"):
        r.no_answer_referral(db.session, world["user"], referral.id, today=DUE)
    r.no_answer_referral(db.session, world["user"], referral.id, today=DUE + dt.timedelta(days=1))
    db.session.commit()
    assert (referral.status, referral.answered_on) == ("no_answer", None)


def test_each_step_is_refused_out_of_order(world):
    """Is every change from the wrong status refused in Russian, naming the status?"""
    user, referral = world["user"], prepare(world)
    with pytest.raises(WorkflowError, match="«подготовлено»: принять"):
        r.accept_referral(db.session, user, referral.id, accepted_on=SENT, today=SENT)
    with pytest.raises(WorkflowError, match="«подготовлено»: отметить его исполненным нельзя"):
        r.fulfil_referral(db.session, user, referral.id, answered_on=SENT, answer="x", today=SENT)
    with pytest.raises(WorkflowError, match="«подготовлено»: записать по нему отказ нельзя"):
        r.refuse_referral(db.session, user, referral.id, answered_on=SENT, answer="x", today=SENT)
    with pytest.raises(WorkflowError, match="«подготовлено»: закрыть его без ответа нельзя"):
        r.no_answer_referral(db.session, user, referral.id, today=DUE)
    r.send_referral(db.session, user, referral.id, sent_on=SENT, answer_due=DUE, today=SENT)
    with pytest.raises(WorkflowError, match="«отправлено»: отправить его ещё раз нельзя"):
        r.send_referral(db.session, user, referral.id, sent_on=SENT, answer_due=DUE, today=SENT)
    with pytest.raises(WorkflowError, match="«отправлено»: отметить его исполненным нельзя"):
        r.fulfil_referral(db.session, user, referral.id, answered_on=DUE, answer="x", today=DUE)
    r.no_answer_referral(db.session, user, referral.id, today=DUE + dt.timedelta(days=1))
    with pytest.raises(WorkflowError, match="«нет ответа»: принять"):
        r.accept_referral(db.session, user, referral.id, accepted_on=DUE, today=DUE)


def test_dates_and_texts_are_checked(world):
    """Are a missing, future or out-of-order date and a missing text refused by their field?"""
    user, referral = world["user"], prepare(world)

    def refused(field, call):
        with pytest.raises(WorkflowError) as caught:
            call()
        assert caught.value.field == field, str(caught.value)
        db.session.rollback()

    send = r.send_referral
    refused(
        "sent_on",
        lambda: send(db.session, user, referral.id, sent_on=None, answer_due=DUE, today=SENT),
    )
    refused(
        "sent_on",
        lambda: send(db.session, user, referral.id, sent_on=DUE, answer_due=DUE, today=SENT),
    )
    refused(
        "sent_on",
        lambda: send(
            db.session, user, referral.id, sent_on=dt.date(2025, 2, 1), answer_due=DUE, today=SENT
        ),
    )
    refused(
        "answer_due",
        lambda: send(db.session, user, referral.id, sent_on=SENT, answer_due=None, today=SENT),
    )
    refused(
        "answer_due",
        lambda: send(
            db.session, user, referral.id, sent_on=SENT, answer_due=dt.date(2025, 3, 2), today=SENT
        ),
    )
    send(db.session, user, referral.id, sent_on=SENT, answer_due=DUE, today=SENT)
    db.session.commit()
    refused(
        "accepted_on",
        lambda: r.accept_referral(
            db.session, user, referral.id, accepted_on=dt.date(2025, 3, 2), today=SENT
        ),
    )
    r.accept_referral(db.session, user, referral.id, accepted_on=DUE, today=DUE)
    db.session.commit()
    refused(
        "answered_on",
        lambda: r.fulfil_referral(
            db.session, user, referral.id, answered_on=SENT, answer="x", today=DUE
        ),
    )
    refused(
        "answer",
        lambda: r.fulfil_referral(db.session, user, referral.id, answered_on=DUE, answer="  ", today=DUE),
    )  # fmt: skip


def test_preparing_is_checked(world):
    """Are a missing partner, service, reason kind and text refused; a contact of another
    partner too; and a second open referral of the case to the partner for the service?"""
    cases = [
        ({"partner_id": None}, "partner", "Выберите организацию"),
        ({"service_id": None}, "service", "Выберите услугу"),
        ({"reason_kind": "magic"}, "reason_kind", "основание"),
        ({"reason": " "}, "reason", "причину"),
        ({"contact_id": world["teacher"].id}, "contact", "другой организации"),
    ]
    for values, field, words in cases:
        with pytest.raises(WorkflowError, match=words) as caught:
            prepare(world, **values)
        assert caught.value.field == field
        db.session.rollback()
    first = prepare(world)
    with pytest.raises(WorkflowError, match=f"уже есть незакрытое направление № {first.id}"):
        prepare(world)
    db.session.rollback()
    r.send_referral(db.session, world["user"], first.id, sent_on=SENT, answer_due=DUE, today=SENT)
    r.refuse_referral(db.session, world["user"], first.id, answered_on=DUE, answer="Нет", today=DUE)
    db.session.commit()
    assert prepare(world).status == "prepared"  # the refused one is closed: a new one may go


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("clinic", "partner", "партнёр в архиве"),
        ("doctor", "contact", "контактное лицо в архиве"),
        ("escort", "service", "услуга в архиве"),
    ],
)
def test_no_referral_goes_to_an_archived_partner_contact_or_service(world, row, field, words):
    """Does the workflow refuse an archived partner, contact or service by its field, as
    every picker of new work does (models/live.py), and write nothing?"""
    world[row].archived_at = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    db.session.commit()
    with pytest.raises(WorkflowError, match=words) as caught:
        prepare(world)
    assert caught.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_a_closed_case_takes_no_referral_and_keeps_its_own(world):
    """Is a referral of a closed case neither made nor moved?"""
    referral = sent(world)
    db.session.execute(
        update(type(world["case"]))
        .where(type(world["case"]).id == world["case"].id)
        .values(status="closed", closure_reason="goal_achieved", closed_on=DUE)
    )
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(WorkflowError, match="Случай закрыт"):
        prepare(world, partner="school", service="schooling", kind="education")
    db.session.rollback()
    with pytest.raises(WorkflowError, match="Случай закрыт"):
        r.accept_referral(db.session, world["user"], referral.id, accepted_on=DUE, today=DUE)


# --- the database holds it too ---------------------------------------------------------------


def test_database_refuses_a_second_open_referral(world):
    """Does the partial unique index refuse a second open referral of the case to the
    partner for the service when the workflow's check is bypassed, and let a closed one be?"""
    first = prepare(world)
    twin = dict(
        case_id=first.case_id,
        partner_id=first.partner_id,
        service_id=first.service_id,
        reason_kind="medical",
        health_reason="Ещё раз",
        prepared_on=first.prepared_on,
    )
    db.session.add(Referral(**twin))
    with pytest.raises(IntegrityError) as caught:
        db.session.flush()
    db.session.rollback()
    from models.constraints import integrity_message

    assert integrity_message(caught.value).startswith("По этому случаю уже есть незакрытое")
    db.session.add(Referral(**twin, status="no_answer", sent_on=SENT, answer_due=DUE))
    db.session.flush()


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"status": "sent"}, "sent_complete"),
        ({"status": "sent", "sent_on": dt.date(2025, 2, 1), "answer_due": DUE}, "sent_order"),
        ({"status": "sent", "sent_on": SENT, "answer_due": dt.date(2025, 3, 2)}, "due_order"),
        ({"status": "accepted", "sent_on": SENT, "answer_due": DUE}, "accepted_complete"),
        (
            {"status": "accepted", "sent_on": SENT, "answer_due": DUE, "accepted_on": SENT - dt.timedelta(days=1)},
            "accepted_order",
        ),
        ({"status": "refused", "sent_on": SENT, "answer_due": DUE, "health_answer": "x"}, "answered_when_final"),
        ({"status": "refused", "sent_on": SENT, "answer_due": DUE, "answered_on": DUE}, "answer_given"),
        (
            {"status": "refused", "sent_on": SENT, "answer_due": DUE, "answered_on": SENT - dt.timedelta(days=1), "health_answer": "x"},
            "answered_order",
        ),
        ({"reason": "в открытом поле"}, "health_texts"),
        ({"health_reason": None}, "health_texts"),
        ({"health_answer": None, "answer": "открыто", "status": "prepared"}, "health_texts"),
    ],
)  # fmt: skip
def test_database_checks_of_a_referral(world, values, constraint):
    """Does the database refuse a referral whose status, dates or texts disagree?"""
    row = dict(
        case_id=world["case"].id,
        partner_id=world["clinic"].id,
        service_id=world["escort"].id,
        reason_kind="medical",
        health_reason="Консультация",
        prepared_on=dt.date(2025, 3, 1),
        status="prepared",
    )
    row.update(values)
    table = Referral.__table__
    with pytest.raises(IntegrityError) as caught:
        db.session.execute(table.insert().values(**row))
    if constraint:
        assert constraint in str(caught.value.orig)


def test_database_refuses_a_contact_of_another_partner(world):
    """Does the foreign key on (contact, partner) refuse a contact of another partner?"""
    with pytest.raises(IntegrityError):
        db.session.execute(
            Referral.__table__.insert().values(
                case_id=world["case"].id,
                partner_id=world["clinic"].id,
                contact_id=world["teacher"].id,
                service_id=world["escort"].id,
                reason_kind="medical",
                health_reason="Консультация",
                prepared_on=dt.date(2025, 3, 1),
                status="prepared",
                version=1,
            )
        )


def test_partner_kind_check_knows_the_new_kinds(world):
    """Are an МСЭ bureau and a ПМПК partner kinds the database keeps, and a made-up one not?"""
    f.partner(kind="mse")
    f.partner(kind="pmpk")
    from models.reference import PARTNER_KIND

    assert {"mse", "pmpk"} <= set(PARTNER_KIND.codes)
    with pytest.raises(IntegrityError):
        db.session.execute(text("INSERT INTO partner (name, kind) VALUES ('Цирк', 'circus')"))


# --- scope and the health right --------------------------------------------------------------


def test_another_districts_worker_neither_sees_nor_moves_it(world):
    """Is a referral of a case in another district hidden from its worker and refused to
    them as if it did not exist?"""
    referral = prepare(world)
    stranger = account(specialist("district_worker", (f.district(),), last_name="Чужая"))
    db.session.commit()
    assert r.visible_referral(db.session, stranger, referral.id) is None
    assert r.case_referrals(db.session, stranger, world["case"].id, TODAY) == []
    with pytest.raises(WorkflowError, match="Направление не найдено"):
        r.send_referral(db.session, stranger, referral.id, sent_on=SENT, answer_due=DUE, today=SENT)
    with pytest.raises(WorkflowError, match="Случай не найден"):
        prepare(world, partner="school", service="schooling", kind="education", who=stranger)


def test_a_medical_reason_only_for_a_role_that_reads_health(world):
    """Does a medical referral show its reason and answer to the worker (health right) and
    not to the admin or the lawyer, while an educational one shows its reason to all?
    Does the audit trail mask the medical reason?"""
    medical = prepare(world)
    school = prepare(
        world, partner="school", service="schooling", kind="education", reason="Перевод в школу"
    )
    admin = f.user("admin")
    db.session.commit()
    rows = {
        row.id: row for row in r.case_referrals(db.session, world["user"], world["case"].id, TODAY)
    }
    assert rows[medical.id].reason.startswith("Консультация невролога")
    for role_user in (admin,):
        rows = {
            row.id: row for row in r.case_referrals(db.session, role_user, world["case"].id, TODAY)
        }
        assert rows[medical.id].reason is None and rows[medical.id].hidden
        assert rows[school.id].reason == "Перевод в школу" and not rows[school.id].hidden
    assert r.reason_for(medical, "lawyer") is None and r.reason_for(medical, "nurse")
    audit = db.session.scalars(
        select(AuditRecord.changes).where(
            AuditRecord.table_name == "referral", AuditRecord.row_id == str(medical.id)
        )
    ).all()
    masked = [c["health_reason"]["new"] for c in audit if "health_reason" in c]
    assert masked == [HIDDEN_VALUE]
    assert "невролог" not in str(medical)  # the row's name holds no health value


# --- the overdue answer becomes one task ------------------------------------------------------


def only_referrals(session, day):
    return schedule.run_tick(session, day, [("referrals", r.task_overdue_referrals)])


def test_an_overdue_answer_becomes_one_task_for_the_lead_worker(world):
    """Does a sent referral past its answer date become one task for the lead worker, made
    once by two ticks, not made for an answered one, and closed when the answer comes?"""
    referral = sent(world)
    assert dict(only_referrals(db.session, DUE)) == {"referrals": 0}  # due today: not late
    late = DUE + dt.timedelta(days=1)
    assert (
        dict(schedule.run_tick(db.session, late))["Задачи по направлениям без ответа в срок"] == 1
    )
    assert (
        dict(schedule.run_tick(db.session, late))["Задачи по направлениям без ответа в срок"] == 0
    )
    tasks = db.session.scalars(
        select(Task).where(Task.source_key == f"referral:{referral.id}")
    ).all()
    assert len(tasks) == 1
    task = tasks[0]
    assert (task.assignee_id, task.status, task.case_id) == (
        world["worker"].id,
        "assigned",
        world["case"].id,
    )
    assert "Детская поликлиника № 1" in task.title and "07.03.2025" in task.title
    assert "невролог" not in task.title  # no health value in the title
    r.accept_referral(db.session, world["user"], referral.id, accepted_on=late, today=late)
    db.session.commit()
    db.session.refresh(task)
    assert task.status == "done" and "принял" in task.result
    assert dict(only_referrals(db.session, late + dt.timedelta(days=5))) == {"referrals": 0}


def test_the_overdue_task_is_made_once_even_if_the_check_is_bypassed(world, monkeypatch):
    """Does the unique source key keep a second task from being made when the job's own
    look-up misses the first (two servers at the same moment)?"""
    referral = sent(world)
    late = DUE + dt.timedelta(days=1)
    only_referrals(db.session, late)
    # A second server that read the referrals before the first committed its task.
    blind = select(Referral).where(Referral.id == referral.id)
    monkeypatch.setattr(r, "overdue_referrals_query", lambda today: blind)
    assert dict(only_referrals(db.session, late)) == {"referrals": 0}
    count = (
        select(func.count()).select_from(Task).where(Task.source_key == f"referral:{referral.id}")
    )
    assert db.session.scalar(count) == 1


def test_the_nurse_supports_the_mse_as_a_referral_with_a_result(world):
    """Does the nurse of the case (a task in it) refer the family to the МСЭ bureau, record
    the bureau's acceptance and its outcome as the result, kept as health data; and is a
    nurse without a task in the case refused as if it did not exist?"""
    nurse = specialist("nurse", last_name="Медсестра")
    f.task(
        world["case"].family,
        world["case"],
        title="Сопровождение на МСЭ",
        role="nurse",
        status="assigned",
        assignee=nurse,
    )
    other_nurse = account(specialist("nurse", last_name="Другая"))
    bureau = f.partner(name="Бюро МСЭ № 5", kind="mse")
    mse = f.service(kind="medical", name="Содействие в проведении медико-социальной экспертизы")
    db.session.commit()
    values = dict(
        partner_id=bureau.id,
        contact_id=None,
        service_id=mse.id,
        reason_kind="mse",
        reason="Переосвидетельствование ребёнка",
        today=SENT,
    )
    with pytest.raises(WorkflowError, match="Случай не найден"):
        r.prepare_referral(db.session, other_nurse, world["case"].id, **values)
    db.session.rollback()
    user = account(nurse)
    referral = r.prepare_referral(db.session, user, world["case"].id, **values)
    r.send_referral(db.session, user, referral.id, sent_on=SENT, answer_due=DUE, today=SENT)
    r.accept_referral(db.session, user, referral.id, accepted_on=DUE, today=DUE)
    r.fulfil_referral(
        db.session, user, referral.id, answered_on=DUE, answer="Инвалидность продлена", today=DUE
    )
    db.session.commit()
    assert (referral.status, referral.handled_by_id) == ("fulfilled", nurse.id)
    assert (referral.health_reason, referral.health_answer) == (
        "Переосвидетельствование ребёнка",
        "Инвалидность продлена",
    )
    assert (referral.reason, referral.answer) == (None, None)


def test_two_workers_answering_one_referral_at_once(app):
    """When two users (two connections) record the partner's acceptance of the same sent
    referral at the same moment, does exactly one win and the other get a Russian refusal
    naming the status it found (the row lock makes it wait and read the first's)?"""
    import threading

    from sqlalchemy.orm import Session

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks need PostgreSQL")
        area = f.district()
        worker = specialist("district_worker", (area,), last_name="Участковая")
        case = active_case(area, lead=worker)
        boss = f.user("coordinator")
        referral = f.referral(case, status="sent", sent_on=SENT, answer_due=DUE)
        db.session.commit()
        users, referral_id, engine = [account(worker).id, boss.id], referral.id, db.engine
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(user_id, day):
        with app.app_context(), Session(engine) as session:
            user = session.get(User, user_id)
            barrier.wait()
            try:
                r.accept_referral(session, user, referral_id, accepted_on=day, today=DUE)
                session.commit()
                outcomes.append("won")
            except WorkflowError as refused:
                session.rollback()
                outcomes.append(str(refused))

    threads = [
        threading.Thread(target=answer, args=pair) for pair in zip(users, (SENT, DUE), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("won") == 1, outcomes
    refusal = next(o for o in outcomes if o != "won")
    assert refusal == "Направление в статусе «принято»: принять его нельзя.", refusal
    with app.app_context():
        assert db.session.get(Referral, referral_id).status == "accepted"
