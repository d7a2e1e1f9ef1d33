"""Does the panel refuse bad input with a Russian message next to the field, and store nothing?

Every test signs in as the administrator and POSTs the real form with its
CSRF token, as a browser would. A refused form re-renders (200, never a 500)
with the message under the field and leaves the table as it was.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import factories as f
import pytest
from conftest import Auth, make_user, post_form, signed_in
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from admin_views.forms import picker_options
from models import Case, Family, Loan, PartnerAgreement, Person, Staff, db
from models.constraints import integrity_message
from workflows.dates import centre_today

CYRILLIC = re.compile(r"[А-Яа-яЁё]")


# --- helpers ---------------------------------------------------------------------------------


def field_errors(page: str, field: str) -> list[str]:
    """The messages shown under `field` (the <li> items of its form group)."""
    start = page.find(f'id="{field}"')
    assert start != -1, f"no field {field!r} on the page"
    end = page.find('class="form-group', start)
    group = page[start : end if end != -1 else len(page)]
    return [html.unescape(m).strip() for m in re.findall(r"<li>(.*?)</li>", group, re.S)]


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no hidden field {name!r}"
    return match.group(1)


def assert_refused(app, response, field: str, fragment: str, model, before: int) -> list[str]:
    """The form came back with a Russian message containing `fragment` under `field`."""
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    errors = field_errors(page, field)
    assert errors, f"no message under {field!r}"
    assert any(fragment in e for e in errors), errors
    assert all(CYRILLIC.search(e) for e in errors), f"not Russian: {errors}"
    assert count(app, model) == before, "the refused form stored a row"
    return errors


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def household(app, admin):
    """Ids of a committed family (with consent given), its mother and its child."""
    with app.app_context():
        fam, mother, child = f.family_with_members()
        f.consent(fam, mother, given_on=dt.date(2025, 1, 10))  # no consent, no case
        db.session.commit()
        return {
            "family": fam.id,
            "mother": mother.id,
            "child": child.id,
            "district": fam.district_id,
        }


@pytest.fixture
def person_form(household):
    """A valid /person/new/ form for a new child of the household."""
    return {
        "family": household["family"],
        "last_name": "Петрова",
        "first_name": "Анна",
        "middle_name": "Игоревна",
        "birth_date": "2014-06-01",
        "sex": "f",
        "relation": "child",
        "snils": "",
        "phone": "",
    }


@pytest.fixture
def family_form(household):
    return {
        "surname": "Ивановы",
        "district": household["district"],
        "address": "Великий Новгород, ул. Мира, д. 1",
        "phone": "+7 (816) 212-34-56",
        "identified_by": "self",
        "status": "registered",
        "notes": "",
    }


STAFF_FORM = {
    "last_name": "Орлова",
    "first_name": "Инна",
    "middle_name": "",
    "position": "педагог-психолог",
    "role": "psychologist",
    "phone": "+7 (816) 212-34-56",
    "email": "orlova@kcson.example",
    "active": "y",
}


# --- the person form ------------------------------------------------------------------------


def test_wrong_snils_checksum_is_refused(app, client, person_form):
    """Is a SNILS with a wrong control number refused with a Russian message?"""
    before = count(app, Person)
    response = post_form(client, "/person/new/", {**person_form, "snils": f.invalid_snils()})
    assert_refused(app, response, "snils", "контрольное число", Person, before)


def test_snils_of_wrong_length_is_refused(app, client, person_form):
    """Is a SNILS that is not 11 digits refused?"""
    before = count(app, Person)
    response = post_form(client, "/person/new/", {**person_form, "snils": "123-45"})
    assert_refused(app, response, "snils", "11 цифр", Person, before)


def test_birth_date_in_future_is_refused(app, client, person_form):
    """Is a birth date in the future refused?"""
    before = count(app, Person)
    tomorrow = (centre_today() + dt.timedelta(days=1)).isoformat()
    response = post_form(client, "/person/new/", {**person_form, "birth_date": tomorrow})
    assert_refused(app, response, "birth_date", "в будущем", Person, before)


@pytest.mark.parametrize("field", ["last_name", "first_name", "birth_date"])
def test_empty_required_field_is_refused(app, client, person_form, field):
    """Is an empty required field refused with «Обязательное поле»?"""
    before = count(app, Person)
    response = post_form(client, "/person/new/", {**person_form, field: ""})
    assert_refused(app, response, field, "Обязательное поле", Person, before)


def test_very_long_last_name_is_refused(app, client, person_form):
    """Is a 10,000-character last name refused by the form (not a 500 from the database)?"""
    before = count(app, Person)
    response = post_form(client, "/person/new/", {**person_form, "last_name": "Я" * 10_000})
    assert_refused(app, response, "last_name", "64", Person, before)


def test_sql_in_last_name_is_refused_and_harmless(app, client, person_form):
    """Is a last name made of SQL refused, with every table still in place?"""
    before = count(app, Person)
    families = count(app, Family)
    response = post_form(
        client, "/person/new/", {**person_form, "last_name": "'; DROP TABLE family; --"}
    )
    assert_refused(app, response, "last_name", "Только буквы", Person, before)
    assert count(app, Family) == families


def test_html_in_last_name_is_refused_and_escaped(app, client, person_form):
    """Is a last name with <script> refused, and is the echo escaped, not executed?"""
    before = count(app, Person)
    payload = "<script>alert(1)</script>"
    response = post_form(client, "/person/new/", {**person_form, "last_name": payload})
    assert_refused(app, response, "last_name", "Только буквы", Person, before)
    page = response.get_data(as_text=True)
    assert payload not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    "value",
    ["31.02.2026", "2026-02-31", "99999-01-01", "2026-13-01", "вчера", "0001-01-01", "1899-12-31"],
    ids=["dotted-31-feb", "iso-31-feb", "year-99999", "month-13", "word", "year-1", "before-1900"],
)
def test_impossible_date_is_refused(app, client, person_form, value):
    """Is an impossible or absurd date refused with a Russian message, never a 500?"""
    before = count(app, Person)
    response = post_form(client, "/person/new/", {**person_form, "birth_date": value})
    assert_refused(app, response, "birth_date", "", Person, before)


def test_valid_person_is_stored(app, client, person_form):
    """Is a valid person stored, with the SNILS in its standard format?"""
    digits = f.valid_snils().replace("-", "").replace(" ", "")
    before = count(app, Person)
    response = post_form(client, "/person/new/", {**person_form, "snils": digits})
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), "snils")
    assert count(app, Person) == before + 1
    with app.app_context():
        row = db.session.scalars(select(Person).where(Person.last_name == "Петрова")).one()
        assert row.family_id == person_form["family"]
        assert row.birth_date == dt.date(2014, 6, 1)
        assert row.relation == "child"
        assert row.snils == f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def test_duplicate_snils_gets_russian_message(app, client, person_form, household):
    """Is a second person with an existing SNILS refused next to the field, not with a 500?"""
    with app.app_context():
        existing = db.session.get(Person, household["mother"]).snils
    before = count(app, Person)
    response = post_form(client, "/person/new/", {**person_form, "snils": existing})
    assert_refused(app, response, "snils", "", Person, before)


def test_wrong_snils_on_edit_changes_nothing(app, client, household):
    """Does a bad SNILS on the edit form leave the stored person untouched?"""
    url = f"/person/edit/?id={household['mother']}"
    with app.app_context():
        old = db.session.get(Person, household["mother"]).snils
    page = client.get(url).get_data(as_text=True)
    data = {
        "family": household["family"],
        "last_name": "Смирнова",
        "first_name": "Елена",
        "birth_date": "1988-05-17",
        "sex": "f",
        "relation": "mother",
        "snils": f.invalid_snils(),
        "seen_version": hidden_value(page, "seen_version"),
    }
    response = post_form(client, url, data)
    assert response.status_code == 200
    assert any(
        "контрольное число" in e for e in field_errors(response.get_data(as_text=True), "snils")
    )
    with app.app_context():
        assert db.session.get(Person, household["mother"]).snils == old


def test_unknown_family_id_gets_russian_message(app, client, person_form):
    """Is a family id that does not exist (or was archived meanwhile) refused in Russian?"""
    before = count(app, Person)
    response = post_form(client, "/person/new/", {**person_form, "family": "999999"})
    assert_refused(app, response, "family", "", Person, before)


def test_refused_form_speaks_only_russian(app, client, person_form):
    """Does a refused form carry no English banner such as «Failed to create record.»?"""
    response = post_form(client, "/person/new/", {**person_form, "last_name": ""})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Failed to create record" not in page
    assert "Failed to save record" not in page


# --- the family form -----------------------------------------------------------------------


def test_script_in_address_is_refused(app, client, family_form):
    """Is an address containing <script> refused?"""
    before = count(app, Family)
    response = post_form(
        client, "/family/new/", {**family_form, "address": "ул. Мира <script>alert(1)</script>"}
    )
    assert_refused(app, response, "address", "недопустимы", Family, before)
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_overlong_notes_are_refused(app, client, family_form):
    """Is a 10,000-character note refused by the form?"""
    before = count(app, Family)
    response = post_form(client, "/family/new/", {**family_form, "notes": "ж" * 10_000})
    assert_refused(app, response, "notes", "5000", Family, before)


@pytest.mark.parametrize("field", ["surname", "address", "district"])
def test_family_without_required_field_is_refused(app, client, family_form, field):
    """Is a family without surname, address or district refused?"""
    before = count(app, Family)
    response = post_form(client, "/family/new/", {**family_form, field: ""})
    assert_refused(app, response, field, "Обязательное поле", Family, before)


def test_valid_family_is_stored(app, client, family_form):
    """Is a valid family stored with its district and categories?"""
    before = count(app, Family)
    response = post_form(client, "/family/new/", {**family_form, "is_large": "y"})
    assert response.status_code == 302
    assert count(app, Family) == before + 1
    with app.app_context():
        row = db.session.scalars(select(Family).where(Family.surname == "Ивановы")).one()
        assert row.district_id == family_form["district"]
        assert row.is_large and not row.is_low_income
        assert row.address == family_form["address"]


def test_valid_family_edit_is_stored(app, client, household, family_form):
    """Does an edit from the current version save the new address?"""
    url = f"/family/edit/?id={household['family']}"
    page = client.get(url).get_data(as_text=True)
    data = {
        **family_form,
        "surname": "Смирновы",
        "address": "Великий Новгород, ул. Мира, д. 2",
        "seen_version": hidden_value(page, "seen_version"),
    }
    response = post_form(client, url, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert db.session.get(Family, household["family"]).address.endswith("д. 2")


# --- staff ------------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["позвонить вечером", "12", "+7 816 <b>"])
def test_bad_staff_phone_is_refused(app, client, admin, phone):
    """Is a phone that is not a phone number refused on /staff/new/?"""
    before = count(app, Staff)
    response = post_form(client, "/staff/new/", {**STAFF_FORM, "phone": phone})
    assert_refused(app, response, "phone", "Телефон", Staff, before)


@pytest.mark.parametrize("email", ["orlova", "orlova@", "orlova@kcson", "a b@kcson.ru"])
def test_bad_staff_email_is_refused(app, client, admin, email):
    """Is a malformed e-mail refused on /staff/new/?"""
    before = count(app, Staff)
    response = post_form(client, "/staff/new/", {**STAFF_FORM, "email": email})
    assert_refused(app, response, "email", "электронной почты", Staff, before)


def test_valid_staff_is_stored(app, client, admin):
    """Is a valid staff member stored?"""
    before = count(app, Staff)
    response = post_form(client, "/staff/new/", STAFF_FORM)
    assert response.status_code == 302
    assert count(app, Staff) == before + 1


# --- agreements and cases -------------------------------------------------------------------


def test_agreement_ending_before_start_is_refused(app, client, admin):
    """Is an agreement whose valid_to is before valid_from refused next to valid_to?"""
    with app.app_context():
        partner_id = f.partner().id
        db.session.commit()
    before = count(app, PartnerAgreement)
    response = post_form(
        client,
        "/partner_agreement/new/",
        {
            "partner": partner_id,
            "number": "17/2025",
            "signed_on": "2025-01-10",
            "valid_from": "2025-03-01",
            "valid_to": "2025-02-28",
            "subject": "Сопровождение семей",
            "status": "active",
        },
    )
    assert_refused(app, response, "valid_to", "раньше", PartnerAgreement, before)


def _decision(app, client, household, start: str, end: str):
    """Post the decision-and-contract form (the only way a case gets its dates) as a
    coordinator, for a case of the household in assessment."""
    begin = dt.date.fromisoformat(start)
    with app.app_context():
        fam = db.session.get(Family, household["family"])
        case = f.case(
            fam,
            db.session.get(Person, household["mother"]),
            status="assessment",
            application_date=begin - dt.timedelta(days=10),
            decision_date=None,
            contract_number=None,
            contract_date=None,
            start_date=None,
            planned_end_date=None,
        )
        lead = f.staff("district_worker")
        make_user("coordinator", "decider")
        db.session.commit()
        case_id, lead_id = case.id, lead.id
    Auth(client).logout()
    signed_in(app, "decider", client=client)
    url = f"/case_flow/{case_id}/decision"
    response = post_form(
        client,
        url,
        {
            "decision_date": (begin - dt.timedelta(days=2)).isoformat(),
            "contract_number": "Д-17/2025",
            "contract_date": (begin - dt.timedelta(days=1)).isoformat(),
            "start_date": start,
            "planned_end_date": end,
            "lead_worker": lead_id,
        },
    )
    with app.app_context():
        return response, db.session.get(Case, case_id).status


def _decision_errors(response) -> list[str]:
    page = response.get_data(as_text=True)
    start = page.find('id="field-planned_end_date"')
    assert start != -1, "no planned end field on the page"
    group = page[start : page.find('class="form-group', start + 10)]
    found = re.findall(r'<div class="invalid-feedback d-block">(.*?)</div>', group, re.S)
    return [html.unescape(m).strip() for m in found]


@pytest.mark.parametrize(
    ("start", "end"),
    [("2025-02-01", "2025-08-02"), ("2025-08-31", "2026-03-01"), ("2025-02-01", "2026-02-01")],
)
def test_case_longer_than_six_months_is_refused(app, client, household, start, end):
    """Is a planned end more than six months after the start refused («шести месяцев»)?"""
    response, status = _decision(app, client, household, start, end)
    assert response.status_code == 200
    assert any("шести месяцев" in e for e in _decision_errors(response))
    assert status == "assessment"


@pytest.mark.parametrize(
    ("start", "end"), [("2025-02-01", "2025-08-01"), ("2025-08-31", "2026-02-28")]
)
def test_case_of_exactly_six_months_is_stored(app, client, household, start, end):
    """Is a case of exactly six months (clamped at February's end) stored?"""
    response, status = _decision(app, client, household, start, end)
    assert response.status_code == 302, _decision_errors(response)
    assert status == "active"


def test_case_ending_before_start_is_refused(app, client, household):
    """Is a case whose planned end is before its start refused?"""
    response, status = _decision(app, client, household, "2025-02-01", "2025-01-31")
    assert response.status_code == 200
    assert any("раньше" in e for e in _decision_errors(response))
    assert status == "assessment"


# --- database refusals shown as messages ------------------------------------------------------


def test_second_open_loan_gets_russian_message(app, client, household):
    """Is lending a unit that is already out refused with «уже выдана», not a generic error?

    Loans are made only at the rental desk (the plain loan form has no «create»)."""
    with app.app_context():
        fam = db.session.get(Family, household["family"])
        child = db.session.get(Person, household["child"])
        unit = f.equipment_unit()
        f.loan(unit, fam, child)
        db.session.commit()
        unit_id = unit.id
    before = count(app, Loan)
    assert client.get("/loan/new/").status_code in (302, 403)
    response = post_form(
        client,
        f"/rental_desk/lend/{unit_id}/",
        {
            "child": household["child"],
            "issued_on": "2025-02-10",
            "due_on": "2025-05-10",
            "condition": "good",
        },
    )
    assert response.status_code == 200
    assert "Эта единица уже выдана" in response.get_data(as_text=True)
    assert count(app, Loan) == before


def _refusal(build) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught:
        build()
        db.session.flush()
    db.session.rollback()
    return caught.value


def _second_open_loan():
    fam, _, child = f.family_with_members()
    unit = f.equipment_unit()
    f.loan(unit, fam, child)
    f.loan(unit, fam, child)


def _duplicate_inventory_number():
    f.equipment_unit(inventory_number="ТСР-1")
    f.equipment_unit(inventory_number="ТСР-1")


def _duplicate_contract():
    fam, mother, _ = f.family_with_members()
    f.case(fam, mother, contract_number="Д-1")
    other, other_mother, _ = f.family_with_members()  # one open case per family
    f.case(other, other_mother, contract_number="Д-1")


def _duplicate_snils():
    fam, mother, _ = f.family_with_members()
    f.person(fam, "father", snils=mother.snils)


def _seven_month_case():
    fam, mother, _ = f.family_with_members()
    f.case(fam, mother, start_date=dt.date(2025, 2, 1), planned_end_date=dt.date(2025, 8, 2))


def _double_booking():
    specialist = f.staff("lawyer")
    f.appointment(specialist)
    f.appointment(specialist)


def _loan_due_before_issue():
    fam, _, child = f.family_with_members()
    f.loan(f.equipment_unit(), fam, child, due_on=dt.date(2025, 1, 1))


def _delete_staff_with_visits():
    fam, mother, _ = f.family_with_members()
    worker = f.staff()
    f.visit(f.case(fam, mother), worker)
    db.session.delete(worker)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (_second_open_loan, "Эта единица уже выдана"),
        (_duplicate_inventory_number, "Такой инвентарный номер уже есть"),
        (_duplicate_contract, "Договор с таким номером уже есть"),
        (_duplicate_snils, "Человек с таким СНИЛС уже есть"),
        (_seven_month_case, "шести месяцев"),
        (_double_booking, "У специалиста уже есть запись на это время"),
        (_loan_due_before_issue, "не может быть раньше"),
        (_delete_staff_with_visits, "связана с другими данными"),
    ],
    ids=[
        "open-loan",
        "inventory-number",
        "contract",
        "snils",
        "six-months",
        "double-booking",
        "date-order",
        "linked-row",
    ],
)
def test_database_refusal_gets_its_own_message(app_ctx, build, message):
    """Does each refusal of the database turn into its own Russian message on both databases?

    SQLite names a failed UNIQUE by its columns («loan.unit_id»), PostgreSQL by
    the constraint's name; the panel's message must be right for either.
    """
    assert message in integrity_message(_refusal(build))


def test_deleting_linked_staff_archives_them_in_russian(app, client, household):
    """Is «Удалить» on a staff member who made visits an archive, said in Russian,
    with the row (and the visit's link to it) kept?"""
    with app.app_context():
        fam = db.session.get(Family, household["family"])
        mother = db.session.get(Person, household["mother"])
        worker = f.staff(last_name="Волкова")
        f.visit(f.case(fam, mother), worker)
        db.session.commit()
        worker_id = worker.id
    before = count(app, Staff)
    response = post_form(
        client, "/staff/delete/", {"id": worker_id, "url": "/staff/"}, form_url="/staff/"
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Запись перенесена в архив." in page
    assert count(app, Staff) == before
    with app.app_context():
        assert db.session.get(Staff, worker_id).archived_at is not None


def test_picker_options_escape_and_choose_by_text():
    """A picker's options: labels and values escaped (a partner named «<b>» stays text),
    the chosen ones compared as the form sends them (text), the rest not chosen."""
    html = str(
        picker_options([(1, "Иванова И. И."), (12, "ООО «<b>Рога</b>» & К"), ('x"', "q")], ["12"])
    )
    assert html == (
        '<option value="1">Иванова И. И.</option>'
        '<option value="12" selected>ООО «&lt;b&gt;Рога&lt;/b&gt;» &amp; К</option>'
        '<option value="x&#34;">q</option>'
    )
    assert str(picker_options([], ["1"])) == ""
