"""Does every page of the panel open for the administrator, in Russian, with its related data?

One row of every model is built, then each view of admin_views.VIEWS is
opened the ways the permission matrix allows the administrator: list,
create, details and edit answer 200; an id that does not exist answers 404.
"""

from __future__ import annotations

import re

import factories as f
import pytest
from conftest import make_user, signed_in
from sqlalchemy import select

from admin_views import VIEWS
from admin_views.permissions import allowed
from models import Case, Family, db
from workflows.centre import centre_settings

VIEW_IDS = [endpoint for *_, endpoint in VIEWS]


def admin_may(endpoint: str, action: str) -> bool:
    return allowed("admin", endpoint, action)


def views_where(action: str) -> list[str]:
    """The endpoints where the permission matrix lets the administrator take `action`."""
    return [endpoint for endpoint in VIEW_IDS if admin_may(endpoint, action)]


CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def build_world() -> dict:
    """One row of every model, linked as in real life; returns names worth looking for."""
    dept = f.department()
    area = f.district()
    worker = f.staff("district_worker", districts=[area], department=dept)
    psychologist = f.staff("psychologist", last_name="Орлова", first_name="Инна")
    fam, mother, child = f.family_with_members(district_row=area)
    f.consent(fam, mother, scope="обработка данных для сопровождения семьи")
    f.programme_enrolment(fam)
    case = f.case(fam, mother, lead_worker=worker, contract_number="Д-17/2025")
    f.assessment(case, assessed_by=worker)
    plan = f.support_plan(case, goal="Социальная адаптация ребёнка")
    activity = f.plan_activity(plan, specialist=psychologist)
    f.plan_revision(plan, changed_by=worker)
    f.visit(case, worker, purpose="Обследование жилищно-бытовых условий")
    task = f.task(
        fam, case, title="Провести диагностику ребёнка", status="assigned", assignee=psychologist
    )
    f.task(fam, case, activity=activity, title="Консультация психолога")
    f.task_assignment(task, psychologist)
    f.review(case, reviewer=worker, family_feedback="Семья довольна")
    f.appointment(psychologist, family=fam)
    kind = f.equipment_type(name="Кресло-коляска детская прогулочная")
    unit = f.equipment_unit(kind, inventory_number="ТСР-00017")
    loan = f.loan(unit, fam, child)
    f.loan_extension(loan)
    f.reservation(fam, child, f.equipment_type(name="Опора для сидения"))
    agreement_partner = f.partner(name="МАОУ «Школа № 2»")
    f.partner_agreement(agreement_partner)
    f.partner_contact(agreement_partner, last_name="Белова", position="социальный педагог")
    f.referral(case, agreement_partner, handled_by=worker)
    raid = f.social_raid(area, team=[worker])
    fam.identified_by, fam.social_raid = "raid", raid
    f.incoming_referral(agreement_partner, area, received_by=worker)
    f.council_meeting(area, staff=[worker], partners=[agreement_partner])
    f.attendance(f.event(worker), fam, [child])
    group = f.partner(name="Волонтёрский отряд «Добро»", kind="volunteers")
    f.event(worker, kind="training", title="Обучение волонтёров", staff=[worker],
            volunteers=[f.volunteer(group)])  # fmt: skip
    f.event(worker, kind="info_campaign", title="Буклет", channel="booklet", print_run=500)
    f.project_measure()
    f.user("rental_clerk")
    f.required_document()
    f.audit_record()
    f.message(fam)
    f.message_template()
    centre_settings(db.session)
    db.session.commit()
    return {"family": fam.id, "case": case.id}


@pytest.fixture
def world(app, client, kept):
    """build_world()'s ids, with `client` signed in as the administrator; built once
    and kept for the following page tests while they only read."""

    def build():
        with app.app_context():
            make_user("admin")
        session = signed_in(app, "admin").get_cookie("session").value
        with app.app_context():
            return build_world(), session

    ids, session = kept("test_pages.world", build)
    client.set_cookie("session", session)
    return ids


def first_id(app, endpoint: str) -> int:
    model = next(model for _, model, *_, ep in VIEWS if ep == endpoint)
    with app.app_context():
        row_id = db.session.scalar(select(model.id).order_by(model.id).limit(1))
    assert row_id is not None, f"the world has no {model.__name__}"
    return row_id


def has_cell(page: str, text: str) -> bool:
    """Whether a table cell of the page holds exactly `text` (maybe as a link)."""
    return re.search(rf"<td>(<a [^>]*>)?\s*{re.escape(text)}\s*(</a>)?</td>", page) is not None


def column_headers(page: str) -> list[str]:
    """The visible texts of the list table's column headers."""
    cells = re.findall(r'<th class="column-header[^"]*">(.*?)</th>', page, re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in cells]


# --- every view ------------------------------------------------------------------------------


def test_view_endpoints_are_unique():
    """Is every endpoint of VIEWS unique, so each page below is a different screen?"""
    assert len(VIEW_IDS) == len(set(VIEW_IDS))


@pytest.mark.parametrize("endpoint", views_where("list"))
def test_list_page_opens(world, client, endpoint):
    """Does the list page open (200) for the administrator, with the row shown?"""
    response = client.get(f"/{endpoint}/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Нет элементов" not in page and "There are no items" not in page


@pytest.mark.parametrize("endpoint", views_where("list"))
def test_list_headers_are_russian(world, client, endpoint):
    """Are the list's column headers Russian words, not raw column names like last_name?"""
    headers = column_headers(client.get(f"/{endpoint}/").get_data(as_text=True))
    assert headers, "no column headers found"
    raw = [h for h in headers if not CYRILLIC.search(h) and h != "№"]
    assert not raw, f"headers without a Russian label: {raw}"


@pytest.mark.parametrize("endpoint", views_where("create"))
def test_create_page_opens(world, client, endpoint):
    """Does the create form open (200) where the administrator may create?"""
    response = client.get(f"/{endpoint}/new/")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", views_where("details"))
def test_details_page_opens(app, world, client, endpoint):
    """Does the details page of an existing row open (200)?"""
    response = client.get(f"/{endpoint}/details/?id={first_id(app, endpoint)}")
    assert response.status_code == 200


@pytest.mark.parametrize("endpoint", views_where("edit"))
def test_edit_page_opens(app, world, client, endpoint):
    """Does the edit form of an existing row open (200) where the administrator may edit?"""
    response = client.get(f"/{endpoint}/edit/?id={first_id(app, endpoint)}")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("endpoint", "action"),
    [(endpoint, action) for action in ("details", "edit") for endpoint in views_where(action)],
)
def test_missing_id_answers_404(world, client, endpoint, action):
    """Does a details or edit URL with an id that does not exist answer 404?"""
    for bad in ("987654", "abc"):
        response = client.get(f"/{endpoint}/{action}/?id={bad}")
        assert response.status_code == 404, (bad, response.status_code)


def test_denied_actions_answer_no(world, client):
    """Are the audit log's create and edit pages closed to the administrator as the matrix says?"""
    assert not admin_may("audit_record", "create")
    assert client.get("/audit_record/new/").status_code in (302, 403, 404)
    assert client.get("/audit_record/edit/?id=1").status_code in (302, 403, 404)


# --- what the pages say --------------------------------------------------------------------


def test_family_details_show_related_records(world, client):
    """Does the family page show its members, consents, cases, loans and reservations?"""
    page = client.get(f"/family/details/?id={world['family']}").get_data(as_text=True)
    for title in (
        "Члены семьи",
        "Согласия на обработку ПДн",
        "Случаи сопровождения",
        "Выдачи ТСР",
        "Очередь на ТСР",
    ):
        assert title in page, title
    assert "Смирнова" in page and "Дмитрий" in page  # members
    assert "обработка данных для сопровождения семьи" in page  # consent
    assert "20.01.2025" in page  # the case's application date
    assert "ТСР-00017" in page  # the loaned unit
    assert "Опора для сидения" in page  # the reserved equipment type
    assert has_cell(page, "сопровождение")  # the case's status in words, not "active"


def test_case_details_show_plan_tasks_visits_reviews(world, client):
    """Does the case page show its plan, tasks, visits and reviews?"""
    page = client.get(f"/case/details/?id={world['case']}").get_data(as_text=True)
    for title in ("ИПСС", "Задачи", "Визиты", "Мониторинг"):
        assert f"{title} <small" in page, title
    assert "Социальная адаптация ребёнка" in page  # plan goal
    assert "Провести диагностику ребёнка" in page  # task
    assert "Обследование жилищно-бытовых условий" in page  # visit
    assert "01.04.2025" in page  # review due date
    assert has_cell(page, "назначена")  # the task's status in words, not "assigned"


def test_codes_and_dates_read_as_words(world, client):
    """Do lists show statuses as Russian words and dates as дд.мм.гггг?"""
    families = client.get("/family/").get_data(as_text=True)
    assert "на учёте" in families
    assert ">registered<" not in families
    people = client.get("/person/").get_data(as_text=True)
    assert "17.05.1988" in people
    assert "1988-05-17" not in people
    units = client.get("/equipment_unit/").get_data(as_text=True)
    assert "свободно" in units


def test_details_are_audited_as_openings(app, world, client):
    """Is opening a family's page recorded in the audit log?"""
    from models import AuditRecord

    client.get(f"/family/details/?id={world['family']}")
    with app.app_context():
        opened = db.session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "view",
                AuditRecord.table_name == Family.__tablename__,
                AuditRecord.row_id == str(world["family"]),
            )
        ).all()
        assert len(opened) == 1
        assert opened[0].username == "admin"


def test_archived_case_is_hidden_from_the_list(app, world, client):
    """Does archiving a case hide it from the list but keep the row?"""
    from models.base import utcnow

    with app.app_context():
        db.session.get(Case, world["case"]).archived_at = utcnow()
        db.session.commit()
    rowid = f'name="rowid" class="action-checkbox" value="{world["case"]}"'
    assert rowid not in client.get("/case/").get_data(as_text=True)
    assert rowid in client.get("/case/?archive=1").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Case, world["case"]) is not None
