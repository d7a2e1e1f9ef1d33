"""Journey 2 of DESIGN.md in Chromium, from the application to the finished task:
the coordinator registers the Голубевы's application; the district worker of their
district assesses the family, signs the contract and writes and approves the ИПСС;
the psychologist finds the task in «Мои задачи», opens the case from it and
completes it in one step; the coordinator sees it done."""

from __future__ import annotations

import datetime as dt
import re

import factories as f
import pytest
from conftest import make_user
from playwright.sync_api import expect
from sqlalchemy import select

from models import District, Family, Person, Service, db
from workflows.dates import centre_today

from .browser import (
    english_on_screen,
    fill_date,
    go,
    open_menu,
    open_top_menu,
    sign_in,
    sign_out,
)

pytestmark = pytest.mark.e2e

NEEDS = {
    "medical": ("high", "Ребёнок-инвалид, нужна реабилитация"),
    "psychological": ("high", "Мать в тревоге после установления инвалидности"),
    "pedagogical": ("medium", "Нужен подбор образовательного маршрута"),
    "legal": ("low", ""),
    "social": ("medium", "Оформление мер социальной поддержки"),
    "material": ("none", ""),
}


def test_application_to_a_finished_psychologist_task(app, page, screenshot):
    """Can the coordinator register the Голубевы's application; the district worker of
    Участок № 2 assess them, sign contract № 17/2026 (case on support), write an ИПСС with
    a psychologist's consultation and approve it; the psychologist find that task in
    «Мои задачи», open the case from it and complete it with a result; and the
    coordinator then see the task done on the board and on the case?"""
    today = centre_today()  # the date the panel shows
    planned = today + dt.timedelta(days=3)
    with app.app_context():
        ours = District(name="Участок № 2", territory="Западный микрорайон")
        other = District(name="Участок № 6", territory="Торговая сторона")
        db.session.add_all(
            [
                ours,
                other,
                Service(kind="psychological", name="Консультация психолога"),
                Service(kind="social", name="Социальный патронаж семьи"),
            ]
        )
        db.session.flush()
        make_user(
            "coordinator", "koordinator", last_name="Фёдорова", first_name="Анна", districts=[ours]
        )
        make_user(
            "district_worker",
            "uchastkovaya",
            last_name="Белова",
            first_name="Светлана",
            middle_name="Олеговна",
            position="специалист по социальной работе",
            districts=[ours],
        )
        make_user(
            "district_worker",
            "sosedka",
            last_name="Круглова",
            first_name="Ирина",
            districts=[other],
        )
        make_user(
            "psychologist",
            "psiholog",
            last_name="Смирнова",
            first_name="Елена",
            middle_name="Викторовна",
            position="педагог-психолог",
        )
    problems: list[str] = []

    # 1. The coordinator: Новое обращение — the family is not in the bank yet.
    sign_in(page, "koordinator")
    open_menu(page, "Сопровождение", "Новое обращение")
    page.fill("#surname", "Голубев")
    go(page, page.locator("#search"))
    expect(page.locator("#nothing-found")).to_have_text("Семья не найдена.")
    screenshot(page, "30-case-intake-search")
    problems += english_on_screen(page, "intake search")
    go(page, page.locator("#register-family"))
    expect(page.locator("#surname")).to_have_value("Голубев")
    page.fill("#surname", "Голубевы")
    page.select_option("#district", label="Участок № 2")
    page.fill("#address", "Великий Новгород, ул. Псковская, д. 18, кв. 40")
    page.fill("#family_phone", "+7 816 277-14-05")
    page.fill("#last_name", "Голубева")
    page.fill("#first_name", "Наталья")
    page.fill("#middle_name", "Андреевна")
    fill_date(page, "#birth_date", dt.date(1990, 6, 12))
    page.select_option("#sex", label="женский")
    page.select_option("#relation", label="мать")
    page.fill("#snils", f.valid_snils(301))
    page.fill("#phone", "+7 911 600-12-34")
    screenshot(page, "31-case-intake-new-family")
    problems += english_on_screen(page, "new family form")
    go(page, page.locator("#register"))
    expect(page.locator(".alert-success")).to_contain_text("Семья зарегистрирована: Голубевы")
    expect(page.locator("#no-consent")).to_be_visible()
    expect(page.locator("#open-application")).to_be_disabled()
    problems += english_on_screen(page, "family without consent")

    # The child is entered in the family's card (journey 1); here only the row is needed.
    with app.app_context():
        family = db.session.scalar(select(Family).where(Family.surname == "Голубевы"))
        db.session.add(
            Person(
                family_id=family.id,
                last_name="Голубев",
                first_name="Миша",
                middle_name="Павлович",
                birth_date=dt.date(2017, 9, 3),
                sex="m",
                relation="child",
                snils=f.valid_snils(302),
                disability_status="disabled",
                disability_group="child",
            )
        )
        db.session.commit()

    consent = page.locator("#consent-form")
    expect(consent.locator("#person")).to_contain_text("Голубева Наталья Андреевна")
    expect(consent.locator("#given_on")).to_have_value(f"{today:%d.%m.%Y}")  # the Russian picker
    go(page, consent.locator("#record-consent"))
    expect(page.locator(".alert-success")).to_contain_text("Согласие на обработку")
    expect(page.locator("#open-application")).to_be_enabled()
    screenshot(page, "32-case-intake-application")
    problems += english_on_screen(page, "application form")
    go(page, page.locator("#open-application"))
    expect(page.locator(".alert-success")).to_contain_text(
        "Следующий шаг — оценка потребностей семьи."
    )
    expect(page.locator("#case-status")).to_have_text("заявление")
    case_id = int(re.search(r"случай № (\d+)", page.locator(".alert-success").inner_text())[1])
    screenshot(page, "33-case-application-accepted")
    problems += english_on_screen(page, "case after the application")
    sign_out(page)

    # 2. The district worker of Участок № 2: assessment, decision and contract.
    sign_in(page, "uchastkovaya")
    open_menu(page, "Сопровождение", "Случаи сопровождения")
    rows = page.locator("table.model-list tbody tr", has_text="Голубевы")
    expect(rows).to_have_count(1)
    go(page, rows.first.locator("a[href*='/case/details/']"))
    expect(page.locator("#next-assessment")).to_have_text("Провести оценку потребностей")
    go(page, page.locator("#next-assessment"))
    for domain, (level, notes) in NEEDS.items():
        row = page.locator(f"#domain-{domain}")
        row.locator("select").select_option(level)
        if notes:
            row.locator("textarea").fill(notes)
    screenshot(page, "34-case-assessment")
    problems += english_on_screen(page, "assessment")
    go(page, page.locator("#save-assessment"))
    expect(page.locator(".alert-success")).to_contain_text("Оценка потребностей сохранена")
    expect(page.locator("#case-status")).to_have_text("оценка потребностей")

    go(page, page.locator("#next-decision"))
    page.fill("#contract_number", "17/2026")
    expect(page.locator("#lead_worker option:checked")).to_have_text("Белова Светлана Олеговна")
    screenshot(page, "35-case-decision")
    problems += english_on_screen(page, "decision and contract")
    go(page, page.locator("#sign-contract"))
    end = page.locator(".alert-success")
    expect(end).to_contain_text(f"Договор № 17/2026 заключён: сопровождение с {today:%d.%m.%Y}")
    expect(page.locator("#case-status")).to_have_text("сопровождение")
    screenshot(page, "36-case-active")
    problems += english_on_screen(page, "active case")

    go(page, page.locator("#print-contract"))
    contract = page.locator("body")
    for text in (
        "ДОГОВОР № 17/2026",
        "сопровождении семьи, имеющей ребёнка-инвалида",
        f"{today:%d.%m.%Y}",
        "Голубева Наталья Андреевна",
        "семьи Голубевых",
        "ул. Псковская, д. 18, кв. 40",
        "Белова Светлана Олеговна",
        "Голубева Н. А.",
    ):
        expect(contract).to_contain_text(text)
    screenshot(page, "37-case-contract")
    page.emulate_media(media="print")
    screenshot(page, "38-case-contract-print")
    expect(page.locator("#print")).to_be_hidden()
    page.emulate_media(media="screen")
    problems += english_on_screen(page, "printable contract")

    # 3. The ИПСС: a consultation of the psychologist, then approval (tasks are made).
    go(page, page.get_by_role("link", name="к случаю"))
    open_menu(page, "Сопровождение", "ИПСС: составление и мониторинг")
    go(page, page.locator(f"#case-{case_id} a"))
    expect(page.locator("#plan-status")).to_have_text("не составлена")
    page.fill("#goal", "Снизить тревожность матери, подобрать Мише образовательный маршрут")
    page.select_option("#new-0-service", label="Консультация психолога")
    page.select_option("#new-0-role", label="психолог")
    fill_date(page, "#new-0-planned_date", planned)
    screenshot(page, "39-case-ipss-draft")
    go(page, page.locator("#save-plan"))
    expect(page.locator(".alert-success")).to_contain_text("ИПСС сохранена: редакция 1.")
    expect(page.locator("#plan-status")).to_have_text("проект")
    problems += english_on_screen(page, "ИПСС draft")
    page.once("dialog", lambda dialog: dialog.accept())
    go(page, page.locator("#approve-plan"))
    expect(page.locator(".alert-success")).to_contain_text("ИПСС утверждена. Создано задач: 1.")
    expect(page.locator("#plan-status")).to_have_text("утверждена")
    consultation = page.locator("#activities tr[id^='activity-']")
    expect(consultation).to_contain_text("Смирнова Елена Викторовна")
    screenshot(page, "40-case-ipss-approved")
    problems += english_on_screen(page, "ИПСС approved")

    go(page, page.locator("#print-ipss"))
    for text in (
        "Индивидуальная программа социального сопровождения",
        "семья: Голубевы",
        "договор № 17/2026",
        "Голубев Миша Павлович, 03.09.2017 г. р.",
        "Консультация психолога",
        f"{planned:%d.%m.%Y}",
        "Программа утверждена",
        "Голубева Н. А.",
    ):
        expect(page.locator("body")).to_contain_text(text)
    screenshot(page, "41-case-ipss-print")
    page.emulate_media(media="print")
    screenshot(page, "42-case-ipss-print-media")
    expect(page.locator("#print-now")).to_be_hidden()
    page.emulate_media(media="screen")
    problems += english_on_screen(page, "printable ИПСС")
    page.go_back()
    sign_out(page)

    # 4. The psychologist: «Мои задачи» → the case → the result, done in one step.
    sign_in(page, "psiholog")
    open_top_menu(page, "Мои задачи")
    task_row = page.locator("table.opora-tasks tbody tr", has_text="Голубевы")
    expect(task_row).to_have_count(1)
    expect(task_row).to_contain_text("Консультация психолога")
    expect(task_row).to_contain_text(f"{planned:%d.%m.%Y}")
    screenshot(page, "43-case-my-tasks")
    problems += english_on_screen(page, "my tasks")
    task_id = task_row.get_attribute("id").removeprefix("task-")
    go(page, task_row.get_by_role("link", name=f"случай № {case_id}"))
    expect(page.locator("#case-status")).to_have_text("сопровождение")
    case_tasks = page.locator("h5:has-text('Задачи') + table")
    expect(case_tasks).to_contain_text("Консультация психолога")
    expect(case_tasks).to_contain_text("назначена")
    screenshot(page, "44-case-seen-by-psychologist")
    problems += english_on_screen(page, "case seen by the psychologist")
    open_top_menu(page, "Мои задачи")
    go(page, page.locator(f"#complete-{task_id}"))
    page.fill("#result", "Проведена консультация: тревожность снижена, даны рекомендации матери.")
    screenshot(page, "45-case-task-result")
    problems += english_on_screen(page, "task result")
    go(page, page.locator("#complete"))
    expect(page.locator(".alert-success")).to_contain_text("выполнена")
    expect(page.locator("#no-tasks")).to_have_text("Открытых задач нет.")
    sign_out(page)

    # 5. The coordinator sees it done: no open task left, the case shows the result.
    sign_in(page, "koordinator")
    open_top_menu(page, "Доска")
    psychologist = page.locator("#workload tr", has_text="Смирнова Елена Викторовна")
    expect(psychologist.locator("[data-open]")).to_have_text("0")
    expect(psychologist.locator("[data-overdue]")).to_have_text("0")
    go(page, psychologist.get_by_role("link", name="Смирнова Елена Викторовна"))
    expect(page.locator("#chosen-tasks")).to_contain_text("Открытых задач нет.")
    screenshot(page, "46-case-board")
    problems += english_on_screen(page, "board")
    open_menu(page, "Сопровождение", "ИПСС: составление и мониторинг")
    go(page, page.locator(f"#case-{case_id} a"))
    consultation = page.locator("#activities tr[id^='activity-']")
    expect(consultation).to_contain_text("выполнена")
    expect(consultation).to_contain_text("тревожность снижена")
    screenshot(page, "47-case-ipss-done")
    problems += english_on_screen(page, "ИПСС with the task done")
    go(page, page.locator("#open-case"))
    case_tasks = page.locator("h5:has-text('Задачи') + table")
    expect(case_tasks.locator("tr", has_text="Консультация психолога")).to_contain_text("выполнена")
    screenshot(page, "48-case-details-done")
    problems += english_on_screen(page, "case with the task done")

    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
