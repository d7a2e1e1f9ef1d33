"""The everyday screens in Chromium at a desktop's 1366×768 and a tablet's 820×1180, with
the clicks counted: a district worker's task «Провести оценку…» in «Мои задачи» leads to
the assessment, which closes it, and the coordinator's board shows it done; the coordinator
takes a family from the menu to a closed case in at most 25 clicks. Screenshots are kept
in tests/e2e/artifacts/ (gitignored)."""

from __future__ import annotations

import datetime as dt
import re

import factories as f
import pytest
from conftest import make_user
from playwright.sync_api import expect

from models import District, Task, db
from workflows.dates import centre_today

from .browser import english_on_screen, exactly, fill_date, sign_in, sign_out

pytestmark = pytest.mark.e2e

SIZES = {"desktop": (1366, 768), "tablet": (820, 1180)}
LEVELS = {
    "medical": "high",
    "psychological": "medium",
    "pedagogical": "medium",
    "legal": "low",
    "social": "medium",
    "material": "none",
}
MOST_CLICKS = 25


class Clicks:
    """Every click and choice a person makes on the way, counted (typing is not)."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def go(self, target) -> None:
        """Click `target`, which loads another page, and wait for it."""
        self.count += 1
        with self.page.expect_navigation():
            target.click()

    def choose(self, selector: str, **option) -> None:
        self.count += 1
        self.page.select_option(selector, **option)

    def menu(self, item: str, category: str | None = None) -> None:
        """Open `item` from the navbar: the tablet's menu button first where it shows."""
        page = self.page
        page.wait_for_load_state("load")  # the menu opens once Bootstrap's script has run
        toggler = page.locator(".navbar-toggler")
        if toggler.is_visible():
            self.count += 1
            toggler.click()
            expect(page.locator("#admin-navbar-collapse")).to_be_visible()
        own = page.locator(
            "#work-menu > li > a.nav-link:not(.dropdown-toggle)", has_text=exactly(item)
        )
        if own.count():
            self.go(own.first)
            return
        assert category, f"«{item}» is not a top item of the menu"
        self.count += 1
        page.locator("#work-menu .dropdown-toggle", has_text=category).first.click()
        self.go(page.locator("#work-menu .dropdown-menu.show a", has_text=exactly(item)))


def shot(page, screenshot, size: str, name: str) -> None:
    screenshot(page, f"screens-{size}-{name}")


def sized(page, size: str) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})


def enter(page, username: str, size: str) -> None:
    """Sign in (the shared helper looks for the user menu, folded away on a tablet), then
    work at `size`."""
    sized(page, "desktop")
    sign_in(page, username)
    sized(page, size)


def leave(page) -> None:
    sized(page, "desktop")
    sign_out(page)


@pytest.mark.parametrize("size", SIZES)
def test_a_task_leads_to_its_step_and_the_board_sees_it_done(app, page, screenshot, size):
    """Does the district worker's «Провести оценку потребностей семьи» in «Мои задачи»
    offer «Перейти к шагу», lead to the case's assessment, close when the assessment is
    saved, and show on the coordinator's board under «Выполнено» with the worker's name?"""
    with app.app_context():
        area = District(name="Участок № 3", territory="Северный микрорайон")
        db.session.add(area)
        db.session.flush()
        worker = make_user(
            "district_worker",
            "uchastkovaya",
            districts=[area],
            last_name="Белова",
            first_name="Светлана",
            middle_name="Олеговна",
        )
        make_user("coordinator", "koordinator", last_name="Фёдорова", first_name="Анна")
        family, mother, _child = f.family_with_members(district_row=area, surname="Зайцевы")
        f.consent(family, mother)
        case = f.case(
            family,
            mother,
            status="application",
            application_date=centre_today() - dt.timedelta(days=2),
            decision_date=None,
            contract_number=None,
            contract_date=None,
            start_date=None,
            planned_end_date=None,
            lead_worker=worker.staff,
        )
        task = f.task(
            family,
            case,
            title="Провести оценку потребностей семьи",
            role="district_worker",
            status="assigned",
            assignee=worker.staff,
            due_date=centre_today(),
        )
        db.session.commit()
        task_id, case_id = task.id, case.id
    problems: list[str] = []
    clicks = Clicks(page)

    enter(page, "uchastkovaya", size)
    clicks.menu("Мои задачи")
    row = page.locator(f"#task-{task_id}")
    expect(row.locator(f"#step-{task_id}")).to_have_text("Перейти к шагу")
    expect(row.locator(f"#complete-{task_id}")).to_have_count(0)
    shot(page, screenshot, size, "10-my-tasks-step")
    problems += english_on_screen(page, "my tasks")
    clicks.go(row.locator(f"#step-{task_id}"))
    expect(page).to_have_url(re.compile(rf"/case_flow/{case_id}/assessment"))
    for domain, level in LEVELS.items():
        clicks.choose(f"#domain-{domain} select", value=level)
    shot(page, screenshot, size, "11-step-assessment")
    clicks.go(page.locator("#save-assessment"))
    expect(page.locator(".alert-success")).to_contain_text("Оценка потребностей сохранена")
    shot(page, screenshot, size, "12-step-done")
    clicks.menu("Мои задачи")
    expect(page.locator("#no-tasks")).to_have_text("Открытых задач нет.")
    assert clicks.count <= 12, clicks.count  # 10, and the tablet's menu button twice
    with app.app_context():
        assert db.session.get(Task, task_id).status == "done"
    leave(page)

    enter(page, "koordinator", size)
    clicks.menu("Доска")
    done = page.locator(f"#done-task-{task_id}")
    expect(done).to_contain_text("Провести оценку потребностей семьи")
    expect(done).to_contain_text("Зайцевы")
    expect(done).to_contain_text("Белова Светлана Олеговна")
    expect(page.locator("#done-today-total")).to_have_text("1")
    expect(page.locator("#done-counts")).to_contain_text("Белова Светлана Олеговна")
    shot(page, screenshot, size, "13-board-done")
    problems += english_on_screen(page, "board")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize("size", SIZES)
def test_intake_to_a_closed_case_in_at_most_25_clicks(app, page, screenshot, size):
    """Can the coordinator, from the menu, find that the Соколовы are new, register them
    with the mother, record the consent, accept the application, assess the family, sign
    the contract and close the case — within 25 clicks and choices — and see the whole
    story on the family's timeline?"""
    with app.app_context():
        area = District(name="Участок № 4", territory="Софийская сторона")
        db.session.add(area)
        db.session.flush()
        make_user("coordinator", "koordinator", last_name="Фёдорова", first_name="Анна")
        make_user(
            "district_worker",
            "uchastkovaya",
            districts=[area],
            last_name="Белова",
            first_name="Светлана",
            middle_name="Олеговна",
        )
    problems: list[str] = []
    enter(page, "koordinator", size)
    clicks = Clicks(page)

    clicks.menu("Новое обращение", "Сопровождение")
    page.fill("#surname", "Соколов")
    clicks.go(page.locator("#search"))
    expect(page.locator("#nothing-found")).to_have_text("Семья не найдена.")
    clicks.go(page.locator("#register-family"))
    page.fill("#surname", "Соколовы")
    clicks.choose("#district", label="Участок № 4")
    page.fill("#address", "Великий Новгород, ул. Большая Московская, д. 3, кв. 7")
    page.fill("#family_phone", "+7 816 270-11-22")
    page.fill("#last_name", "Соколова")
    page.fill("#first_name", "Мария")
    page.fill("#middle_name", "Игоревна")
    page.fill("#birth_date", "1988-04-02")
    clicks.choose("#sex", label="женский")
    clicks.choose("#relation", label="мать")
    page.fill("#snils", f.valid_snils(411))
    page.fill("#phone", "+7 911 700-44-55")
    shot(page, screenshot, size, "20-intake-family")
    clicks.go(page.locator("#register"))
    expect(page.locator(".alert-success")).to_contain_text("Семья зарегистрирована: Соколовы")
    # The child the support is for (the target group): the patronymic tells the sex.
    page.fill("#child-last_name", "Соколов")
    page.fill("#child-first_name", "Илья")
    page.fill("#child-middle_name", "Андреевич")
    fill_date(page, "#child-birth_date", dt.date(2016, 5, 14))
    clicks.choose("#child-disability_status", value="ovz")
    clicks.go(page.locator("#add-child-button"))
    expect(page.locator("#children")).to_contain_text("Соколов Илья Андреевич")
    clicks.go(page.locator("#consent-form #record-consent"))
    clicks.go(page.locator("#open-application"))
    expect(page.locator("#case-status")).to_have_text("заявление")
    shot(page, screenshot, size, "21-application")
    problems += english_on_screen(page, "case after the application")

    clicks.go(page.locator("#next-assessment"))
    for domain, level in LEVELS.items():
        clicks.choose(f"#domain-{domain} select", value=level)
    clicks.go(page.locator("#save-assessment"))
    clicks.go(page.locator("#next-decision"))
    page.fill("#contract_number", "21/2026")
    shot(page, screenshot, size, "22-decision")
    clicks.go(page.locator("#sign-contract"))
    expect(page.locator("#case-status")).to_have_text("сопровождение")
    clicks.go(page.locator("#next-closure"))
    clicks.choose("#reason", label="цель достигнута")
    page.fill("#outcome", "Семья получила консультации, ребёнок зачислен в школу.")
    shot(page, screenshot, size, "23-closure")
    clicks.go(page.locator("#close-case"))
    expect(page.locator(".alert-success")).to_contain_text("Случай закрыт.")
    expect(page.locator("#case-status")).to_have_text("закрыт")
    shot(page, screenshot, size, "24-closed")
    problems += english_on_screen(page, "closed case")
    assert clicks.count <= MOST_CLICKS, f"{clicks.count} clicks from the menu to a closed case"

    # The story on the family's page (not counted: the journey ended at the closure).
    page.locator("#case-family").click()
    page.wait_for_load_state("load")
    timeline = page.locator("#timeline")
    for text in (
        "закрыт: цель достигнута",
        "Договор № 21/2026",
        "Оценка потребностей",
        "Заявление",
    ):
        expect(timeline).to_contain_text(text)
    shot(page, screenshot, size, "25-family-timeline")
    problems += english_on_screen(page, "family timeline")
    print(f"{size}: {clicks.count} clicks from the menu to a closed case")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize("size", SIZES)
def test_a_council_meeting_fits_the_tablet_and_a_refused_decision_keeps_its_choices(
    app, page, screenshot, size
):
    """A meeting's page, its pickers holding a partner with a long name and a contact
    person with a long position, scrolls nowhere sideways; a decision for a partner
    refused for want of a service keeps the partner, the contact person and «партнёр»."""
    from workflows import council as wf

    with app.app_context():
        area = f.district(name=f"Участок № {f.seq()}")
        worker = make_user("district_worker", f"sovet{size}", districts=[area.id])
        clinic = f.partner(
            name="Государственное бюджетное учреждение здравоохранения «Областная детская "
            f"клиническая больница имени святого Луки» № {f.seq()}",
            kind="clinic",
        )
        doctor = f.partner_contact(
            clinic,
            last_name="Константинопольская",
            first_name="Александра",
            middle_name="Вячеславовна",
            position="заведующая консультативно-диагностическим педиатрическим отделением",
        )
        family, mother, _child = f.family_with_members(district_row=area)
        f.consent(family, mother)
        case = f.case(family, mother, lead_worker_id=worker.staff_id)
        actor = db.session.get(f.User, worker.id)
        today = centre_today()
        meeting = wf.record_meeting(
            db.session,
            actor,
            held_on=today,
            district_id=area.id,
            agenda="О семьях участка",
            staff_ids=[worker.staff_id],
            contact_ids=[doctor.id],
            today=today,
        )
        wf.add_agenda_case(db.session, actor, meeting.id, case_id=case.id, note="")
        db.session.commit()
        url, clinic_id, doctor_id = f"/council/{meeting.id}", clinic.id, doctor.id
    enter(page, f"sovet{size}", size)
    page.goto(url)
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    page.check("input[name=executor][value=partner]")
    page.select_option("select[name=partner]", str(clinic_id))
    page.select_option("select[name=contact]", str(doctor_id))
    page.fill("#d-what", "Консультация невролога")
    with page.expect_navigation():
        page.get_by_role("button", name="Записать решение").click()
    expect(page.get_by_text("Выберите услугу")).to_be_visible()
    assert page.input_value("select[name=partner]") == str(clinic_id)
    assert page.input_value("select[name=contact]") == str(doctor_id)
    assert page.is_checked("input[name=executor][value=partner]")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    shot(page, screenshot, size, "council-meeting-refused")
    leave(page)
