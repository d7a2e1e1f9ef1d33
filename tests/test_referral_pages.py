"""The referral pages over HTTP: the case's referrals (prepare, send, answer), the letter,
the scoped list, the partner's people — and the journey case → referral to a clinic →
answer overdue → task → answered.

Each test signs in through the real /login form and posts the real forms with their
CSRF token; a refusal comes back in Russian under its field.
"""

from __future__ import annotations

import datetime as dt
import html
import io

import factories as f
import openpyxl
import pytest
from conftest import csrf_token, make_user, signed_in
from sqlalchemy import select

from models import Case, Family, PartnerContact, Person, Referral, Task, db
from workflows import schedule
from workflows.centre import centre_settings
from workflows.dates import centre_today
from workflows.referrals import default_answer_due

TODAY = centre_today()
REASON = "Консультация невролога: судороги у ребёнка"


def post(client, url: str, data: dict, form_url: str = "/"):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_url)})


@pytest.fixture
def place(app):
    """District A with its worker (who leads a case of a family of A), district B with
    its worker; a coordinator, an admin, a lawyer; a clinic with a doctor, a school."""
    with app.app_context():
        area, other = f.district(), f.district()
        worker = make_user("district_worker", "worker_a", districts=[area.id])
        make_user("district_worker", "worker_b", districts=[other.id])
        make_user("coordinator", "boss")
        make_user("admin", "root")
        fam, mother, _child = f.family_with_members(
            district_row=area, surname="Алексеевы", address="ул. Садовая, д. 7"
        )
        f.consent(fam, mother)
        case = f.case(
            db.session.get(Family, fam.id),
            db.session.get(Person, mother.id),
            lead_worker_id=worker.staff_id,
            start_date=TODAY - dt.timedelta(days=30),
            contract_date=TODAY - dt.timedelta(days=31),
            decision_date=TODAY - dt.timedelta(days=32),
            application_date=TODAY - dt.timedelta(days=40),
            planned_end_date=TODAY + dt.timedelta(days=120),
        )
        clinic = f.partner(name="Детская поликлиника № 1", kind="clinic", address="ул. Мира, 1")
        school = f.partner(name="Школа № 3", kind="school")
        doctor = PartnerContact(
            partner=clinic,
            last_name="Смирнова",
            first_name="Ольга",
            middle_name="Ивановна",
            position="заведующая педиатрическим отделением",
        )
        teacher = PartnerContact(
            partner=school, last_name="Белова", first_name="Ирина", position="социальный педагог"
        )
        db.session.add_all([doctor, teacher])
        escort = f.service(kind="medical", name="Сопровождение в медицинские организации")
        schooling = f.service(kind="pedagogical", name="Содействие в получении образования")
        db.session.commit()
        return {
            "case": case.id,
            "worker": worker.staff_id,
            "clinic": clinic.id,
            "school": school.id,
            "doctor": doctor.id,
            "teacher": teacher.id,
            "escort": escort.id,
            "schooling": schooling.id,
        }


def prepare(client, place, partner="clinic", contact="doctor", service="escort", kind="medical",
            reason=REASON):  # fmt: skip
    return post(
        client,
        f"/referrals/case/{place['case']}/prepare",
        {
            "partner": place[partner],
            "contact": place[contact],
            "service": place[service],
            "reason_kind": kind,
            "reason": reason,
        },
    )


def the_referral(app, **where) -> Referral:
    with app.app_context():
        row = db.session.scalar(select(Referral).filter_by(**where).order_by(Referral.id.desc()))
        db.session.expunge_all()
        return row


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_journey_case_clinic_referral_overdue_task_answered(app, place):
    """A case → an outgoing referral to a clinic (prepared, printed, sent) → the answer is
    overdue → the tick gives the lead worker one task → the clinic accepts (the task is
    done) → the escort's result is recorded."""
    worker = signed_in(app, "worker_a")
    details = text(worker.get(f"/case/details/?id={place['case']}"))
    assert f'href="/referrals/case/{place["case"]}"' in details
    answer = prepare(worker, place)
    assert answer.status_code == 302
    referral = the_referral(app, case_id=place["case"])
    assert (referral.status, referral.contact_id) == ("prepared", place["doctor"])
    page = text(worker.get(f"/referrals/case/{place['case']}"))
    assert REASON in page and "подготовлено" in page

    letter = text(worker.get(f"/referrals/{referral.id}/print"))
    assert "Направление" in letter and "Детская поликлиника № 1" in letter
    # The addressee in the dative, as a letter is addressed.
    assert "Смирновой Ольге Ивановне" in letter and REASON in letter

    sent_on = due = TODAY  # the answer is due today: overdue from tomorrow
    answer = post(
        worker,
        f"/referrals/{referral.id}/send",
        {"sent_on": sent_on.isoformat(), "answer_due": due.isoformat()},
    )
    assert answer.status_code == 302
    assert the_referral(app, id=referral.id).status == "sent"

    tomorrow = TODAY + dt.timedelta(days=1)
    with app.app_context():
        for _ in range(2):  # two ticks make one task
            schedule.run_tick(db.session, tomorrow)
        tasks = db.session.scalars(
            select(Task).where(Task.source_key == f"referral:{referral.id}")
        ).all()
        assert [(t.assignee_id, t.status) for t in tasks] == [(place["worker"], "assigned")]
        task_id = tasks[0].id
    assert "Нет ответа на направление" in text(worker.get("/my_tasks/"))

    answer = post(worker, f"/referrals/{referral.id}/accept", {"accepted_on": TODAY.isoformat()})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.get(Task, task_id).status == "done"
    answer = post(
        worker,
        f"/referrals/{referral.id}/fulfil",
        {"answered_on": TODAY.isoformat(), "answer": "Приём состоялся, медсестра сопровождала"},
    )
    assert answer.status_code == 302
    done = the_referral(app, id=referral.id)
    assert (done.status, done.health_answer) == (
        "fulfilled",
        "Приём состоялся, медсестра сопровождала",
    )
    assert "исполнено" in text(worker.get(f"/referrals/case/{place['case']}"))


def test_a_refusal_is_shown_under_its_field(app, place):
    """Is an answer date before the sending refused in Russian under that field, with the
    referral left as it was; and a second open referral of the case to the partner for
    the service under the service?"""
    worker = signed_in(app, "worker_a")
    prepare(worker, place)
    referral = the_referral(app, case_id=place["case"])
    page = text(
        post(
            worker,
            f"/referrals/{referral.id}/send",
            {
                "sent_on": TODAY.isoformat(),
                "answer_due": (TODAY - dt.timedelta(days=1)).isoformat(),
            },
        )
    )
    assert 'id="error-answer_due">Срок ответа — не раньше даты отправки.' in page
    assert the_referral(app, id=referral.id).status == "prepared"
    page = text(prepare(worker, place))
    assert f"уже есть незакрытое направление № {referral.id}" in page
    assert 'id="error-service"' in page


def test_the_page_offers_the_default_answer_date(app, place):
    """Does the send form offer today and the answer term of models/terms.py?"""
    worker = signed_in(app, "worker_a")
    prepare(worker, place)
    page = text(worker.get(f"/referrals/case/{place['case']}"))
    assert f'value="{default_answer_due(TODAY).isoformat()}"' in page


def test_another_districts_worker_gets_404(app, place):
    """Is every referral page of a case in district A a 404 for the worker of district B?"""
    prepare(signed_in(app, "worker_a"), place)
    referral = the_referral(app, case_id=place["case"])
    stranger = signed_in(app, "worker_b")
    assert stranger.get(f"/referrals/case/{place['case']}").status_code == 404
    assert stranger.get(f"/referrals/{referral.id}/print").status_code == 404
    assert stranger.get(f"/referral/details/?id={referral.id}").status_code == 404
    today = TODAY.isoformat()
    answer = post(
        stranger, f"/referrals/{referral.id}/send", {"sent_on": today, "answer_due": today}
    )
    assert answer.status_code == 404
    assert prepare(stranger, place).status_code == 404
    assert "Алексеевы" not in text(stranger.get("/referral/"))
    assert the_referral(app, id=referral.id).status == "prepared"


def test_medical_reason_only_for_roles_that_read_health(app, place):
    """Does the admin (no health right) see a medical referral without its reason — on
    the case's page, in the list, its details and export — and not print its letter,
    while an educational referral's reason shows to all and the coordinator sees both?"""
    worker = signed_in(app, "worker_a")
    prepare(worker, place)
    prepare(worker, place, "school", "teacher", "schooling", "education", "Перевод в школу № 3")
    medical = the_referral(app, reason_kind="medical")
    admin = signed_in(app, "root")
    page = text(admin.get(f"/referrals/case/{place['case']}"))
    assert "Перевод в школу № 3" in page and REASON not in page
    assert f'id="reason-hidden-{medical.id}"' in page
    assert 'id="prepare-form"' not in page  # the admin reads, does not refer
    assert admin.get(f"/referrals/{medical.id}/print").status_code == 403
    for url in ("/referral/", f"/referral/details/?id={medical.id}"):
        answer = admin.get(url)
        assert answer.status_code == 200, url
        assert REASON not in text(answer) and "медицинские сведения)" not in text(answer), url
    exported = admin.get("/referral/export/xlsx/")
    assert exported.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(exported.data)).active
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
    assert "Перевод в школу № 3" in cells  # an educational reason is exported to all
    assert REASON not in cells
    boss = signed_in(app, "boss")
    assert REASON in text(boss.get(f"/referrals/case/{place['case']}"))
    assert REASON in text(boss.get(f"/referral/details/?id={medical.id}"))


def test_the_letter_prints_on_the_centres_requisites(app, place, monkeypatch):
    """Is the letter an A4 print page in Russian under the centre's name and requisites,
    naming the partner, its contact, the service and the answer date?"""
    with app.app_context():  # the administrator's «Реквизиты центра»
        row = centre_settings(db.session)
        row.address = "600000, г. Судогда, ул. Ленина, д. 1"
        row.phone = "8 (49235) 2-00-00"
        row.director_last_name, row.director_first_name = "Петрова", "Нина"
        row.director_middle_name = "Васильевна"
        db.session.commit()
    worker = signed_in(app, "worker_a")
    prepare(worker, place, "school", "teacher", "schooling", "education", "Перевод в школу")
    referral = the_referral(app, case_id=place["case"])
    letter = text(worker.get(f"/referrals/{referral.id}/print"))
    assert '<html lang="ru">' in letter and "print-contract.css" in letter
    assert app.config["CENTRE_NAME"] in letter
    assert "ул. Ленина, д. 1" in letter and "тел. 8 (49235) 2-00-00" in letter
    assert "Петрова Н. В." in letter and "Школа № 3" in letter and "Беловой Ирине" in letter
    assert "Содействие в получении образования" in letter and "Исх. № " in letter
    css = app.test_client().get("/static/print-contract.css").get_data(as_text=True)
    assert "size: A4" in css


def test_the_partners_page_shows_its_people_and_only_the_coordinator_edits_them(app, place):
    """Does a partner's page list its contact persons; may the coordinator add one and
    archive («Удалить») it, while the district worker only reads them?"""
    boss = signed_in(app, "boss")
    page = text(boss.get(f"/partner/details/?id={place['clinic']}"))
    assert "Контактные лица" in page and "Смирнова" in page
    answer = post(
        boss,
        "/partner_contact/new/",
        {
            "partner": place["clinic"],
            "last_name": "Кравцова",
            "first_name": "Нина",
            "position": "медицинская сестра",
            "phone": "+7 900 111-22-33",
        },
        "/partner_contact/new/",
    )
    assert answer.status_code == 302, text(answer)[:2000]
    with app.app_context():
        new = db.session.scalar(
            select(PartnerContact).where(PartnerContact.last_name == "Кравцова")
        )
        new_id = new.id
    post(boss, "/partner_contact/delete/", {"id": new_id})
    with app.app_context():
        assert db.session.get(PartnerContact, new_id).archived_at is not None
    worker = signed_in(app, "worker_a")
    assert worker.get("/partner_contact/").status_code == 200
    assert worker.get("/partner_contact/new/").status_code in (302, 403)  # refused
    post(worker, "/partner_contact/new/", {"partner": place["clinic"], "last_name": "Чужая",
                                           "first_name": "Я", "position": "никто"})  # fmt: skip
    with app.app_context():
        assert (
            db.session.scalar(select(PartnerContact).where(PartnerContact.last_name == "Чужая"))
            is None
        )
    assert "Смирнова" in text(worker.get(f"/partner/details/?id={place['clinic']}"))


def test_closed_case_offers_no_referral_steps(app, place):
    """Does a closed case's referral page offer neither a new referral nor a step?"""
    worker = signed_in(app, "worker_a")
    prepare(worker, place)
    with app.app_context():
        case = db.session.get(Case, place["case"])
        case.status, case.closure_reason, case.closed_on = "closed", "goal_achieved", TODAY
        db.session.commit()
    page = text(worker.get(f"/referrals/case/{place['case']}"))
    assert 'id="prepare-form"' not in page and 'id="send-' not in page
    referral = the_referral(app, case_id=place["case"])
    today = TODAY.isoformat()
    page = text(
        post(worker, f"/referrals/{referral.id}/send", {"sent_on": today, "answer_due": today})
    )
    assert "Случай закрыт" in page
