"""The case lifecycle pages over HTTP: reception, «Новое обращение», assessment,
decision and contract, closure, the printed contract — with scope and roles.

Each test signs in through the real /login form and posts the real forms with
their CSRF token; a refusal comes back with its Russian message next to the field.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from security_factories import flashes
from sqlalchemy import func, select

from models import Appointment, Case, Consent, District, Family, Person, Staff, Task, Visit, db
from models.cases import LIFE_DOMAIN
from workflows.dates import add_months, centre_today

TODAY = centre_today()
D = dt.date


def errors_of(page: str, field: str) -> list[str]:
    """The Russian messages shown under the form field `field` (id field-<name>)."""
    start = page.find(f'id="field-{field}"')
    assert start != -1, f"no field {field!r} on the page"
    end = page.find('class="form-group', start + 10)
    group = page[start : end if end != -1 else len(page)]
    found = re.findall(r'<div class="invalid-feedback d-block">(.*?)</div>', group, re.S)
    return [html.unescape(m).strip() for m in found]


def post(client, url: str, data: dict, form_url: str | None = None):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_url or url)})


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def place(app):
    """Two districts; a coordinator, a worker of district A; a family in A with consent
    and one in B; every role signed in on demand."""
    with app.app_context():
        area, other = f.district(), f.district()
        make_user("coordinator", "boss")
        worker = make_user("district_worker", "worker_a", districts=[area.id])
        fam, mother, child = f.family_with_members(
            district_row=area, surname="Алексеевы", address="ул. Садовая, д. 7"
        )
        f.consent(fam, mother, given_on=D(2020, 1, 10))
        theirs, their_mother, _ = f.family_with_members(
            district_row=other, surname="Борисовы", address="ул. Речная, д. 2"
        )
        f.consent(theirs, their_mother, given_on=D(2020, 1, 10))
        db.session.commit()
        return {
            "area": area.id,
            "other": other.id,
            "worker_staff": worker.staff_id,
            "family": fam.id,
            "mother": mother.id,
            "child": child.id,
            "their_family": theirs.id,
            "their_mother": their_mother.id,
        }


def _case(app, place, family="family", mother="mother", **kw) -> int:
    with app.app_context():
        fam = db.session.get(Family, place[family])
        person = db.session.get(Person, place[mother])
        row = f.case(fam, person, **kw)
        db.session.commit()
        return row.id


def _status(app, case_id) -> str:
    with app.app_context():
        return db.session.get(Case, case_id).status


# --- roles and scope -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rental_clerk", "viewer"])
def test_rental_clerk_and_viewer_are_refused(app, place, role):
    """Are reception, intake and every case step closed (403) to the rental clerk and the viewer?"""
    case_id = _case(app, place)
    with app.app_context():
        make_user(role, f"u_{role}")
    client = signed_in(app, f"u_{role}")
    for url in (
        "/reception/",
        "/reception/book",
        "/intake/",
        "/intake/new",
        f"/intake/family/{place['family']}",
        f"/case_flow/{case_id}/assessment",
        f"/case_flow/{case_id}/decision",
        f"/case_flow/{case_id}/closure",
        f"/case_flow/{case_id}/contract",
    ):
        assert client.get(url).status_code == 403, url


def test_out_of_scope_case_and_family_answer_404(app, place):
    """Does a worker of district A get 404 for district B's case steps and family intake?"""
    case_id = _case(app, place, "their_family", "their_mother")
    client = signed_in(app, "worker_a")
    for url in (
        f"/case_flow/{case_id}/assessment",
        f"/case_flow/{case_id}/decision",
        f"/case_flow/{case_id}/closure",
        f"/case_flow/{case_id}/contract",
        f"/intake/family/{place['their_family']}",
    ):
        assert client.get(url).status_code == 404, url
    response = post(
        client,
        f"/case_flow/{case_id}/closure",
        {"reason": "moved", "closed_on": TODAY.isoformat(), "open_tasks": "cancel"},
        form_url="/intake/",
    )
    assert response.status_code == 404
    assert _status(app, case_id) == "active"


def test_specialist_prints_but_does_not_run_steps(app, place):
    """May a psychologist print a contract of a case in their scope but not run its steps (403)?"""
    with app.app_context():
        psychologist = make_user("psychologist", "psy")
        fam = db.session.get(Family, place["family"])
        case = f.case(fam, db.session.get(Person, place["mother"]))
        f.task(fam, case, status="assigned", assignee_id=psychologist.staff_id)
        db.session.commit()
        case_id = case.id
    client = signed_in(app, "psy")
    assert client.get(f"/case_flow/{case_id}/contract").status_code == 200
    assert client.get(f"/case_flow/{case_id}/closure").status_code == 403
    assert client.get("/intake/").status_code == 403


# --- the plain CRUD no longer moves a case -------------------------------------------------------


def test_case_crud_neither_creates_nor_sets_status(app, place):
    """Is /case/new/ closed, and does the case edit form lack status, contract and closure fields?"""
    case_id = _case(app, place)
    client = signed_in(app, "boss")
    assert client.get("/case/new/").status_code == 302
    page = client.get(f"/case/edit/?id={case_id}").get_data(as_text=True)
    for name in ("status", "contract_number", "planned_end_date", "closure_reason", "closed_on"):
        assert f'name="{name}"' not in page, name
    before = count(app, Case)
    post(client, "/case/new/", {"family": place["family"], "status": "active"}, "/intake/")
    assert count(app, Case) == before


def test_closed_case_is_read_only_everywhere(app, place):
    """Does a closed case refuse its edit page and every step page, saying «Случай закрыт»,
    and refuse a new visit attached to it?"""
    case_id = _case(app, place, status="closed", closure_reason="refused", closed_on=D(2025, 3, 1))
    client = signed_in(app, "boss")
    response = client.get(f"/case/edit/?id={case_id}", follow_redirects=True)
    assert any("Случай закрыт" in m for m in flashes(response.get_data(as_text=True)))
    for step in ("assessment", "decision", "closure"):
        response = client.get(f"/case_flow/{case_id}/{step}")
        assert response.status_code == 302, step
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert any("Случай закрыт" in m for m in flashes(page)), step
    details = client.get(f"/case/details/?id={case_id}").get_data(as_text=True)
    assert "только для чтения" in details and 'id="next-' not in details
    with app.app_context():
        staff_id = place["worker_staff"]
    visits = count(app, Visit)
    post(
        client,
        "/visit/new/",
        {
            "case": case_id,
            "visited_on": "2025-03-05",
            "staff": staff_id,
            "purpose": "После закрытия",
        },
    )
    assert count(app, Visit) == visits


# --- the whole way through the pages ----------------------------------------------------------------


def test_lifecycle_through_the_pages(app, place):
    """Can the coordinator take a family from search to a closed case, with the next action
    shown on the case page at each step?"""
    client = signed_in(app, "boss")
    found = client.get("/intake/", query_string={"surname": "алексеев"}).get_data(as_text=True)
    assert f'id="family-{place["family"]}"' in found
    everyone = client.get("/intake/", query_string={"surname": "борисов"}).get_data(as_text=True)
    assert f'id="family-{place["their_family"]}"' in everyone  # the coordinator sees all

    url = f"/intake/family/{place['family']}"
    response = post(
        client, url, {"applicant": place["mother"], "application_date": TODAY.isoformat()}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    with app.app_context():
        case_id = db.session.scalar(select(Case.id))
    details = client.get(f"/case/details/?id={case_id}").get_data(as_text=True)
    assert 'id="next-assessment"' in details

    form = {f"{d}_level": "medium" for d in LIFE_DOMAIN.codes}
    form.update({"medical_notes": "Нужна реабилитация", "assessed_on": TODAY.isoformat()})
    response = post(client, f"/case_flow/{case_id}/assessment", form)
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert _status(app, case_id) == "assessment"
    assert 'id="next-decision"' in client.get(f"/case/details/?id={case_id}").get_data(as_text=True)

    response = post(
        client,
        f"/case_flow/{case_id}/decision",
        {
            "decision_date": TODAY.isoformat(),
            "contract_number": "СС-1/2026",
            "contract_date": TODAY.isoformat(),
            "start_date": TODAY.isoformat(),
            "planned_end_date": "",
            "lead_worker": place["worker_staff"],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case.status == "active"
        assert case.planned_end_date == add_months(TODAY, 6)
    details = client.get(f"/case/details/?id={case_id}").get_data(as_text=True)
    assert 'id="next-closure"' in details and 'id="print-contract"' in details

    printed = client.get(f"/case_flow/{case_id}/contract").get_data(as_text=True)
    assert app.config["CENTRE_NAME"] in printed and "СС-1/2026" in printed
    assert "print-contract.css" in printed

    response = post(
        client,
        f"/case_flow/{case_id}/closure",
        {"reason": "refused", "closed_on": TODAY.isoformat(), "open_tasks": "refuse"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert _status(app, case_id) == "closed"


def test_contract_print_has_no_health_data(app, place):
    """Does the printed contract leave out the child's health data?"""
    with app.app_context():
        child = db.session.get(Person, place["child"])
        child.health_notes = "Диагноз-секрет"
        db.session.commit()
    case_id = _case(app, place)
    client = signed_in(app, "boss")
    printed = client.get(f"/case_flow/{case_id}/contract").get_data(as_text=True)
    assert "Диагноз-секрет" not in printed and "ребёнок-инвалид" not in printed


# --- intake -------------------------------------------------------------------------------------


def test_worker_search_is_scoped(app, place):
    """Does the worker of district A find their family by surname, address and SNILS,
    and never district B's?"""
    client = signed_in(app, "worker_a")
    with app.app_context():
        snils = db.session.get(Person, place["mother"]).snils
    for query in ({"surname": "Борисов"}, {"address": "Речная"}):
        page = client.get("/intake/", query_string=query).get_data(as_text=True)
        assert "Борисовы" not in page and 'id="nothing-found"' in page
    for query in ({"surname": "алексеев"}, {"address": "садовая д 7"}, {"snils": snils}):
        page = client.get("/intake/", query_string=query).get_data(as_text=True)
        assert f'id="family-{place["family"]}"' in page, query


def test_no_consent_refused_then_recorded(app, place):
    """Without consent, is the application refused in Russian with a consent form offered,
    and accepted once the consent is recorded there?"""
    with app.app_context():
        fam, mother, _ = f.family_with_members(
            district_row=db.session.get(District, place["area"]), surname="Ветровы"
        )
        db.session.commit()
        family_id, mother_id = fam.id, mother.id
    client = signed_in(app, "worker_a")
    url = f"/intake/family/{family_id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="no-consent"' in page and 'id="consent-form"' in page
    response = post(client, url, {"applicant": mother_id, "application_date": TODAY.isoformat()})
    assert response.status_code == 200
    assert any("согласия" in m for m in flashes(response.get_data(as_text=True)))
    assert count(app, Case) == 0

    response = post(
        client,
        f"{url}/consent",
        {"person": mother_id, "given_on": TODAY.isoformat(), "scope": "для сопровождения"},
        form_url=url,
    )
    assert response.status_code == 302
    assert count(app, Consent) == 3
    response = post(client, url, {"applicant": mother_id, "application_date": TODAY.isoformat()})
    assert response.status_code == 302
    assert count(app, Case) == 1


def test_register_new_family_warns_of_duplicate(app, place):
    """Does registering «Алексеевы, ул. Садовая 7» again warn of the similar family, and
    register it only when the user confirms it is another family?"""
    client = signed_in(app, "worker_a")
    form = {
        "surname": "Алексеевы",
        "district": place["area"],
        "address": "ул Садовая, д 7",
        "last_name": "Алексеева",
        "first_name": "Ольга",
        "birth_date": "1991-04-04",
        "sex": "f",
        "relation": "mother",
    }
    families = count(app, Family)
    response = post(client, "/intake/new", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="duplicate-warning"' in page
    assert "Похожая семья" in page and 'name="confirm_duplicate"' in page
    assert count(app, Family) == families
    response = post(client, "/intake/new", {**form, "confirm_duplicate": "y"})
    assert response.status_code == 302
    assert count(app, Family) == families + 1


def test_register_in_another_district_is_refused(app, place):
    """Is a worker offered only their own districts, and refused another one next to the field?"""
    client = signed_in(app, "worker_a")
    page = client.get("/intake/new").get_data(as_text=True)
    assert f'value="{place["other"]}"' not in page
    response = post(
        client,
        "/intake/new",
        {
            "surname": "Чужие",
            "district": place["other"],
            "address": "ул. Дальняя, 1",
            "last_name": "Чужая",
            "first_name": "Анна",
            "birth_date": "1990-01-01",
            "sex": "f",
            "relation": "mother",
        },
    )
    assert response.status_code == 200
    assert errors_of(response.get_data(as_text=True), "district")


def test_child_is_not_offered_as_applicant(app, place):
    """Does the application form offer the mother, not the child, as the applicant?"""
    client = signed_in(app, "worker_a")
    page = client.get(f"/intake/family/{place['family']}").get_data(as_text=True)
    # The applicant's select (the child form beside it has options of its own).
    applicants = re.search(r'<select[^>]*id="applicant".*?</select>', page, re.S)
    assert applicants is not None
    assert f'value="{place["mother"]}"' in applicants.group(0)
    assert f'value="{place["child"]}"' not in applicants.group(0)


# --- reception ------------------------------------------------------------------------------------


def _next(weekday: int) -> dt.date:
    day = TODAY + dt.timedelta(days=1)
    while day.weekday() != weekday:
        day += dt.timedelta(days=1)
    return day


def test_day_view_and_booking_on_a_saturday(app, place):
    """Does a Saturday show reception slots, and can a free one be booked and then shown busy?"""
    saturday = _next(5)
    client = signed_in(app, "boss")
    staff_id = place["worker_staff"]
    page = client.get(
        "/reception/", query_string={"specialist": staff_id, "day": saturday.isoformat()}
    ).get_data(as_text=True)
    assert 'id="slot-1000"' in page and "свободно" in page
    response = post(
        client,
        "/reception/book",
        {
            "specialist": staff_id,
            "day": saturday.isoformat(),
            "time": "10:00",
            "channel": "phone",
            "citizen_name": "Иванова Ольга Петровна",
            "citizen_phone": "+7 900 123-45-67",
            "purpose": "Консультация о сопровождении",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Иванова Ольга Петровна" in page and 'id="intake-' in page


def test_sunday_has_no_slots(app, place):
    """Is there no reception on Sunday?"""
    client = signed_in(app, "boss")
    page = client.get(
        "/reception/",
        query_string={"specialist": place["worker_staff"], "day": _next(6).isoformat()},
    ).get_data(as_text=True)
    assert "приёма нет" in page and 'id="slots"' not in page


def test_double_booking_is_refused_next_to_the_time(app, place):
    """Is a second appointment in a taken slot refused in Russian under «Время», storing nothing?"""
    monday = _next(0)
    with app.app_context():
        specialist = db.session.get(Staff, place["worker_staff"])
        f.appointment(specialist, starts_at=dt.datetime.combine(monday, dt.time(11, 0)))
        db.session.commit()
    client = signed_in(app, "boss")
    before = count(app, Appointment)
    response = post(
        client,
        "/reception/book",
        {
            "specialist": place["worker_staff"],
            "day": monday.isoformat(),
            "time": "11:00",
            "channel": "in_person",
            "citizen_name": "Петров Пётр",
            "purpose": "Вопрос",
        },
    )
    assert response.status_code == 200
    assert any("уже есть запись" in e for e in errors_of(response.get_data(as_text=True), "time"))
    assert count(app, Appointment) == before


def test_appointment_becomes_application_in_one_step(app, place):
    """Does «Оформить обращение» on a family's appointment open the application form for that
    family, and does accepting it link the appointment to the new case?"""
    with app.app_context():
        specialist = db.session.get(Staff, place["worker_staff"])
        appointment = f.appointment(
            specialist,
            family_id=place["family"],
            starts_at=dt.datetime.combine(TODAY, dt.time(9, 0)),
        )
        db.session.commit()
        appointment_id = appointment.id
    client = signed_in(app, "worker_a")
    response = client.get("/intake/", query_string={"appointment": appointment_id})
    assert response.status_code == 302
    form_url = response.headers["Location"]
    assert f"/intake/family/{place['family']}" in form_url
    page = client.get(form_url).get_data(as_text=True)
    assert 'id="from-appointment"' in page
    response = post(
        client,
        form_url,
        {"applicant": place["mother"], "application_date": TODAY.isoformat()},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    with app.app_context():
        stored = db.session.get(Appointment, appointment_id)
        assert stored.case_id is not None
        assert stored.case.family_id == place["family"]


# --- the six-month rule on the form -----------------------------------------------------------------

FORM_EDGES = [
    ("2025-02-01", "2025-08-01", True),
    ("2025-02-01", "2025-08-02", False),
    ("2025-08-31", "2026-02-28", True),
    ("2025-08-31", "2026-03-01", False),
    ("2023-08-31", "2024-02-29", True),
    ("2023-08-31", "2024-03-01", False),
]


@pytest.mark.parametrize(("start", "end", "accepted"), FORM_EDGES)
def test_six_month_rule_on_the_decision_form(app, place, start, end, accepted):
    """Does the decision form accept an end exactly six months on and refuse one day more,
    with «шести месяцев» next to «Плановое окончание»?"""
    begin = dt.date.fromisoformat(start)
    case_id = _case(
        app,
        place,
        status="assessment",
        application_date=begin - dt.timedelta(days=10),
        decision_date=None,
        contract_number=None,
        contract_date=None,
        start_date=None,
        planned_end_date=None,
    )
    client = signed_in(app, "boss")
    response = post(
        client,
        f"/case_flow/{case_id}/decision",
        {
            "decision_date": (begin - dt.timedelta(days=2)).isoformat(),
            "contract_number": f"Д-{start}",
            "contract_date": (begin - dt.timedelta(days=1)).isoformat(),
            "start_date": start,
            "planned_end_date": end,
            "lead_worker": place["worker_staff"],
        },
    )
    if accepted:
        assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
        assert _status(app, case_id) == "active"
    else:
        assert response.status_code == 200
        messages = errors_of(response.get_data(as_text=True), "planned_end_date")
        assert any("шести месяцев" in m for m in messages), messages
        assert _status(app, case_id) == "assessment"


def test_closure_with_open_tasks_refused_or_cancelled(app, place):
    """Is closing with open tasks refused under «Незавершённые задачи» when the user keeps
    them, and done with the tasks cancelled when the user cancels them?"""
    with app.app_context():
        fam = db.session.get(Family, place["family"])
        case = f.case(fam, db.session.get(Person, place["mother"]))
        f.task(fam, case, title="Консультация психолога")
        db.session.commit()
        case_id = case.id
    client = signed_in(app, "worker_a")
    form = {"reason": "refused", "closed_on": TODAY.isoformat(), "open_tasks": "refuse"}
    response = post(client, f"/case_flow/{case_id}/closure", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Консультация психолога" in page
    assert any("незавершённые задачи" in m for m in errors_of(page, "open_tasks"))
    assert _status(app, case_id) == "active"
    form.update(open_tasks="cancel", cancel_reason="Семья отказалась от помощи")
    assert post(client, f"/case_flow/{case_id}/closure", form).status_code == 302
    assert _status(app, case_id) == "closed"
    with app.app_context():
        task = db.session.scalar(select(Task))
        assert (task.status, task.result) == ("cancelled", "Отменена: Семья отказалась от помощи")
