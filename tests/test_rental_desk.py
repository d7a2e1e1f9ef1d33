"""The rental desk's pages (/rental_desk/…): the clerk's whole cycle over HTTP, refusals
next to their field, who may open and act, row scope, no health data anywhere, and
the plain tables no longer changing statuses."""

from __future__ import annotations

import datetime as dt
import re

import factories as f
import pytest
from conftest import csrf_token, make_user, post_form, signed_in
from security_factories import flashes
from sqlalchemy.exc import IntegrityError

from models import Case, EquipmentUnit, Loan, RentalEvent, Reservation, db
from workflows import rental
from workflows.dates import centre_today as desk_today

# A rental clerk must never meet these on any page: health data and the SNILS.
HEALTH_WORDS = (
    "инвалид",
    "эпилепси",
    "Группа",
    "группа",
    "переосвидетельствования",
    "СНИЛС",
    "ОВЗ",
)


@pytest.fixture
def desk(app):
    """A wheelchair type with a free unit of size 40 and one of 36 out on loan; the
    Смирновы (with a disabled child, health notes and SNILS) known to the desk
    through a returned loan; the Орловы waiting in the queue for a walker."""
    with app.app_context():
        district = f.district(name="Участок № 1")
        kind = f.equipment_type(
            name="Кресло-коляска комнатная",
            size_range="36–46 см",
            loan_term_days=90,
            max_extensions=1,
            components="подушка, ремни",
        )
        free = f.equipment_unit(kind, inventory_number="КК-040", size="40")
        out = f.equipment_unit(kind, inventory_number="КК-036", size="36", status="on_loan")
        smirnovy = f.family(district, surname="Смирновы", phone="+7 816 222-33-44")
        mother = f.person(smirnovy, "mother", last_name="Смирнова")
        child = f.person(
            smirnovy, "child", last_name="Смирнов", health_notes="эпилепсия", disability_group="1"
        )
        f.loan(out, smirnovy, child, issued_on=dt.date(2025, 1, 10), due_on=dt.date(2025, 2, 10))
        walker = f.equipment_type(name="Ходунки")
        orlovy = f.family(district, surname="Орловы")
        orlov = f.person(orlovy, "child", last_name="Орлов")
        f.reservation(orlovy, orlov, walker, priority="3")
        make_user("rental_clerk", "clerk")
        db.session.commit()
        return {
            "kind": kind.id,
            "free": free.id,
            "out": out.id,
            "family": smirnovy.id,
            "mother": mother.id,
            "child": child.id,
            "orlovy": orlovy.id,
            "orlov": orlov.id,
            "walker": walker.id,
            "district": district.id,
        }


def no_health(body: str, where: str) -> list[str]:
    return [f"{where}: «{w}»" for w in HEALTH_WORDS if w in body]


def test_clerk_runs_the_whole_cycle_and_never_sees_health_data(app, desk):
    """Can a clerk find the free size-40 wheelchair, lend it, print the act, extend,
    return it to sanitising and release it — the next family in the queue being
    offered it — without a single page showing health data or the SNILS?"""
    client = signed_in(app, "clerk")
    seen: list[str] = []

    def get(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        seen.extend(no_health(body, url))
        return body

    found = get(f"/rental_desk/?type={desk['kind']}&size=40")
    assert "КК-040" in found and "КК-036" not in found
    lend_page = get(f"/rental_desk/lend/{desk['free']}/?q=Смир")
    assert "Смирнов Дмитрий Андреевич" in lend_page
    response = post_form(
        client,
        f"/rental_desk/lend/{desk['free']}/?q=Смир",
        {
            "child": desk["child"],
            "issued_on": "2026-03-10",
            "due_on": "2026-06-08",
            "condition": "good",
        },
    )
    assert response.status_code == 302
    loan_url = response.headers["Location"]
    with app.app_context():
        loan = db.session.scalars(db.select(Loan).where(Loan.unit_id == desk["free"])).one()
        loan_id = loan.id
        assert db.session.get(EquipmentUnit, desk["free"]).status == "on_loan"
        # The next family joins the queue for this type while the unit is out.
        orlov = db.session.get(f.Person, desk["orlov"])
        rental.enqueue(
            db.session,
            orlov,
            db.session.get(f.EquipmentType, desk["kind"]),
            "2",
            dt.date(2026, 3, 11),
            None,
            dt.date(2026, 3, 11),
        )
        db.session.commit()
    loan_page = get(loan_url)
    assert "КК-040" in loan_page and "безвозмездно" in loan_page

    act = get(f"/rental_desk/loan/{loan_id}/act/")
    for expected in (
        "АКТ ПРИЁМА-ПЕРЕДАЧИ",
        "Смирновы",
        "Смирнова Елена Викторовна (мать)",
        "Смирнов Дмитрий Андреевич",
        "КК-040",
        "подушка, ремни",
        "10.03.2026",
        "08.06.2026",
        "хорошее",
        "Передал",
        "Принял",
    ):
        assert expected in act, expected
    # The act is a desk page: its tabs lead on (hidden when printed), no dead end.
    assert 'class="nav nav-tabs mb-3 opora-desk-tabs"' in act and "/rental_desk/queue/" in act

    response = post_form(
        client,
        f"/rental_desk/loan/{loan_id}/extend/",
        {"new_due_on": "2026-07-01", "reason": "Ждут своё кресло от ФСС"},
        form_url=loan_url,
    )
    assert response.status_code == 302
    response = post_form(
        client,
        f"/rental_desk/loan/{loan_id}/return/",
        {"returned_on": "2026-03-12", "condition": "fair", "missing_components": "ремни"},
        form_url=loan_url,
    )
    assert response.status_code == 302
    unit_url = response.headers["Location"]
    unit_page = get(unit_url)
    assert "на санобработке" in unit_page
    released = client.post(
        f"/rental_desk/unit/{desk['free']}/release/",
        data={
            "method": "дезинфекция хлорсодержащим средством",
            "released_on": "2026-03-12",
            "csrf_token": csrf_token(client, unit_url),
        },
        follow_redirects=True,
    )
    body = released.get_data(as_text=True)
    seen.extend(no_health(body, "release"))
    assert any("предложена по очереди семье Орловых" in m for m in flashes(body)), flashes(body)
    queue = get(f"/rental_desk/queue/?type={desk['kind']}")
    assert "Орловы" in queue and "КК-040" in queue
    get(f"/rental_desk/family/{desk['family']}/")
    get("/rental_desk/overdue/")
    get(unit_url)
    assert not seen, "\n".join(seen)
    with app.app_context():
        kinds = [
            e.kind
            for e in db.session.scalars(
                db.select(RentalEvent)
                .where(RentalEvent.unit_id == desk["free"])
                .order_by(RentalEvent.id)
            )
        ]
        assert kinds == ["issued", "extended", "returned", "sanitised", "offered"]
        assert db.session.get(Loan, loan_id).missing_components == "ремни"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"issued_on": "2026-03-10", "due_on": "2026-03-01"},
            "due_on",
            "Срок возврата не может быть раньше даты выдачи.",
        ),
        (
            {"issued_on": "2026-03-10", "due_on": "когда-нибудь"},
            "due_on",
            "Неверное значение даты.",
        ),
    ],
)
def test_lend_refusal_is_shown_next_to_its_field(app, desk, data, field, message):
    """Is a bad due date refused next to «Вернуть до», in Russian, with nothing written?"""
    client = signed_in(app, "clerk")
    url = f"/rental_desk/lend/{desk['free']}/?q=Смир"
    response = post_form(client, url, {"child": desk["child"], "condition": "good", **data})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(
        rf'id="{field}"[^>]*>\s*<div class="invalid-feedback d-block">{re.escape(message)}', body
    )
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Loan)) == 1


def test_extending_past_the_limit_is_refused_on_the_page(app, desk):
    """Is a second extension (the type allows one) refused with the reason on the loan page?"""
    with app.app_context():
        unit = db.session.get(EquipmentUnit, desk["free"])
        loan = rental.lend_unit(
            db.session, unit, db.session.get(f.Person, desk["child"]), None, dt.date(2026, 3, 1)
        )
        rental.extend_loan(
            db.session,
            loan,
            loan.due_on + dt.timedelta(days=5),
            "Болезнь",
            None,
            dt.date(2026, 3, 1),
        )
        db.session.commit()
        loan_id, due = loan.id, loan.due_on
    client = signed_in(app, "clerk")
    url = f"/rental_desk/loan/{loan_id}/"
    response = post_form(
        client,
        f"{url}extend/",
        {"new_due_on": str(due + dt.timedelta(days=5)), "reason": "Ещё"},
        form_url=url,
    )
    assert response.status_code == 200
    assert any(m.startswith("Продлить нельзя") for m in flashes(response.get_data(as_text=True)))


def test_returning_twice_is_refused_on_the_page(app, desk):
    """Is a return posted for a loan already returned refused in Russian?"""
    with app.app_context():
        loan = db.session.scalars(db.select(Loan).where(Loan.unit_id == desk["out"])).one()
        rental.return_loan(
            db.session, loan, dt.date(2025, 2, 1), "good", None, False, None, dt.date(2025, 2, 1)
        )
        db.session.commit()
        loan_id = loan.id
    client = signed_in(app, "clerk")
    token = csrf_token(client, f"/rental_desk/loan/{loan_id}/")
    response = client.post(
        f"/rental_desk/loan/{loan_id}/return/",
        data={"returned_on": "2025-02-02", "condition": "poor", "csrf_token": token},
    )
    assert "Эта выдача уже закрыта: ТСР возвращено 01.02.2025." in flashes(
        response.get_data(as_text=True)
    )


def test_overdue_list_comes_from_dates_without_any_job(app, desk):
    """Does the overdue list show a loan past its due date although no job has run?"""
    client = signed_in(app, "clerk")
    body = client.get("/rental_desk/overdue/").get_data(as_text=True)
    assert "КК-036" in body and "10.02.2025" in body and "ещё не поставлена" in body
    assert "Просроченных выдач: 1" in client.get("/rental_desk/").get_data(as_text=True)


def test_who_may_open_and_act_at_the_desk(app, desk):
    """Do the matrix's rights hold: the clerk acts; the coordinator and a district worker
    only look (a lend POST answers 403); the viewer and a psychologist are kept out?"""
    with app.app_context():
        make_user("coordinator", "coord")
        make_user("district_worker", "worker", districts=[desk["district"]])
        make_user("viewer", "viewer")
        make_user("psychologist", "psy")
        db.session.commit()
    for username, opens, acts in (
        ("clerk", 200, 200),
        ("coord", 200, 403),
        ("worker", 200, 403),
        ("viewer", 403, 403),
        ("psy", 403, 403),
    ):
        client = signed_in(app, username)
        assert client.get("/rental_desk/").status_code == opens, username
        assert client.get("/rental_desk/queue/").status_code == opens, username
        assert client.get(f"/rental_desk/lend/{desk['free']}/").status_code == acts, username


def test_loan_of_another_district_is_not_found(app, desk):
    """Does a district worker of another district get 404 for the loan, its act and the family?"""
    with app.app_context():
        other = f.district(name="Участок № 9")
        make_user("district_worker", "stranger", districts=[other])
        loan_id = db.session.scalars(db.select(Loan.id)).one()
        db.session.commit()
    client = signed_in(app, "stranger")
    for url in (
        f"/rental_desk/loan/{loan_id}/",
        f"/rental_desk/loan/{loan_id}/act/",
        f"/rental_desk/family/{desk['family']}/",
    ):
        assert client.get(url).status_code == 404, url
    assert "Смирновы" not in client.get("/rental_desk/overdue/").get_data(as_text=True)


def test_loan_shows_the_active_case_to_those_who_may_see_it(app, desk):
    """Does the loan page name the family's active case for the coordinator, and not for
    the clerk (who may not see cases)?"""
    with app.app_context():
        fam = db.session.get(f.Family, desk["family"])
        case = f.case(fam, db.session.get(f.Person, desk["mother"]))
        make_user("coordinator", "coord")
        loan_id = db.session.scalars(db.select(Loan.id)).one()
        db.session.commit()
        case_id = case.id
    coordinator = (
        signed_in(app, "coord").get(f"/rental_desk/loan/{loan_id}/").get_data(as_text=True)
    )
    assert f"/case/details/?id={case_id}" in coordinator
    clerk = signed_in(app, "clerk").get(f"/rental_desk/loan/{loan_id}/").get_data(as_text=True)
    assert "Случай сопровождения" not in clerk


def test_case_page_shows_the_familys_loans_and_reservations(app, desk):
    """Does a case's page list its family's loans and places in the queue?"""
    with app.app_context():
        fam = db.session.get(f.Family, desk["orlovy"])
        mother = f.person(fam, "mother", last_name="Орлова")
        case = f.case(fam, mother)
        make_user("coordinator", "coord")
        db.session.commit()
        case_id = case.id
    body = signed_in(app, "coord").get(f"/case/details/?id={case_id}").get_data(as_text=True)
    assert "Выдачи ТСР семье" in body and "Очередь на ТСР" in body and "Ходунки" in body


def test_plain_forms_no_longer_change_statuses(app, desk):
    """Do the unit, loan and reservation forms leave statuses to the desk: no status
    field on a unit's form, no «create» for loans and queue places, only notes to edit?"""
    client = signed_in(app, "clerk")
    unit_form = client.get(f"/equipment_unit/edit/?id={desk['free']}").get_data(as_text=True)
    assert 'name="status"' not in unit_form and 'name="write_off_reason"' not in unit_form
    assert client.get("/loan/new/").status_code in (302, 403)
    assert client.get("/reservation/new/").status_code in (302, 403)
    with app.app_context():
        loan_id = db.session.scalars(db.select(Loan.id)).one()
        place_id = db.session.scalars(db.select(Reservation.id)).one()
    loan_form = client.get(f"/loan/edit/?id={loan_id}").get_data(as_text=True)
    assert 'name="notes"' in loan_form and 'name="returned_on"' not in loan_form
    place_form = client.get(f"/reservation/edit/?id={place_id}").get_data(as_text=True)
    assert 'name="notes"' in place_form and 'name="priority"' not in place_form


def test_a_new_unit_is_offered_to_the_queue_at_once(app, desk):
    """Does a unit added through the units form go straight to the first family waiting?"""
    client = signed_in(app, "clerk")
    response = post_form(
        client,
        "/equipment_unit/new/",
        {"inventory_number": "ХД-001", "type": desk["walker"], "condition": "new"},
    )
    assert response.status_code == 302
    with app.app_context():
        place = db.session.scalars(db.select(Reservation)).one()
        assert place.status == "offered"
        assert place.offered_unit.inventory_number == "ХД-001"
        assert place.offered_unit.status == "reserved"


def test_queue_change_of_order_needs_a_reason_on_the_page(app, desk):
    """Is a change of priority without a reason refused on the queue page, the priority kept?"""
    client = signed_in(app, "clerk")
    with app.app_context():
        place_id = db.session.scalars(db.select(Reservation.id)).one()
    token = csrf_token(client, "/rental_desk/queue/")
    response = client.post(
        f"/rental_desk/reservation/{place_id}/priority/",
        data={"priority": "1", "reason": "", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Укажите причину изменения очерёдности." in flashes(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Reservation, place_id).priority == "3"
    response = client.post(
        f"/rental_desk/reservation/{place_id}/priority/",
        data={"priority": "1", "reason": "Ребёнка выписали из больницы", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Приоритет изменён." in flashes(response.get_data(as_text=True))
    history = signed_in(app, "clerk").get(f"/rental_desk/family/{desk['orlovy']}/")
    assert "обычный → срочно: Ребёнка выписали из больницы" in history.get_data(as_text=True)


def test_clerk_queues_a_family_and_a_free_unit_is_offered(app, desk):
    """Can the clerk put a known family's child in the queue from the queue page, a free
    unit of the type being offered to it at once?"""
    client = signed_in(app, "clerk")
    url = "/rental_desk/queue/?q=Смир"
    response = post_form(
        client,
        f"/rental_desk/queue/new/?type={desk['kind']}",
        {
            "child": desk["child"],
            "type": desk["kind"],
            "priority": "3",
            "requested_on": "2026-03-01",
        },
        form_url=url,
    )
    assert response.status_code == 302
    with app.app_context():
        place = db.session.scalars(
            db.select(Reservation).where(Reservation.child_id == desk["child"])
        ).one()
        assert place.status == "offered" and place.offered_unit_id == desk["free"]
        child = db.session.get(f.Person, desk["child"])
        queued = f"{child.full_name} {'поставлена' if child.sex == 'f' else 'поставлен'} в очередь"
    assert queued in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_queue_message_agrees_with_a_girl(app, desk):
    """Is a girl «поставлена» in the queue, not «поставлен(а)»?"""
    with app.app_context():
        child = db.session.get(f.Person, desk["child"])
        child.sex, child.last_name, child.first_name = "f", "Смирнова", "Алёна"
        db.session.commit()
    client = signed_in(app, "clerk")
    response = post_form(
        client,
        f"/rental_desk/queue/new/?type={desk['kind']}",
        {
            "child": desk["child"],
            "type": desk["kind"],
            "priority": "3",
            "requested_on": "2026-03-01",
        },
        form_url="/rental_desk/queue/?q=Смир",
    )
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Смирнова Алёна" in body and "поставлена в очередь" in body
    assert "(а)" not in body


def test_case_model_relationships_do_not_write(app_ctx):
    """Are a case's family loans read-only (viewonly), never a second way to attach a loan?"""
    assert Case.family_loans.property.viewonly and Case.family_reservations.property.viewonly


def test_offered_family_is_served_from_the_queue_page(app, desk):
    """Does «Выдать» on an offered place in the queue lend the offered unit to that
    family and open the new loan?"""
    with app.app_context():
        orlov = db.session.get(f.Person, desk["orlov"])
        place = rental.enqueue(
            db.session,
            orlov,
            db.session.get(f.EquipmentType, desk["kind"]),
            "3",
            desk_today(),
            None,
            desk_today(),  # the offer must still hold on the real day of the request
        )
        db.session.commit()
        assert place.offered_unit_id == desk["free"]
        place_id = place.id
    client = signed_in(app, "clerk")
    token = csrf_token(client, "/rental_desk/queue/")
    response = client.post(f"/rental_desk/reservation/{place_id}/lend/", data={"csrf_token": token})
    assert response.status_code == 302 and "/rental_desk/loan/" in response.headers["Location"]
    with app.app_context():
        loan = db.session.scalars(db.select(Loan).where(Loan.unit_id == desk["free"])).one()
        assert loan.family_id == desk["orlovy"]
        assert db.session.get(Reservation, place_id).status == "fulfilled"


def test_overdue_page_names_the_workers_task_once_the_job_ran(app, desk):
    """After the overdue job, does the list name the district worker who has the task,
    and does a family whose district has no worker get an unassigned task?"""
    with app.app_context():
        district = db.session.get(f.District, desk["district"])
        worker = make_user(
            "district_worker",
            "petrova",
            districts=[district],
            last_name="Петрова",
            first_name="Анна",
        ).staff
        district.responsible_worker = worker
        db.session.commit()
        assert rental.task_overdue_loans(db.session, dt.date(2026, 3, 10)) == 1
        db.session.commit()
    body = signed_in(app, "clerk").get("/rental_desk/overdue/").get_data(as_text=True)
    assert "Петрова Анна" in body and "ещё не поставлена" not in body
    with app.app_context():
        lonely = f.district(name="Участок без участкового")
        fam = f.family(lonely, surname="Одиноковы")
        child = f.person(fam, "child")
        f.loan(
            f.equipment_unit(),
            fam,
            child,
            issued_on=dt.date(2026, 1, 1),
            due_on=dt.date(2026, 2, 1),
        )
        db.session.commit()
        assert rental.task_overdue_loans(db.session, dt.date(2026, 3, 10)) == 1
        task = db.session.scalars(db.select(f.Task).where(f.Task.family_id == fam.id)).one()
        assert task.status == "new" and task.assignee_id is None and task.role == "district_worker"


def test_district_worker_asks_for_equipment_and_the_clerk_then_sees_the_family(app, desk):
    """Can a district worker put a child of their district in the queue (the family is new
    to the rental desk), after which the clerk sees that family — while the worker still
    cannot lend?"""
    with app.app_context():
        fam = f.family(db.session.get(f.District, desk["district"]), surname="Новиковы")
        child = f.person(fam, "child", last_name="Новиков")
        make_user("district_worker", "worker", districts=[desk["district"]])
        db.session.commit()
        child_id, asked = child.id, str(desk_today())
    clerk = signed_in(app, "clerk")
    assert "Новиков" not in clerk.get("/rental_desk/queue/?q=Нов").get_data(as_text=True)
    worker = signed_in(app, "worker")
    response = post_form(
        worker,
        "/rental_desk/queue/new/",
        {
            "child": child_id,
            "type": desk["walker"],
            "priority": "2",
            "requested_on": asked,
        },
        form_url="/rental_desk/queue/?q=Нов",
    )
    assert response.status_code == 302
    assert worker.get(f"/rental_desk/lend/{desk['free']}/").status_code == 403
    assert "Новиковы" in clerk.get("/rental_desk/queue/").get_data(as_text=True)


def test_a_size_is_a_range_found_by_a_number_inside_it(app, desk):
    """Is «ширина сиденья 36–46 см» kept as 36…46 and found by «40» (and «40 см»), not by
    «50»; and does the database refuse a lower bound above the upper?"""
    with app.app_context():
        unit = f.equipment_unit(
            db.session.get(f.EquipmentType, desk["kind"]),
            inventory_number="КК-3646",
            size="ширина сиденья 36–46 см",
        )
        db.session.commit()
        assert (unit.size_min, unit.size_max) == (36, 46)
        unit_id = unit.id
    client = signed_in(app, "clerk")

    def found(size: str) -> bool:
        page = client.get(f"/rental_desk/?type={desk['kind']}&size={size}").get_data(as_text=True)
        return "КК-3646" in page

    assert found("40") and found("40 см") and found("36") and found("46")
    assert not found("50") and not found("30")
    assert found("сиденья")  # words still search the text
    with app.app_context():
        unit = db.session.get(EquipmentUnit, unit_id)
        unit.size_min, unit.size_max = 50, 40
        with pytest.raises(IntegrityError, match="size_bounds"):
            db.session.commit()
        db.session.rollback()


def test_a_desk_search_that_finds_no_family_says_who_may_queue_one(app, desk):
    """When the clerk's search finds no family, does the desk say so and name the roles
    that may put a family in the queue?"""
    client = signed_in(app, "clerk")
    for url in (
        f"/rental_desk/lend/{desk['free']}/?q=Никаковых",
        "/rental_desk/queue/?q=Никаковых",
    ):
        page = client.get(url).get_data(as_text=True)
        assert 'id="no-family"' in page, url
        assert "Семья «Никаковых» не найдена" in page
        assert "участковый социальный работник" in page and "руководитель" in page
    found = client.get(f"/rental_desk/lend/{desk['free']}/?q=Смирнов").get_data(as_text=True)
    assert 'id="no-family"' not in found


def test_queue_page_shows_each_kinds_head_and_links_its_whole_queue(app):
    """With every kind shown, does the queue page list the first QUEUE_HEAD places of a
    long queue, numbered as in the whole queue, say how many wait and link the kind's
    own page, which lists them all?"""
    from admin_views.rental_desk import QUEUE_HEAD

    with app.app_context():
        f.user("rental_clerk", username="queue-clerk")
        kind = f.equipment_type(name="Ходунки-очередь")
        for n in range(QUEUE_HEAD + 2):
            family = f.family(surname=f"Очередные-{n:02d}")
            child = f.person(family, "child", last_name=f"Очередной-{n:02d}")
            f.reservation(family, child, kind, requested_on=dt.date(2025, 1, 1 + n))
        db.session.commit()
        kind_id = kind.id
    clerk = signed_in(app, "queue-clerk")
    page = clerk.get("/rental_desk/queue/").get_data(as_text=True)
    assert f"Показаны первые {QUEUE_HEAD} из {QUEUE_HEAD + 2}" in page
    assert f"Очередной-{QUEUE_HEAD - 1:02d}" in page and f"Очередной-{QUEUE_HEAD:02d}" not in page
    assert f"/rental_desk/queue/?type={kind_id}" in page
    whole = clerk.get(f"/rental_desk/queue/?type={kind_id}").get_data(as_text=True)
    assert f"Очередной-{QUEUE_HEAD + 1:02d}" in whole and "Показаны первые" not in whole
    assert f"<td>{QUEUE_HEAD + 2}</td>" in whole  # numbered in the whole queue
