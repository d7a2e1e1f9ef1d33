"""The coordination council as work: a meeting, its agenda cases within the recorder's
scope, decisions that become tasks or referrals and are counted when carried out, the
protocol, the agreements ledger, the pilot report's rows and the bell's notices; and the
referral defects the council brought to light (a closure leaves no referral open, the
archive cancels the overdue task, the letter names the contact person).

Pages are driven through the real sign-in and forms with their CSRF token.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import factories as f
import openpyxl
import pytest
from conftest import csrf_token, make_user, signed_in
from sqlalchemy import func, select

from models import (
    Case,
    CouncilAgendaItem,
    CouncilDecision,
    CouncilMeeting,
    Family,
    PartnerContact,
    Person,
    Referral,
    StaffNotice,
    Task,
    User,
    db,
)
from workflows import council as wf
from workflows import referrals as rf
from workflows import reports, staff_notices
from workflows.cases import close_case
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.tasks import complete_task

TODAY = centre_today()
HELD = TODAY - dt.timedelta(days=2)


def post(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/council/")})


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _case(area, worker_staff_id: int, surname: str) -> int:
    fam, mother, _child = f.family_with_members(district_row=area, surname=surname)
    f.consent(fam, mother)
    case = f.case(
        db.session.get(Family, fam.id),
        db.session.get(Person, mother.id),
        lead_worker_id=worker_staff_id,
        start_date=TODAY - dt.timedelta(days=30),
        contract_date=TODAY - dt.timedelta(days=31),
        decision_date=TODAY - dt.timedelta(days=32),
        application_date=TODAY - dt.timedelta(days=40),
        planned_end_date=TODAY + dt.timedelta(days=120),
    )
    return case.id


@pytest.fixture
def place(app):
    """District A with its worker and a case, district B with its worker and a case; a
    coordinator, a psychologist; a clinic with a doctor; a service."""
    with app.app_context():
        area, other = f.district(name="Участок А"), f.district(name="Участок Б")
        worker = make_user("district_worker", "worker_a", districts=[area.id])
        worker_b = make_user("district_worker", "worker_b", districts=[other.id])
        boss = make_user("coordinator", "boss", last_name="Петрова")
        psy = make_user("psychologist", "psy", last_name="Орлова", first_name="Анна")
        make_user("viewer", "chief")
        case_a = _case(area, worker.staff_id, "Алексеевы")
        case_b = _case(other, worker_b.staff_id, "Борисовы")
        clinic = f.partner(name="Детская поликлиника № 1", kind="clinic")
        doctor = PartnerContact(
            partner=clinic,
            last_name="Смирнова",
            first_name="Ольга",
            middle_name="Ивановна",
            position="заведующая педиатрическим отделением",
        )
        db.session.add(doctor)
        escort = f.service(kind="medical", name="Сопровождение в медицинские организации")
        agreement = f.partner_agreement(
            clinic, valid_from=TODAY - dt.timedelta(days=300), valid_to=TODAY + dt.timedelta(20)
        )
        db.session.commit()
        return {
            "area": area.id,
            "other": other.id,
            "worker": worker.staff_id,
            "boss": boss.staff_id,
            "psy": psy.staff_id,
            "case_a": case_a,
            "case_b": case_b,
            "clinic": clinic.id,
            "doctor": doctor.id,
            "escort": escort.id,
            "agreement": agreement.id,
        }


def record(client, place, **extra):
    return post(
        client,
        "/council/new",
        {
            "held_on": HELD.isoformat(),
            "district": place["area"],
            "agenda": "О семьях с детьми-инвалидами участка",
            "staff": [place["worker"], place["psy"]],
            "contacts": [place["doctor"]],
            **extra,
        },
    )


def the_meeting(app) -> CouncilMeeting:
    with app.app_context():
        row = db.session.scalar(select(CouncilMeeting).order_by(CouncilMeeting.id.desc()))
        db.session.expunge_all()
        return row


def user_of(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def test_journey_meeting_decision_task_done_counted_in_the_report(app, place):
    """The district worker records a meeting, puts a case of the district on its agenda,
    decides that the psychologist consults the family and the clinic examines the child;
    the psychologist's task is done → the meeting page and the pilot report count one
    decision carried out of two."""
    worker = signed_in(app, "worker_a")
    assert record(worker, place).status_code == 302
    meeting = the_meeting(app)
    assert (meeting.district_id, meeting.recorded_by_id) == (place["area"], place["worker"])
    url = f"/council/{meeting.id}"
    assert (
        post(worker, f"{url}/agenda", {"case": place["case_a"], "note": "Развитие"}).status_code
        == 302
    )
    answer = post(
        worker,
        f"{url}/decide",
        {
            "case": place["case_a"],
            "what": "Провести консультацию семьи",
            "due_on": (TODAY + dt.timedelta(days=7)).isoformat(),
            "executor": "staff",
            "staff": place["psy"],
        },
    )
    assert answer.status_code == 302, text(answer)
    answer = post(
        worker,
        f"{url}/decide",
        {
            "case": place["case_a"],
            "what": "Осмотр невролога",
            "due_on": (TODAY + dt.timedelta(days=10)).isoformat(),
            "executor": "partner",
            "partner": place["clinic"],
            "contact": place["doctor"],
            "service": place["escort"],
            "reason_kind": "medical",
        },
    )
    assert answer.status_code == 302, text(answer)
    with app.app_context():
        decisions = db.session.scalars(select(CouncilDecision).order_by(CouncilDecision.id)).all()
        assert [d.executor for d in decisions] == ["staff", "partner"]
        task = db.session.get(Task, decisions[0].task_id)
        assert (task.assignee_id, task.case_id) == (place["psy"], place["case_a"])
        referral = db.session.get(Referral, decisions[1].referral_id)
        assert (referral.contact_id, referral.status) == (place["doctor"], "prepared")
        page = text(worker.get(url))
        assert re.search(r'id="decision-count">2 решения, исполнено 0\.<', page)
        assert "Орлова Анна" in page and "Смирнова Ольга Ивановна" in page
        complete_task(db.session, task.id, user_of("psy"), "Консультация проведена", TODAY)
        db.session.commit()
    page = text(worker.get(url))
    assert re.search(r'id="decision-count">2 решения, исполнено 1\.<', page)
    with app.app_context():
        params = reports.Params(TODAY - dt.timedelta(days=30), TODAY)
        report = reports.pilot_report(db.session, user_of("boss"), params)
        rows = dict(
            (r[0], r[1])
            for t in report.tables
            if t.title == "Заседания координационного совета"
            for r in t.rows
        )
        assert rows["Заседаний проведено"] == 1
        assert rows["Случаев рассмотрено"] == 1
        assert rows["Решений принято"] == 2
        assert rows["Решений исполнено"] == 1
        before = reports.Params(TODAY - dt.timedelta(days=90), HELD - dt.timedelta(days=1))
        earlier = reports.pilot_report(db.session, user_of("boss"), before)
        table = next(t for t in earlier.tables if t.title == "Заседания координационного совета")
        assert dict((r[0], r[1]) for r in table.rows)["Заседаний проведено"] == 0
    since = (TODAY - dt.timedelta(days=30)).isoformat()
    book = openpyxl.load_workbook(
        io.BytesIO(
            signed_in(app, "boss")
            .get(f"/reports/pilot/xlsx?date_from={since}&date_to={TODAY.isoformat()}")
            .get_data()
        )
    )
    # The council's sheet among the report's others, found by its rows.
    cells = next(
        cells
        for sheet in book.worksheets
        if "Решений принято"
        in (cells := {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row})
    )
    assert cells["Решений принято"] == 2 and cells["Решений исполнено"] == 1


def test_the_report_figures_match_generated_meetings(app, place):
    """Several meetings made through the workflow: the report's rows equal what the
    tables hold, decision by decision."""
    with app.app_context():
        boss = user_of("boss")
        made = done = 0
        for days in (3, 5, 8):
            meeting = wf.record_meeting(
                db.session,
                boss,
                held_on=TODAY - dt.timedelta(days=days),
                district_id=place["area"],
                agenda="Плановое заседание",
                staff_ids=[place["worker"]],
                contact_ids=[],
                today=TODAY,
            )
            wf.add_agenda_case(db.session, boss, meeting.id, case_id=place["case_a"], note=None)
            for n in range(days % 3 + 1):
                decision = wf.decide(
                    db.session,
                    boss,
                    meeting.id,
                    wf.Decision(place["case_a"], f"Поручение {n}", TODAY, staff_id=place["worker"]),
                    today=TODAY,
                )
                made += 1
                if n == 0:
                    complete_task(
                        db.session, decision.task_id, user_of("worker_a"), "Сделано", TODAY
                    )
                    done += 1
        db.session.commit()
        rows = dict(
            wf.council_figures(db.session, True == True, TODAY - dt.timedelta(days=10), TODAY, None)  # noqa: E712
        )
        assert rows["Заседаний проведено"] == 3
        assert (
            rows["Решений принято"]
            == made
            == db.session.scalar(select(func.count()).select_from(CouncilDecision))
        )
        assert rows["Решений исполнено"] == done


def test_agenda_takes_no_case_of_another_district_and_another_worker_gets_404(app, place):
    """The coordinator cannot put district B's case on district A's agenda; district B's
    worker neither sees district A's meeting nor records district A's council."""
    boss = signed_in(app, "boss")
    assert record(boss, place).status_code == 302
    meeting = the_meeting(app)
    answer = post(boss, f"/council/{meeting.id}/agenda", {"case": place["case_b"]})
    assert answer.status_code == 200
    assert "живёт на другом участке" in text(answer)
    other = signed_in(app, "worker_b")
    assert other.get(f"/council/{meeting.id}").status_code == 404
    assert other.get(f"/council/{meeting.id}/protocol").status_code == 404
    assert f"meeting-{meeting.id}" not in text(other.get("/council/"))
    answer = record(other, place)
    assert answer.status_code == 200
    assert "этого участка" in text(answer)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CouncilAgendaItem)) == 0
        assert db.session.scalar(select(func.count()).select_from(CouncilMeeting)) == 1


def test_a_worker_cannot_put_a_case_out_of_their_scope_on_the_agenda(app, place):
    """The recorder's row scope decides: a case the worker may not see is «not found»."""
    with app.app_context():
        worker = user_of("worker_a")
        meeting = wf.record_meeting(
            db.session, worker, held_on=HELD, district_id=place["area"], agenda="Повестка",
            staff_ids=[place["worker"]], contact_ids=[], today=TODAY,
        )  # fmt: skip
        with pytest.raises(WorkflowError, match="Выберите случай из списка"):
            wf.add_agenda_case(db.session, worker, meeting.id, case_id=place["case_b"], note=None)


def test_refusals_are_russian_and_leave_nothing(app, place):
    """A meeting in the future, without a district, agenda or participants; a decision
    without an executor, a case off the agenda, a due date before the meeting."""
    worker = signed_in(app, "worker_a")
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    assert "дата не в будущем" in text(record(worker, place, held_on=future))
    assert "Выберите участок" in text(record(worker, place, district=""))
    assert "Запишите повестку" in text(record(worker, place, agenda=" "))
    assert "Отметьте участников" in text(record(worker, place, staff=[], contacts=[]))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CouncilMeeting)) == 0
    record(worker, place)
    meeting = the_meeting(app)
    url = f"/council/{meeting.id}"
    off = post(worker, f"{url}/decide", {"case": place["case_a"], "what": "x", "due_on": TODAY.isoformat(), "executor": "staff", "staff": place["psy"]})  # fmt: skip
    assert "по случаю из повестки" in text(off)
    post(worker, f"{url}/agenda", {"case": place["case_a"]})
    again = post(worker, f"{url}/agenda", {"case": place["case_a"]})
    assert "уже в повестке" in text(again)
    early = (HELD - dt.timedelta(days=1)).isoformat()
    base = {"case": place["case_a"], "what": "Консультация"}
    assert "не раньше даты заседания" in text(post(worker, f"{url}/decide", {**base, "due_on": early, "executor": "staff", "staff": place["psy"]}))  # fmt: skip
    assert "Назовите исполнителя" in text(post(worker, f"{url}/decide", {**base, "due_on": TODAY.isoformat(), "executor": "staff"}))  # fmt: skip
    assert "Выберите услугу" in text(post(worker, f"{url}/decide", {**base, "due_on": TODAY.isoformat(), "executor": "partner", "partner": place["clinic"]}))  # fmt: skip
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CouncilDecision)) == 0
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 0
    viewer = signed_in(app, "chief")
    assert viewer.get(url).status_code == 403


def chosen(page: str, name: str) -> set[str]:
    """The values chosen in the <select name=`name`>s of `page`."""
    found = set()
    for select_tag in re.findall(rf'<select[^>]*name="{name}".*?</select>', page, re.S):
        found.update(re.findall(r'<option value="([^"]*)" selected>', select_tag))
    return found


def test_a_refused_form_keeps_what_was_chosen(app, place):
    """Nothing typed or chosen is lost on a refusal: a meeting without its agenda keeps its
    participants chosen; a decision without its service keeps the partner, the contact
    person, the reason and the partner as the executor; one without what to do keeps
    its staff member."""
    worker = signed_in(app, "worker_a")
    page = text(record(worker, place, agenda=" "))
    assert "Запишите повестку" in page
    assert chosen(page, "staff") == {str(place["worker"]), str(place["psy"])}
    assert chosen(page, "contacts") == {str(place["doctor"])}
    record(worker, place)
    url = f"/council/{the_meeting(app).id}"
    post(worker, f"{url}/agenda", {"case": place["case_a"]})
    refused = text(
        post(
            worker,
            f"{url}/decide",
            {
                "case": place["case_a"],
                "what": "Осмотр невролога",
                "due_on": TODAY.isoformat(),
                "executor": "partner",
                "partner": place["clinic"],
                "contact": place["doctor"],
                "reason_kind": "medical",
            },
        )
    )
    assert "Выберите услугу" in refused
    assert chosen(refused, "partner") == {str(place["clinic"])}
    assert chosen(refused, "contact") == {str(place["doctor"])}
    assert chosen(refused, "reason_kind") == {"medical"}
    assert chosen(refused, "staff") == set()  # the participants' picker is not this form
    assert 'name="executor" value="partner" checked' in refused
    assert 'name="executor" value="staff" >' in refused
    missing = text(post(worker, f"{url}/decide", {"case": place["case_a"], "what": "", "due_on": TODAY.isoformat(), "executor": "staff", "staff": place["psy"]}))  # fmt: skip
    assert chosen(missing, "staff") == {str(place["psy"])}


def test_a_participant_reads_how_many_agenda_cases_are_out_of_reach(app, place):
    """A participant who may not see an agenda case (another district's worker) reads «И
    ещё 1 случай вне вашего доступа» (the number once, the noun agreeing with it) and
    nothing of the case."""
    with app.app_context():
        other_worker = user_of("worker_b").staff_id
    worker = signed_in(app, "worker_a")
    record(worker, place, staff=[place["worker"], other_worker])
    url = f"/council/{the_meeting(app).id}"
    post(worker, f"{url}/agenda", {"case": place["case_a"], "note": "Развитие"})
    page = text(signed_in(app, "worker_b").get(url))  # a participant, of another district
    assert "И ещё 1 случай вне вашего доступа." in page
    assert "Алексеев" not in page


def test_the_database_holds_the_executor_and_the_agenda(app, place):
    """A decision without its task, or about a case off the agenda, is refused by the
    database itself."""
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        meeting = f.council_meeting(db.session.get(Case, place["case_a"]).family.district)
        db.session.add(CouncilAgendaItem(meeting_id=meeting.id, case_id=place["case_a"]))
        db.session.commit()
        for row in (
            CouncilDecision(meeting_id=meeting.id, case_id=place["case_a"], what="x",
                            due_on=TODAY, executor="staff", staff_id=place["psy"]),
            CouncilDecision(meeting_id=meeting.id, case_id=place["case_b"], what="x",
                            due_on=TODAY, executor="partner", partner_id=place["clinic"],
                            referral_id=None),
        ):  # fmt: skip
            db.session.add(row)
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()


def test_the_protocol_prints_on_the_centres_requisites(app, place):
    """«Протокол заседания»: the centre, participants, cases, decisions with their state."""
    worker = signed_in(app, "worker_a")
    record(worker, place)
    meeting = the_meeting(app)
    post(worker, f"/council/{meeting.id}/agenda", {"case": place["case_a"]})
    post(worker, f"/council/{meeting.id}/decide", {"case": place["case_a"], "what": "Консультация психолога", "due_on": TODAY.isoformat(), "executor": "staff", "staff": place["psy"]})  # fmt: skip
    page = text(worker.get(f"/council/{meeting.id}/protocol"))
    assert app.config["CENTRE_NAME"] in page
    assert f"Протокол № {meeting.id}" in page and "координационного совета" in page
    assert "Присутствовали" in page and "Смирнова Ольга Ивановна" in page
    assert "Алексеевы" in page and "Консультация психолога" in page and "выполняется" in page
    assert "Председатель" in page and "print-contract.css" in page


def test_existing_meetings_keep_their_participants_and_text(app, place):
    """A meeting recorded before (staff, partner institutions, decisions as text) shows
    them on its page."""
    with app.app_context():
        staff = db.session.get(Case, place["case_a"]).lead_worker
        clinic = db.session.get(Case, place["case_a"]).family.district
        meeting = f.council_meeting(
            clinic, staff=[staff], decisions="Решили: обследовать семьи участка"
        )
        db.session.commit()
        meeting_id, name = meeting.id, staff.full_name
    page = text(signed_in(app, "boss").get(f"/council/{meeting_id}"))
    assert "Решили: обследовать семьи участка" in page and name in page


def test_notices_answer_to_my_referral_decision_naming_me_and_overdue(app, place):
    """The psychologist hears of the decision naming them; the worker who prepared a
    referral hears of the partner's answer recorded by the coordinator; the lead worker
    hears of an overdue answer from the tick, once; marking read clears them."""
    with app.app_context():
        boss, worker = user_of("boss"), user_of("worker_a")
        meeting = wf.record_meeting(
            db.session, boss, held_on=HELD, district_id=place["area"], agenda="Повестка",
            staff_ids=[place["psy"]], contact_ids=[], today=TODAY,
        )  # fmt: skip
        wf.add_agenda_case(db.session, boss, meeting.id, case_id=place["case_a"], note=None)
        wf.decide(db.session, boss, meeting.id,
                  wf.Decision(place["case_a"], "Диагностика ребёнка", TODAY, staff_id=place["psy"]),
                  today=TODAY)  # fmt: skip
        referral = rf.prepare_referral(
            db.session, worker, place["case_a"], partner_id=place["clinic"], contact_id=None,
            service_id=place["escort"], reason_kind="medical", reason="Осмотр", today=TODAY,
        )  # fmt: skip
        assert referral.prepared_by_id == place["worker"]
        week = TODAY - dt.timedelta(days=20)
        rf.send_referral(
            db.session, worker, referral.id, sent_on=TODAY, answer_due=TODAY, today=TODAY
        )
        db.session.commit()
        tomorrow = TODAY + dt.timedelta(days=1)
        assert rf.task_overdue_referrals(db.session, tomorrow) == 1
        assert rf.task_overdue_referrals(db.session, tomorrow) == 0
        rf.accept_referral(db.session, boss, referral.id, accepted_on=TODAY, today=tomorrow)
        db.session.commit()
        psy_texts = [n.text for n in staff_notices.notices_of(db.session, user_of("psy"), TODAY)]
        assert any("Решение совета" in t and "Диагностика ребёнка" in t for t in psy_texts)
        mine = [n for n in staff_notices.notices_of(db.session, user_of("worker_a"), TODAY)]
        kinds = sorted(n.kind for n in mine if n.kind not in ("assigned", "overdue"))
        assert kinds == ["referral_answer", "referral_overdue"]
        assert any("принято" in n.text for n in mine)
        assert db.session.scalar(select(func.count()).select_from(StaffNotice)) == 3
        del week
    bell = text(signed_in(app, "psy").get("/"))
    assert "Диагностика ребёнка" in bell
    psy = signed_in(app, "psy")
    psy.post("/notices/read", data={"csrf_token": csrf_token(psy)})
    with app.app_context():
        left = staff_notices.notices_of(db.session, user_of("psy"), TODAY)
        assert not [n for n in left if n.kind == "council_decision"]


def test_the_ledger_lists_referrals_answer_times_and_decisions(app, place):
    """«Пакет к продлению»: the agreement's referrals with the days to an answer, the
    council decisions that concerned the partner and whether they were carried out."""
    with app.app_context():
        boss = user_of("boss")
        meeting = wf.record_meeting(
            db.session, boss, held_on=HELD, district_id=place["area"], agenda="Повестка",
            staff_ids=[place["worker"]], contact_ids=[place["doctor"]], today=TODAY,
        )  # fmt: skip
        wf.add_agenda_case(db.session, boss, meeting.id, case_id=place["case_a"], note=None)
        decision = wf.decide(
            db.session, boss, meeting.id,
            wf.Decision(place["case_a"], "Осмотр невролога", TODAY, partner_id=place["clinic"],
                        contact_id=place["doctor"], service_id=place["escort"],
                        reason_kind="medical"),
            today=TODAY,
        )  # fmt: skip
        rid = decision.referral_id
        rf.send_referral(db.session, boss, rid, sent_on=TODAY, answer_due=TODAY, today=TODAY)
        rf.accept_referral(db.session, boss, rid, accepted_on=TODAY, today=TODAY)
        rf.fulfil_referral(db.session, boss, rid, answered_on=TODAY, answer="Осмотрен", today=TODAY)
        db.session.commit()
    page = text(signed_in(app, "boss").get(f"/agreement_ledger/{place['agreement']}"))
    assert "Пакет к продлению" in page and "Детская поликлиника № 1" in page
    assert "Осмотр невролога" in page and "исполнено" in page
    assert "0 дн." in page  # sent and accepted the same day
    assert (
        signed_in(app, "worker_a").get(f"/agreement_ledger/{place['agreement']}").status_code == 403
    )


def test_a_case_with_an_open_referral_does_not_close(app, place):
    """Closing refuses, naming the open referral; once it is answered the case closes."""
    with app.app_context():
        worker = user_of("worker_a")
        referral = rf.prepare_referral(
            db.session, worker, place["case_a"], partner_id=place["clinic"], contact_id=None,
            service_id=place["escort"], reason_kind="medical", reason="Осмотр", today=TODAY,
        )  # fmt: skip
        db.session.commit()
        case = db.session.get(Case, place["case_a"])
        with pytest.raises(WorkflowError, match="незакрытые направления") as refused:
            close_case(db.session, worker, case, reason="goal_achieved", closed_on=TODAY,
                       outcome=None, cancel_open_tasks=True, today=TODAY)  # fmt: skip
        assert f"№ {referral.id}" in str(refused.value) and "подготовлено" in str(refused.value)
        db.session.rollback()
        assert db.session.get(Case, place["case_a"]).status == "active"


def test_archiving_a_referral_cancels_its_overdue_task(app, place):
    """«В архив» on a referral whose answer is overdue cancels the task the tick made."""
    with app.app_context():
        worker = user_of("worker_a")
        referral = rf.prepare_referral(
            db.session, worker, place["case_a"], partner_id=place["clinic"], contact_id=None,
            service_id=place["escort"], reason_kind="medical", reason="Осмотр", today=TODAY,
        )  # fmt: skip
        rf.send_referral(
            db.session, worker, referral.id, sent_on=TODAY, answer_due=TODAY, today=TODAY
        )
        db.session.commit()
        rf.task_overdue_referrals(db.session, TODAY + dt.timedelta(days=1))
        db.session.commit()
        rid = referral.id
    boss = signed_in(app, "boss")
    answer = boss.post(
        "/referral/delete/",
        data={"id": rid, "csrf_token": csrf_token(boss, f"/referral/details/?id={rid}")},
    )
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.get(Referral, rid).archived_at is not None
        task = db.session.scalar(select(Task).where(Task.source_key == rf.referral_task_key(rid)))
        assert task.status == "cancelled" and "в архив" in task.result


def test_the_letter_names_the_chosen_contact_person(app, place):
    """The referral letter names the contact person (and their position) when chosen."""
    with app.app_context():
        referral = rf.prepare_referral(
            db.session, user_of("worker_a"), place["case_a"], partner_id=place["clinic"],
            contact_id=place["doctor"], service_id=place["escort"], reason_kind="medical",
            reason="Осмотр", today=TODAY,
        )  # fmt: skip
        db.session.commit()
        rid = referral.id
    letter = text(signed_in(app, "worker_a").get(f"/referrals/{rid}/print"))
    assert "Смирнова Ольга Ивановна" in letter
    assert "Контактное лицо" in letter and "заведующая педиатрическим отделением" in letter


def test_daily_digest_one_message_a_day_only_when_new_delivered_by_smtp(app, place):
    """The psychologist opts in from the bell; a council decision names them; the tick's
    digest job puts one message in the outbox (a second run none), the worker delivers it
    to the local SMTP server; the next day, with nothing new, no digest is made."""
    from outbox_servers import smtp_server

    from models import Message, Staff
    from workflows import delivery

    with app.app_context():
        db.session.get(Staff, place["psy"]).email = "orlova@kcson.example"
        db.session.commit()
    psy = signed_in(app, "psy")
    answer = psy.post("/notices/digest", data={"digest": "1", "csrf_token": csrf_token(psy)})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.get(Staff, place["psy"]).notice_digest is True
        boss = user_of("boss")
        meeting = wf.record_meeting(
            db.session, boss, held_on=HELD, district_id=place["area"], agenda="Повестка",
            staff_ids=[place["psy"]], contact_ids=[], today=TODAY,
        )  # fmt: skip
        wf.add_agenda_case(db.session, boss, meeting.id, case_id=place["case_a"], note=None)
        wf.decide(db.session, boss, meeting.id,
                  wf.Decision(place["case_a"], "Диагностика", TODAY + dt.timedelta(days=30),
                              staff_id=place["psy"]),
                  today=TODAY)  # fmt: skip
        db.session.commit()
        assert staff_notices.send_digests(db.session, TODAY) == 1
        assert staff_notices.send_digests(db.session, TODAY) == 0
        db.session.commit()
        [message] = db.session.scalars(select(Message)).all()
        assert message.event_kind == "staff_digest" and message.address == "orlova@kcson.example"
        assert "решений совета с вашим участием: 1" in message.body
        assert "Алексеевы" not in message.body and "Диагностика" not in message.body
        later = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
        with smtp_server() as server:
            senders = delivery.senders_from(
                {"OPORA_SMTP_HOST": "127.0.0.1", "OPORA_SMTP_PORT": server.port,
                 "OPORA_SMTP_FROM": "opora@kcson.example"}
            )  # fmt: skip
            tally = delivery.deliver(db.session, senders, now=later)
        assert tally.sent == 1
        [mail] = server.received
        assert mail["To"] == "orlova@kcson.example" and "Опора: новое для вас" in mail["Subject"]
        assert staff_notices.send_digests(db.session, TODAY + dt.timedelta(days=2)) == 0
    refused = signed_in(app, "chief")
    answer = refused.post(
        "/notices/digest", data={"digest": "1", "csrf_token": csrf_token(refused)},
        follow_redirects=True,
    )  # fmt: skip
    assert "нужен адрес эл. почты" in text(answer)


def test_the_closure_page_lists_open_referrals_and_refuses_in_russian(app, place):
    """The closure page names the open referral; sending the form is refused above it and
    the case stays active."""
    with app.app_context():
        referral = rf.prepare_referral(
            db.session, user_of("worker_a"), place["case_a"], partner_id=place["clinic"],
            contact_id=None, service_id=place["escort"], reason_kind="medical",
            reason="Осмотр", today=TODAY,
        )  # fmt: skip
        db.session.commit()
        rid = referral.id
    worker = signed_in(app, "worker_a")
    url = f"/case_flow/{place['case_a']}/closure"
    page = text(worker.get(url))
    assert "Незакрытые направления партнёрам: 1" in page and f"№ {rid}" in page
    answer = worker.post(
        url,
        data={"reason": "goal_achieved", "closed_on": TODAY.isoformat(), "open_tasks": "cancel",
              "csrf_token": csrf_token(worker, url)},
        follow_redirects=True,
    )  # fmt: skip
    assert "незакрытые направления партнёрам (1)" in text(answer)
    with app.app_context():
        assert db.session.get(Case, place["case_a"]).status == "active"
