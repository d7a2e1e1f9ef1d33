"""The panel as a clerk sees it: real pages in headless Chromium, real clicks.

Rows a journey merely needs are made with the ORM; everything the journey is
about is done through the browser, the way a clerk would do it.
"""

from __future__ import annotations

import datetime as dt
import re

import factories as f
import pytest
from conftest import make_user
from playwright.sync_api import expect

from models import District, EquipmentType, EquipmentUnit, Family, Loan, Person, db
from workflows.dates import centre_today

from .browser import (
    HEALTH_WORDS,
    PAGE_TEXT_JS,
    choose,
    english_on_screen,
    fill_date,
    go,
    open_menu,
    pick_ajax,
    press_enter,
    save,
    sign_in,
)

pytestmark = pytest.mark.e2e

# The family's social categories: a rental clerk sees only name, address and phone.
CATEGORY_WORDS = ("малоимущ", "социально опасном")


def test_coordinator_registers_family_and_child(app, page, screenshot):
    """Can a coordinator sign in, register a family and its child through the forms,
    be told in Russian next to the field that a SNILS is wrong, find the family by
    its surname typed in lower case and see the child on the family's page?"""
    with app.app_context():
        district = District(name="Участок № 7", territory="Заречный микрорайон")
        db.session.add(district)
        db.session.flush()
        make_user("coordinator", "coordinator", districts=[district])
    problems: list[str] = []

    sign_in(page, "coordinator")

    open_menu(page, "Семьи", "Семьи")
    expect(page).to_have_url(re.compile(r"/family/"))
    go(page, page.locator(".nav-tabs a", has_text="Создать"))
    page.fill("#surname", "Соколовы")
    choose(page, "district", "Участок № 7")
    page.fill("#address", "Великий Новгород, ул. Связи, д. 12, кв. 4")
    save(page)
    expect(page.locator(".alert-success")).to_be_visible()
    problems += english_on_screen(page, "family list after create")

    open_menu(page, "Семьи", "Члены семей")
    go(page, page.locator(".nav-tabs a", has_text="Создать"))
    pick_ajax(page, "family", "Сок", "Соколовы")
    page.fill("#last_name", "Соколов")
    page.fill("#first_name", "Артём")
    page.fill("#middle_name", "Игоревич")
    fill_date(page, "#birth_date", dt.date(2016, 5, 14))
    page.keyboard.press("Escape")
    choose(page, "sex", "мужской")
    choose(page, "relation", "ребёнок")
    page.fill("#snils", f.invalid_snils(41))
    save(page)

    snils_group = page.locator(".form-group", has=page.locator("#snils"))
    expect(snils_group).to_contain_text("Неверный СНИЛС: не сходится контрольное число.")
    expect(page.locator("#snils")).to_have_value(f.invalid_snils(41))  # the clerk's input is kept
    screenshot(page, "01-person-form-snils-error")
    problems += english_on_screen(page, "person form with a wrong SNILS")

    page.fill("#snils", f.valid_snils(41))
    save(page)
    expect(page.locator(".alert-success")).to_be_visible()

    open_menu(page, "Семьи", "Семьи")
    page.fill("input[name=search]", "соколовы")
    press_enter(page)
    rows = page.locator("table.model-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Соколовы")
    screenshot(page, "02-family-list-search")
    problems += english_on_screen(page, "family list searched")

    go(page, rows.first.locator("a[href*='/family/details/']"))
    members = page.locator("h5:has-text('Члены семьи') + table")
    expect(members).to_contain_text("Соколов")
    expect(members).to_contain_text("Артём")
    expect(members).to_contain_text("14.05.2016")
    expect(members).to_contain_text(f.valid_snils(41))
    screenshot(page, "03-family-details")
    problems += english_on_screen(page, "family details")

    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_rental_clerk_sees_no_health_data(app, page, screenshot):
    """Does a rental clerk, opening the family list, the family's page and the person
    list, see the family's surname and address but not one word of the child's
    disability, diagnosis, review date or SNILS (nor the family's social categories)?"""
    with app.app_context():
        district = District(name="Участок № 3")
        db.session.add(district)
        db.session.flush()
        family = Family(
            surname="Лебедевы",
            district_id=district.id,
            address="ул. Большая Московская, д. 5",
            is_low_income=True,
            is_dangerous=True,
        )
        db.session.add(family)
        db.session.flush()
        child = Person(
            family_id=family.id,
            last_name="Лебедева",
            first_name="Алиса",
            birth_date=dt.date(2015, 2, 1),
            sex="f",
            relation="child",
            snils=f.valid_snils(77),
            disability_status="disabled",
            disability_group="child",
            disability_review_date=dt.date(2027, 2, 1),
            health_notes="эпилепсия",
        )
        kind = EquipmentType(name="Кресло-коляска детская", category="mobility")
        db.session.add_all([child, kind])
        db.session.flush()
        unit = EquipmentUnit(inventory_number="ТСР-0001", type_id=kind.id, status="on_loan")
        db.session.add(unit)
        db.session.flush()
        today = centre_today()
        db.session.add(
            Loan(
                unit_id=unit.id,
                family_id=family.id,
                child_id=child.id,
                issued_on=today,
                due_on=today + dt.timedelta(days=90),
            )
        )
        db.session.commit()
        make_user("rental_clerk", "rental")
    leaks: list[str] = []

    def look_for_leaks(where: str) -> None:
        text = page.evaluate(PAGE_TEXT_JS).lower()
        for word in HEALTH_WORDS + CATEGORY_WORDS:
            if word.lower() in text:
                leaks.append(f"{where}: «{word}» is visible to the rental clerk")

    sign_in(page, "rental")

    open_menu(page, "Семьи", "Семьи")
    family_list = page.locator("table.model-list")
    expect(family_list).to_contain_text("Лебедевы")
    expect(family_list).to_contain_text("ул. Большая Московская, д. 5")
    look_for_leaks("family list")
    screenshot(page, "04-rental-family-list")

    go(page, family_list.locator("a[href*='/family/details/']").first)
    expect(page.locator(".table").first).to_contain_text("Лебедевы")
    expect(page.locator(".table").first).to_contain_text("ул. Большая Московская, д. 5")
    look_for_leaks("family page")
    screenshot(page, "05-rental-family-details")

    open_menu(page, "Семьи", "Члены семей")
    expect(page.locator("table.model-list")).to_contain_text("Лебедева")
    look_for_leaks("person list")
    screenshot(page, "06-rental-person-list")

    go(page, page.locator("table.model-list a[href*='/person/details/']").first)
    expect(page.locator(".table").first).to_contain_text("Алиса")
    look_for_leaks("person page")
    screenshot(page, "07-rental-person-details")

    if leaks:
        pytest.fail("\n".join(leaks), pytrace=False)
