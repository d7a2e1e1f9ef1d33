"""Archived rows start no new work: no picker offers one, and a forged or stale form naming
one is refused next to its field with the Russian reason, nothing written, never a 500.

One rule decides it (models/live.py: `active_for_new_work`, `new_work_refusal`); each
kind of picker is walked here: every relation field of every table's create form (plain
selects and the typed AJAX pickers), the rental desk (lend, queue, offers), the ИПСС
editor, the case's decision, intake (district, applicant, consent), reception (the
specialist, the family) and the coordinator's task assignees. A row that already names an
archived one keeps showing it and is still saved.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from security_factories import MODELS, admin_form, count, flashes, world
from sqlalchemy import inspect, select

from admin_views import VIEWS
from admin_views.permissions import allowed
from models import (
    Appointment,
    Case,
    Consent,
    District,
    EquipmentType,
    EquipmentUnit,
    Event,
    Family,
    Loan,
    Person,
    PlanActivity,
    Reservation,
    Service,
    Staff,
    Task,
    User,
    db,
)
from models.base import ArchivedMixin, utcnow
from models.live import REFUSALS, active_for_new_work, new_work_refusal
from workflows import reception, rental
from workflows.dates import centre_today

TODAY = centre_today()


def archive_rows(app, *rows: tuple[type, int]) -> None:
    """Mark rows archived as «В архив» does (staff also stop working)."""
    with app.app_context():
        for model, row_id in rows:
            row = db.session.get(model, row_id)
            row.archived_at = utcnow()
            if isinstance(row, Staff):
                row.active = False
        db.session.commit()


def errors_by(page: str, marker: str) -> list[str]:
    """The Russian errors shown in the form group that holds `marker` (a field's id,
    label or name attribute), as the pages draw them: under the field."""
    start = page.find(marker)
    assert start != -1, f"{marker!r} is not on the page"
    group_start = page.rfind('class="form-group', 0, start)
    end = page.find('class="form-group', start)
    group = page[group_start if group_start != -1 else start : end if end != -1 else len(page)]
    found = re.findall(r'class="invalid-feedback[^"]*"[^>]*>(.*?)</(?:div|li|span)>', group, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", m)).split()) for m in found]


def select_of(page: str, field: str) -> str:
    """The HTML of the select of `field` on a page, with its options."""
    found = re.search(rf'<select[^>]*id="{field}".*?</select>', page, re.S)
    assert found is not None, f"no select {field}"
    return found.group(0)


def post(client, url: str, data: dict, form_url: str | None = None):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_url or url)})


# --- the rule itself --------------------------------------------------------------------------


def test_the_rule_in_sql_and_in_python_agree(app):
    """Do the SQL condition and the Python check agree on each kind of row — an archived
    row, a member of an archived family, a member of staff who left, and live rows?"""
    with app.app_context():
        family, mother, child = f.family_with_members()
        gone_family, gone_mother, _ = f.family_with_members()
        gone_family.archived_at = utcnow()
        child.archived_at = utcnow()
        left = f.staff(role="psychologist", active=False)
        working = f.staff(role="psychologist")
        service, old_service = f.service(), f.service(archived_at=utcnow())
        db.session.commit()
        rows = [
            family,
            mother,
            child,
            gone_family,
            gone_mother,
            left,
            working,
            service,
            old_service,
        ]
        for row in rows:
            model = type(row)
            in_sql = db.session.scalar(
                active_for_new_work(select(model.id).where(model.id == row.id))
            )
            assert (in_sql is not None) == (new_work_refusal(row) is None), row
        assert new_work_refusal(gone_mother) == REFUSALS["person"]
        assert new_work_refusal(left) == REFUSALS["staff"]
        assert new_work_refusal(working) is None and new_work_refusal(mother) is None


# --- every relation picker of the tables -------------------------------------------------------


def _relation_pickers() -> list[tuple[str, str, type]]:
    """(endpoint, field, target) of every relation to a table whose rows are archived, in
    the create form of a view the administrator may create rows in."""
    found = []
    for view, model, _name, _category, endpoint in VIEWS:
        if not allowed("admin", endpoint, "create"):
            continue
        for rel in inspect(model).relationships:
            target = rel.mapper.class_
            in_form = view.form_columns is None or rel.key in view.form_columns
            if issubclass(target, ArchivedMixin) and rel.direction.name != "ONETOMANY" and in_form:
                found.append((endpoint, rel.key, target))
    return found


RELATION_PICKERS = _relation_pickers()
ENDPOINT_OF = {model: endpoint for endpoint, model in MODELS.items()}


@pytest.mark.parametrize(
    ("endpoint", "field", "target"),
    RELATION_PICKERS,
    ids=[f"{e}.{n}" for e, n, _ in RELATION_PICKERS],
)
def test_no_table_form_offers_or_takes_an_archived_row(app, endpoint, field, target):
    """Does the create form of `endpoint` leave an archived `field` out of its picker (the
    select's options, or the typed picker's answers), and does a forged POST naming it come
    back with the Russian reason next to the field, no row written and no 500?"""
    with app.app_context():
        district = f.district()
        make_user("admin", "archivist")
        ids = world(district, "Архивов")
        db.session.commit()
    row_id = ids[ENDPOINT_OF[target]] if target not in (Person,) else ids["mother"]
    archive_rows(app, (target, row_id))
    with app.app_context():
        refusal = new_work_refusal(db.session.get(target, row_id))
    assert refusal is not None
    client = signed_in(app, "archivist")
    page = client.get(f"/{endpoint}/new/").get_data(as_text=True)
    form = admin_form(page)
    assert field in form["fields"] or field in form["options"], f"no {field} on the form"
    if field in form["options"]:
        assert str(row_id) not in form["options"][field]
    else:  # a typed picker: ask it as the browser does
        answer = client.get(f"/{endpoint}/ajax/lookup/?name={field}&query=Архивов")
        assert answer.status_code == 200
        assert row_id not in {found for found, _text in json.loads(answer.get_data())}
    model = MODELS[endpoint]
    before = count(app, model)
    response = post(client, f"/{endpoint}/new/", {field: str(row_id)}, f"/{endpoint}/new/")
    assert response.status_code == 200, response.status_code
    body = response.get_data(as_text=True)
    assert refusal in errors_by(body, f'id="{field}"'), errors_by(body, f'id="{field}"')
    assert count(app, model) == before


def test_an_edit_keeps_the_archived_row_it_names(app, login_as, client):
    """Is a consent whose person and family were archived since still shown with them,
    and saved unchanged — an archived row stays on the records that name it?"""
    login_as("admin")
    with app.app_context():
        family, mother, _child = f.family_with_members(surname="Хранимовы")
        consent = f.consent(family, mother, scope="Согласие Хранимовой")
        db.session.commit()
        ids = {"family": family.id, "mother": mother.id, "consent": consent.id}
    archive_rows(app, (Person, ids["mother"]))
    url = f"/consent/edit/?id={ids['consent']}"
    form = admin_form(client.get(url).get_data(as_text=True))
    assert form["fields"]["person"] == str(ids["mother"])
    data = {**form["fields"], "scope": "Согласие Хранимовой, уточнено"}
    response = client.post(url, data=data)
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    with app.app_context():
        kept = db.session.get(Consent, ids["consent"])
        assert (kept.person_id, kept.scope) == (ids["mother"], "Согласие Хранимовой, уточнено")


def test_an_event_keeps_its_organiser_who_left(app, login_as, client):
    """Is an event's organiser, archived since, still chosen on its edit form (and only
    there: a new event is not offered them)?"""
    login_as("admin")
    with app.app_context():
        organiser = f.staff(role="psychologist", last_name="Ушедшая")
        event = f.event(organiser)
        db.session.commit()
        ids = {"staff": organiser.id, "event": event.id}
    archive_rows(app, (Staff, ids["staff"]))
    form = admin_form(client.get(f"/event/edit/?id={ids['event']}").get_data(as_text=True))
    assert form["fields"]["organiser"] == str(ids["staff"])
    response = client.post(f"/event/edit/?id={ids['event']}", data=form["fields"])
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Event, ids["event"]).organiser_id == ids["staff"]
    new = admin_form(client.get("/event/new/").get_data(as_text=True))
    assert str(ids["staff"]) not in new["options"]["organiser"]


# --- the rental desk ----------------------------------------------------------------------------


@pytest.fixture
def desk(app):
    """A type with a free unit; the Живовы's child and the Ушедшевы's archived child (and
    an archived family's child), each findable at the desk by a returned loan."""
    with app.app_context():
        kind = f.equipment_type(name="Опора для сидения")
        free = f.equipment_unit(kind, inventory_number="ОС-1")
        old = f.equipment_unit(kind, inventory_number="ОС-0", status="available")
        live_family, _m, live_child = f.family_with_members(surname="Живовы")
        gone_family, _m2, gone_child = f.family_with_members(surname="Ушедшевы")
        closed_family, _m3, closed_child = f.family_with_members(surname="Ушедшевы-Закрытые")
        pairs = (
            (live_family, live_child),
            (gone_family, gone_child),
            (closed_family, closed_child),
        )
        for family, child in pairs:
            loan = f.loan(f.equipment_unit(kind, status="on_loan"), family, child)
            loan.returned_on = loan.issued_on
        old_kind = f.equipment_type(name="Старый вид")
        make_user("rental_clerk", "desk_clerk")
        db.session.commit()
        ids = {
            "kind": kind.id,
            "free": free.id,
            "old": old.id,
            "live": live_child.id,
            "gone": gone_child.id,
            "closed": closed_child.id,
            "closed_family": closed_family.id,
            "old_kind": old_kind.id,
        }
    archive_rows(
        app,
        (Person, ids["gone"]),
        (Family, ids["closed_family"]),
        (EquipmentUnit, ids["old"]),
        (EquipmentType, ids["old_kind"]),
    )
    return ids


def test_the_desk_lends_to_no_archived_child(app, desk):
    """Does the lend form leave out an archived child and a child of an archived family,
    and refuse a forged one next to «Ребёнок», lending nothing?"""
    client = signed_in(app, "desk_clerk")
    url = f"/rental_desk/lend/{desk['free']}/"
    page = client.get(url, query_string={"q": "Ушедшев"}).get_data(as_text=True)
    assert 'name="child"' in page
    assert f'value="{desk["gone"]}"' not in page and f'value="{desk["closed"]}"' not in page
    for child, reason in ((desk["gone"], REFUSALS["person"]), (desk["closed"], REFUSALS["person"])):
        before = count(app, Loan)
        data = {"child": child, "issued_on": TODAY.isoformat(), "condition": "good",
                "due_on": (TODAY + dt.timedelta(days=30)).isoformat()}  # fmt: skip
        response = post(client, url, data)
        assert response.status_code == 200
        assert reason in errors_by(response.get_data(as_text=True), 'for="child"')
        assert count(app, Loan) == before


def test_the_desk_neither_lists_nor_lends_an_archived_unit(app, desk):
    """Is an archived unit left out of the desk's list of its type, and is lending it
    (forged) refused with the reason, nothing lent?"""
    client = signed_in(app, "desk_clerk")
    page = client.get("/rental_desk/", query_string={"type": desk["kind"]}).get_data(as_text=True)
    assert "ОС-1" in page and "ОС-0" not in page
    before = count(app, Loan)
    data = {"child": desk["live"], "issued_on": TODAY.isoformat(), "condition": "good",
            "due_on": (TODAY + dt.timedelta(days=30)).isoformat()}  # fmt: skip
    response = post(client, f"/rental_desk/lend/{desk['old']}/", data, "/rental_desk/")
    assert response.status_code == 302
    assert REFUSALS["equipment_unit"] in flashes(
        client.get(response.headers["Location"]).get_data(as_text=True)
    )
    assert count(app, Loan) == before


def test_the_queue_takes_no_archived_type_or_child(app, desk):
    """Does the queue form leave out an archived type, and refuse a forged archived type
    (next to «Вид ТСР») and a forged archived child (next to «Ребёнок»), queueing nothing?"""
    client = signed_in(app, "desk_clerk")
    page = client.get("/rental_desk/queue/", query_string={"q": "Живов"}).get_data(as_text=True)
    form_part = page[page.find('id="queue-form"') :]
    form_part = form_part[: form_part.find("</form>")]
    assert "Старый вид" not in form_part and f'value="{desk["kind"]}"' in form_part
    cases = (
        ({"child": desk["live"], "type": desk["old_kind"]}, 'for="type"', REFUSALS["equipment_type"]),
        ({"child": desk["gone"], "type": desk["kind"]}, 'for="child"', REFUSALS["person"]),
    )  # fmt: skip
    for data, marker, reason in cases:
        before = count(app, Reservation)
        full = {**data, "priority": "3", "requested_on": TODAY.isoformat()}
        response = post(client, "/rental_desk/queue/new/", full, "/rental_desk/queue/")
        assert response.status_code == 200
        assert reason in errors_by(response.get_data(as_text=True), marker)
        assert count(app, Reservation) == before


def test_an_offer_passes_over_an_archived_child(app):
    """When a unit is free, is it offered to the first live child of the queue, passing
    over the place of a child archived since (the place itself kept)?"""
    with app.app_context():
        kind = f.equipment_type()
        first_family, _m, first = f.family_with_members()
        second_family, _m2, second = f.family_with_members()
        early = f.reservation(first_family, first, kind, requested_on=TODAY - dt.timedelta(days=9))
        late = f.reservation(second_family, second, kind, requested_on=TODAY - dt.timedelta(days=1))
        first.archived_at = utcnow()
        f.equipment_unit(kind)
        db.session.commit()
        offers = rental.offer_available(db.session, kind.id, TODAY)
        db.session.commit()
        assert [o.id for o in offers] == [late.id]
        assert db.session.get(Reservation, early.id).status == "waiting"


# --- the ИПСС editor ------------------------------------------------------------------------------


def test_the_ipss_offers_no_archived_service_and_keeps_a_rows_own(app, login_as, client):
    """Does a new row of the ИПСС editor leave out an archived service and refuse a forged
    one next to its field (nothing added), while an activity whose service was archived
    since keeps it on its row and saves?"""
    login_as("coordinator")
    with app.app_context():
        family, mother, _child = f.family_with_members()
        f.consent(family, mother)
        case = f.case(family, mother, status="active", start_date=TODAY - dt.timedelta(days=5),
                      planned_end_date=TODAY + dt.timedelta(days=90),
                      contract_number=f"Д-{family.id}", contract_date=TODAY - dt.timedelta(days=5),
                      decision_date=TODAY - dt.timedelta(days=5))  # fmt: skip
        plan = f.support_plan(case, goal="Цель")
        kept, gone = f.service(name="Услуга прежняя"), f.service(name="Услуга ушедшая")
        activity = f.plan_activity(plan, service=kept, planned_date=TODAY + dt.timedelta(days=3))
        db.session.commit()
        ids = {"case": case.id, "kept": kept.id, "gone": gone.id, "activity": activity.id,
               "version": plan.version, "role": activity.responsible_role}  # fmt: skip
    archive_rows(app, (Service, ids["kept"]), (Service, ids["gone"]))
    url = f"/ipss/{ids['case']}"
    page = client.get(url).get_data(as_text=True)
    own_row = page[page.find(f'id="activity-{ids["activity"]}"') :]
    own_row = own_row[: own_row.find("</tr>")]
    assert f'value="{ids["kept"]}"' in own_row and f'value="{ids["gone"]}"' not in own_row
    new_row = page[page.find('id="new-activity-0"') :]
    new_row = new_row[: new_row.find("</tr>")]
    assert f'value="{ids["kept"]}"' not in new_row and f'value="{ids["gone"]}"' not in new_row
    row = f"a-{ids['activity']}-"
    base = {"goal": "Цель", "version": ids["version"], f"{row}service": ids["kept"],
            f"{row}role": ids["role"],
            f"{row}planned_date": (TODAY + dt.timedelta(days=3)).isoformat()}  # fmt: skip
    forged = {**base, "new-0-service": ids["gone"], "new-0-role": ids["role"],
              "new-0-planned_date": (TODAY + dt.timedelta(days=4)).isoformat()}  # fmt: skip
    before = count(app, PlanActivity)
    response = post(client, url, forged)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert REFUSALS["service"] in errors_by(body, 'id="error-new-0-service"')
    assert count(app, PlanActivity) == before
    response = post(client, url, {**base, "goal": "Цель, уточнённая"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(PlanActivity, ids["activity"]).service_id == ids["kept"]


# --- the case's decision, intake, reception ---------------------------------------------------------


@pytest.fixture
def office(app):
    """A coordinator; a district with a live and an archived district worker; a family
    with consent, a live mother and an archived father; an archived district."""
    with app.app_context():
        area = f.district()
        old_area = f.district(name="Участок закрытый")
        make_user("coordinator", "office_boss")
        live = make_user("district_worker", "office_worker", districts=[area.id])
        gone = make_user(
            "district_worker", "office_gone", districts=[area.id], last_name="Уволенная"
        )
        family, mother, _child = f.family_with_members(district_row=area, surname="Конторские")
        father = f.person(family, "father", last_name="Конторский", first_name="Олег", sex="m")
        f.consent(family, mother, given_on=dt.date(2020, 1, 1))
        closed = f.family(area, surname="Закрытовы")
        db.session.commit()
        ids = {"area": area.id, "old_area": old_area.id, "live": live.staff_id,
               "gone": gone.staff_id, "family": family.id, "mother": mother.id,
               "father": father.id, "closed": closed.id}  # fmt: skip
    archive_rows(
        app,
        (Staff, ids["gone"]),
        (Person, ids["father"]),
        (District, ids["old_area"]),
        (Family, ids["closed"]),
    )
    return ids


def test_the_decision_names_no_archived_lead_worker(app, office):
    """Does the decision form leave out a district worker who was archived, and refuse a
    forged one next to «Ведущий специалист», the case unchanged?"""
    with app.app_context():
        family = db.session.get(Family, office["family"])
        case = f.case(family, db.session.get(Person, office["mother"]), status="assessment")
        db.session.commit()
        case_id = case.id
    client = signed_in(app, "office_boss")
    url = f"/case_flow/{case_id}/decision"
    page = client.get(url).get_data(as_text=True)
    assert f'value="{office["live"]}"' in page and f'value="{office["gone"]}"' not in page
    data = {"decision_date": TODAY.isoformat(), "contract_number": "Д-А-1",
            "contract_date": TODAY.isoformat(), "start_date": TODAY.isoformat(),
            "lead_worker": office["gone"]}  # fmt: skip
    response = post(client, url, data)
    assert response.status_code == 200
    assert REFUSALS["staff"] in errors_by(response.get_data(as_text=True), 'id="field-lead_worker"')
    with app.app_context():
        assert db.session.get(Case, case_id).status == "assessment"


def test_intake_takes_no_archived_district_applicant_or_consent_giver(app, office):
    """Does «Новое обращение» leave out an archived district, applicant and consent giver,
    and refuse each forged one next to its field, nothing written?"""
    client = signed_in(app, "office_boss")
    page = client.get("/intake/new").get_data(as_text=True)
    assert f'value="{office["old_area"]}"' not in select_of(page, "district")
    data = {"surname": "Новиковы", "district": office["old_area"], "address": "ул. Новая, 1",
            "last_name": "Новикова", "first_name": "Анна", "birth_date": "1990-01-01",
            "sex": "f", "relation": "mother"}  # fmt: skip
    before = count(app, Family)
    response = post(client, "/intake/new", data)
    assert REFUSALS["district"] in errors_by(response.get_data(as_text=True), 'id="field-district"')
    assert count(app, Family) == before

    url = f"/intake/family/{office['family']}"
    page = client.get(url).get_data(as_text=True)
    applicants = select_of(page, "applicant")  # the page's other selects have their own values
    assert f'value="{office["father"]}"' not in applicants
    assert f'value="{office["mother"]}"' in applicants
    before = count(app, Case)
    response = post(
        client, url, {"applicant": office["father"], "application_date": TODAY.isoformat()}
    )
    assert REFUSALS["person"] in errors_by(response.get_data(as_text=True), 'id="field-applicant"')
    assert count(app, Case) == before
    with app.app_context():  # the family's consent archived: the page asks for one
        for row in db.session.get(Family, office["family"]).consents:
            row.archived_at = utcnow()
        db.session.commit()
    before = count(app, Consent)
    consent = {"person": office["father"], "given_on": TODAY.isoformat(), "scope": "Согласие"}
    response = post(client, f"{url}/consent", consent, url)
    assert REFUSALS["person"] in errors_by(response.get_data(as_text=True), 'id="field-person"')
    assert count(app, Consent) == before


def _next_reception_day() -> dt.date:
    day = TODAY + dt.timedelta(days=1)
    return day + dt.timedelta(days=1) if day.weekday() == reception.SUNDAY else day


def test_reception_books_no_archived_specialist_or_family(app, office):
    """Does reception leave an archived specialist out of its day view and booking form,
    and refuse a forged one (next to «Специалист») and a booking for an archived family
    (next to the family), booking nothing?"""
    client = signed_in(app, "office_boss")
    for url in ("/reception/", "/reception/book"):
        page = client.get(url).get_data(as_text=True)
        assert "Уволенная" not in page, url
    booking = {"day": _next_reception_day().isoformat(), "time": "10:00", "channel": "phone",
               "purpose": "Консультация", "citizen_name": "Иванова Мария"}  # fmt: skip
    before = count(app, Appointment)
    response = post(client, "/reception/book", {**booking, "specialist": office["gone"]})
    assert REFUSALS["staff"] in errors_by(response.get_data(as_text=True), 'id="field-specialist"')
    url = f"/reception/book?family={office['closed']}"
    response = post(
        client, url, {**booking, "specialist": office["live"], "family": office["closed"]}
    )
    assert response.status_code == 200
    assert REFUSALS["family"] in errors_by(response.get_data(as_text=True), 'id="field-family"')
    assert count(app, Appointment) == before


def test_an_archived_familys_page_offers_no_new_work(app, office):
    """Does an archived family's page offer neither «Новое обращение», «Записать на приём»
    nor «Добавить» under its tables, and a new member's form not take it from the URL?"""
    client = signed_in(app, "office_boss")
    page = client.get(f"/family/details/?id={office['closed']}").get_data(as_text=True)
    assert 'id="family-intake"' not in page and 'id="family-book"' not in page
    assert "/person/new/?family=" not in page  # no «Добавить» under its tables
    page = client.get(f"/family/details/?id={office['family']}").get_data(as_text=True)
    assert 'id="family-intake"' in page and 'id="family-book"' in page
    assert "/person/new/?family=" in page
    form = admin_form(client.get(f"/person/new/?family={office['closed']}").get_data(as_text=True))
    assert form["fields"].get("family", "") in ("", "__None")  # not chosen for the new row


# --- task assignees ---------------------------------------------------------------------------------


def test_no_task_goes_to_an_archived_specialist(app, office):
    """Is an archived specialist left out of a task's candidates on the board, refused
    when forged into «Назначить» with the reason, and never picked automatically?"""
    with app.app_context():
        family = db.session.get(Family, office["family"])
        task = f.task(family, None, role="district_worker", status="new")
        db.session.commit()
        task_id = task.id
    client = signed_in(app, "office_boss")
    page = client.get(f"/board/task/{task_id}").get_data(as_text=True)
    assert "Уволенная" not in page
    response = post(client, f"/board/assign/{task_id}", {"staff": office["gone"]}, "/board/")
    assert REFUSALS["staff"] in flashes(
        client.get(response.headers["Location"]).get_data(as_text=True)
    )
    with app.app_context():
        assert db.session.get(Task, task_id).status == "new"
        from workflows.tasks import pick_assignee

        chosen = pick_assignee(db.session, "district_worker", office["area"], TODAY)
        assert chosen is not None and chosen.id == office["live"]
        assert db.session.get(User, db.session.get(Staff, office["gone"]).user.id) is not None
