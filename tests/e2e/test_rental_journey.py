"""Journey 3 of DESIGN.md in Chromium: a rental clerk finds a free wheelchair of the
right size, lends it, prints the act, records its return, sends it to sanitising and
releases it — and the next family in the queue is offered it. Not one word of health
data on any page on the way, the act included."""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from conftest import make_user
from playwright.sync_api import expect

from models import (
    District,
    EquipmentType,
    EquipmentUnit,
    Family,
    Loan,
    Person,
    Reservation,
    db,
)
from workflows.dates import centre_today

from .browser import HEALTH_WORDS, PAGE_TEXT_JS, english_on_screen, go, open_menu, sign_in

pytestmark = pytest.mark.e2e

OFFICE = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}
WIDTH_JS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _child(family: Family, last: str, first: str, n: int, **kw) -> Person:
    return Person(
        family_id=family.id,
        last_name=last,
        first_name=first,
        middle_name="Игоревна" if first.endswith("а") else "Игоревич",
        birth_date=dt.date(2016, 4, 1),
        sex="f" if first.endswith("а") else "m",
        relation="child",
        snils=f.valid_snils(n),
        **kw,
    )


@pytest.mark.parametrize("size", [OFFICE, TABLET], ids=["office", "tablet"])
def test_clerk_lends_a_wheelchair_and_the_queue_gets_it_next(app, page, screenshot, size):
    """Can the rental clerk find the free size-40 wheelchair, lend it to the Лебедевы,
    print the act, take it back, send it to sanitising and release it, after which
    the first family in the queue (the Кузнецовы, before the Петровы) holds the offer —
    at the office screen and on a tablet, nothing scrolling sideways?"""
    page.set_viewport_size(size)
    shot = screenshot

    def screenshot(page, name):
        if not name.endswith("-print"):  # paper has its own width
            assert page.evaluate(WIDTH_JS) is True, f"{name}: the page scrolls sideways"
        return shot(page, f"{name}-{size['width']}")

    today = centre_today()
    with app.app_context():
        district = District(name="Участок № 5")
        db.session.add(district)
        db.session.flush()
        families = {}
        for surname, address in (
            ("Лебедевы", "Великий Новгород, ул. Большая Московская, д. 5, кв. 3"),
            ("Кузнецовы", "Великий Новгород, ул. Ломоносова, д. 9"),
            ("Петровы", "Великий Новгород, пр. Мира, д. 2"),
            ("Волковы", "Великий Новгород, ул. Связи, д. 14"),
        ):
            families[surname] = Family(
                surname=surname, district_id=district.id, address=address, phone="+7 816 200-00-00"
            )
        db.session.add_all(families.values())
        db.session.flush()
        alisa = _child(
            families["Лебедевы"],
            "Лебедева",
            "Алиса",
            81,
            disability_status="disabled",
            disability_group="child",
            disability_review_date=dt.date(2027, 2, 1),
            health_notes="эпилепсия",
        )
        mother = Person(
            family_id=families["Лебедевы"].id,
            last_name="Лебедева",
            first_name="Ольга",
            middle_name="Сергеевна",
            birth_date=dt.date(1989, 3, 3),
            sex="f",
            relation="mother",
        )
        others = {
            name: _child(families[name], name[:-1], "Иван", 82 + i)
            for i, name in enumerate(("Кузнецовы", "Петровы", "Волковы"))
        }
        chair = EquipmentType(
            name="Кресло-коляска комнатная",
            category="mobility",
            size_range="36–46 см",
            loan_term_days=90,
            max_extensions=2,
            components="подушка, ремни безопасности, подножки",
        )
        cane = EquipmentType(name="Трость опорная", category="support")
        db.session.add_all([alisa, mother, *others.values(), chair, cane])
        db.session.flush()
        units = {
            number: EquipmentUnit(
                inventory_number=number, type_id=chair.id, size=size, status=status
            )
            for number, size, status in (
                ("КК-036", "36", "on_loan"),
                ("КК-040", "40", "available"),
                ("КК-043", "43", "repair"),
            )
        }
        old_cane = EquipmentUnit(inventory_number="ТР-007", type_id=cane.id, status="available")
        db.session.add_all([*units.values(), old_cane])
        db.session.flush()
        # The Лебедевы are known to the desk from an old loan; the Волковы have a chair now.
        db.session.add_all(
            [
                Loan(
                    unit_id=old_cane.id,
                    family_id=families["Лебедевы"].id,
                    child_id=alisa.id,
                    issued_on=today - dt.timedelta(days=200),
                    due_on=today - dt.timedelta(days=110),
                    returned_on=today - dt.timedelta(days=120),
                ),
                Loan(
                    unit_id=units["КК-036"].id,
                    family_id=families["Волковы"].id,
                    child_id=others["Волковы"].id,
                    issued_on=today - dt.timedelta(days=10),
                    due_on=today + dt.timedelta(days=80),
                ),
            ]
        )
        db.session.commit()
        make_user("rental_clerk", "rental", last_name="Орлова", first_name="Нина")
        ids = {
            "chair": chair.id,
            "kuznetsov": (families["Кузнецовы"].id, others["Кузнецовы"].id),
            "petrov": (families["Петровы"].id, others["Петровы"].id),
        }
    leaks: list[str] = []

    def check(where: str) -> None:
        text = page.evaluate(PAGE_TEXT_JS).lower()
        leaks.extend(
            f"{where}: «{word}» is visible to the rental clerk"
            for word in (*HEALTH_WORDS, "группа")
            if word.lower() in text
        )
        leaks.extend(english_on_screen(page, where))

    sign_in(page, "rental")

    # 1. Find a free wheelchair of the right size.
    open_menu(page, "Пункт проката", "Рабочее место проката")
    page.select_option("#type", label="Кресло-коляска комнатная")
    page.fill("#size", "40")
    go(page, page.get_by_role("button", name="Найти"))
    units_table = page.locator("#units")
    expect(units_table).to_contain_text("КК-040")
    expect(units_table).not_to_contain_text("КК-036")
    expect(units_table.locator("tr", has_text="КК-040")).to_contain_text("свободно")
    check("find a unit")
    screenshot(page, "20-rental-find-unit")

    # 2. Lend it to the Лебедевы.
    go(page, units_table.locator("tr", has_text="КК-040").get_by_role("link", name="Выдать"))
    page.fill("#q", "Лебед")
    go(page, page.locator("#find-family").get_by_role("button", name="Найти"))
    alisa_option = page.locator("#child option", has_text="Лебедева Алиса")
    page.select_option("#child", value=alisa_option.get_attribute("value"))
    due = today + dt.timedelta(days=90)
    expect(page.locator("#due_on")).to_have_value(f"{due:%d.%m.%Y}")  # the Russian picker
    expect(page.locator("#due_on-iso")).to_have_value(due.isoformat())  # what is sent
    check("lend form")
    screenshot(page, "21-rental-lend-form")
    go(page, page.locator("#lend-form").get_by_role("button", name="Выдать"))
    expect(page.locator(".alert-success")).to_contain_text(
        "Выдано: КК-040 — Лебедева Алиса Игоревна"
    )
    expect(page.locator("#loan-card")).to_contain_text("Лебедевы")
    check("loan page")

    # 3. Print the act.
    go(page, page.locator("#print-act"))
    act = page.locator("body")
    for text in (
        "АКТ ПРИЁМА-ПЕРЕДАЧИ",
        "Лебедевы",
        "Лебедева Ольга Сергеевна (мать)",
        "Лебедева Алиса Игоревна",
        "Кресло-коляска комнатная",
        "КК-040",
        "подушка, ремни безопасности, подножки",
        f"{today:%d.%m.%Y}",
        f"{due:%d.%m.%Y}",
        "Орлова Нина",
        "Плата за пользование не взимается",
    ):
        expect(act).to_contain_text(text)
    check("act")
    screenshot(page, "22-rental-act")
    page.emulate_media(media="print")
    screenshot(page, "23-rental-act-print")
    expect(page.locator(".no-print")).to_be_hidden()
    page.emulate_media(media="screen")

    # Meanwhile two families join the queue for this type (nothing is free now).
    with app.app_context():
        for (family_id, child_id), priority, asked in (
            (ids["petrov"], "3", today - dt.timedelta(days=20)),
            (ids["kuznetsov"], "2", today - dt.timedelta(days=5)),
        ):
            db.session.add(
                Reservation(
                    family_id=family_id,
                    child_id=child_id,
                    type_id=ids["chair"],
                    requested_on=asked,
                    priority=priority,
                    status="waiting",
                )
            )
        db.session.commit()

    # 4. Record the return; the chair goes to sanitising.
    go(page, page.get_by_role("link", name="К выдаче"))
    form = page.locator("#return-form")
    expect(form.locator("#returned_on")).to_have_value(f"{today:%d.%m.%Y}")
    form.locator("#condition").select_option(label="удовлетворительное")
    form.locator("#missing_components").fill("ремни безопасности")
    go(page, form.get_by_role("button", name="Оформить возврат"))
    expect(page.locator(".alert-success")).to_contain_text("отправлена на санобработку")
    expect(page.locator("#unit-status")).to_have_text("на санобработке")
    check("unit in sanitising")

    # 5. Release it after sanitising: the Кузнецовы (higher priority) get the offer.
    page.fill("#method", "дезинфекция хлорсодержащим средством, 2 раза")
    go(page, page.locator("#release-form").get_by_role("button", name="Выпустить"))
    offered_until = today + dt.timedelta(days=3)
    expect(page.locator(".alert-success")).to_contain_text(
        f"предложена по очереди семье Кузнецовых до {offered_until:%d.%m.%Y}"
    )
    expect(page.locator("#unit-status")).to_have_text("зарезервировано")
    history = page.locator("#history")
    for text in ("выдано", "возвращено", "санобработка проведена", "предложено семье"):
        expect(history).to_contain_text(text)
    expect(history).to_contain_text("дезинфекция хлорсодержащим средством, 2 раза")
    check("unit released")
    screenshot(page, "24-rental-unit-released")

    go(page, page.locator(".opora-desk-tabs").get_by_role("link", name="Очередь"))
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Кузнецовы")
    expect(rows.nth(0)).to_contain_text("предложено: КК-040")
    expect(rows.nth(1)).to_contain_text("Петровы")
    expect(rows.nth(1)).to_contain_text("в очереди")
    check("queue")
    screenshot(page, "25-rental-queue")

    if leaks:
        pytest.fail("\n".join(leaks), pytrace=False)
