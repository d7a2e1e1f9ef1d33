"""Does health data reach only the roles that read it — in every string, not only in the
columns a view lists?

One family's health rows carry words found nowhere else: the child's medical notes and
re-examination date, the disability group, an assessment's need level and conclusion, a
visit's findings. Every page the panel answers to a GET — each table's list, details,
edit and create form, its Excel export and its relation pickers' lookups, every workflow
page, every report — is opened with this family's ids by each role without the right
(admin, lawyer, social worker, rental clerk, viewer), and none of those words may appear
in a heading, a title, an option, a related table, a cell or a flash. A role with the
right still reads them where they belong.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess

import factories as f
import pytest
from conftest import make_user, signed_in
from openpyxl import load_workbook
from security_factories import admin_form, world

from models import Assessment, Case, Family, IncomingReferral, Person, Referral, Visit, db
from models.roles import reads_health
from workflows.reports import REPORTS

SECRET = "Тайнозрь"
REVIEW_DATE = dt.date(2031, 7, 19)
# What a page of a role without the right must never contain.
HEALTH_WORDS = (
    SECRET,  # in the person's medical notes, the assessment's conclusion, the visit's findings
    f"{REVIEW_DATE:%d.%m.%Y}",
    REVIEW_DATE.isoformat(),
    "ребёнок-инвалид",  # the child's disability status and group
    "нуждаемость ",  # an assessment's health label
)
# A need level's word is also an option of other forms («высокая» effectiveness of a
# review): a page leaks it when its count there follows the assessment's need level.
LEVEL_WORDS = ("высокая", "низкая")
NO_RIGHT = ("admin", "lawyer", "social_worker", "rental_clerk", "viewer")
WITH_RIGHT = ("coordinator", "nurse")
# Specialists see the case through a task of their own in it.
WITH_TASK = ("lawyer", "social_worker", "nurse")
SKIPPED = {"static", "admin.static", "healthz"}

# The pages each role must reach with the family's rows, so that the walk proves
# something: a role that got 404 everywhere would pass trivially.
MUST_REACH = {
    "admin": {
        "assessment.details_view",
        "assessment.edit_view",
        "assessment.export",
        "visit.details_view",
        "person.details_view",
        "family.details_view",
        "case.details_view",
        "loan.details_view",
    },
    "lawyer": {
        "assessment.index_view",
        "assessment.details_view",
        "assessment.edit_view",
        "visit.details_view",
        "person.details_view",
        "person.ajax_lookup",
        "family.details_view",
        "case.details_view",
        "ipss.plan",
        "ipss.print_view",
        "my_tasks.task",
    },
    "rental_clerk": {
        "person.details_view",
        "person.index_view",
        "loan.export",
        "reservation.export",
        "family.details_view",
        "loan.details_view",
        "reservation.details_view",
        "rental_desk.family_view",
        "rental_desk.act_view",
        "rental_desk.loan_view",
        "rental_desk.lend_view",
        "rental_desk.queue_view",
    },
    "viewer": {"reports.report", "reports.xlsx"},
}
MUST_REACH["social_worker"] = MUST_REACH["lawyer"]


@pytest.fixture
def seeded(app):
    """A family whose health rows hold the HEALTH_WORDS, a user of every role, and a task
    in the family's case for each specialist. Returns the ids the pages are opened with."""
    with app.app_context():
        district = f.district()
        ids = world(district, "Здравин")
        family = db.session.get(Family, ids["family"])
        case = db.session.get(Case, ids["case"])
        for person_id in (ids["mother"], ids["child"]):
            db.session.get(Person, person_id).health_notes = f"Диагноз: {SECRET}-диагноз"
        child = db.session.get(Person, ids["child"])
        assert (child.disability_status, child.disability_group) == ("disabled", "child")
        child.disability_review_date = REVIEW_DATE
        assessment = db.session.get(Assessment, ids["assessment"])
        assessment.domain, assessment.need_level = "medical", "high"
        assessment.notes = f"{SECRET}-заключение"
        db.session.get(Visit, ids["visit"]).findings = f"{SECRET}-визит"
        referral = db.session.get(Referral, ids["referral"])  # a medical one: health data
        referral.reason_kind, referral.reason = "medical", None
        referral.health_reason = f"{SECRET}-направление"
        incoming = db.session.get(IncomingReferral, ids["incoming_referral"])
        incoming.reason = f"{SECRET}-направление партнёра"  # may tell of the child's health
        ids["tasks"] = {}
        for role in (*NO_RIGHT, *WITH_RIGHT):
            user = make_user(role, districts=[district])
            if role in WITH_TASK:
                task = f.task(
                    family,
                    case,
                    title=f"Задача для роли {role}",
                    role=role,
                    assignee=user.staff,
                    status="assigned",
                )
                ids["tasks"][role] = task.id
        db.session.commit()
        ids["person"] = ids["child"]  # the person pages open the child
        return ids


def page_text(response) -> str:
    """What the user gets to read: the HTML, the JSON decoded, a workbook's cells."""
    if response.mimetype == "application/json":
        return json.dumps(response.get_json(), ensure_ascii=False)
    if response.mimetype == "application/pdf":  # a printed document's PDF: its words
        return subprocess.run(
            ["pdftotext", "-", "-"], input=response.get_data(), check=True, capture_output=True
        ).stdout.decode()
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.get_data()))
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return response.get_data(as_text=True)


def urls(app, ids: dict, role: str) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET page of the panel, filled with the seeded rows' ids."""
    admin = app.extensions["admin"][0]
    views = {view.endpoint: view for view in admin._views}
    stem = ids["stem"]
    values = {
        "case_id": ids["case"],
        "consent_id": ids["consent"],
        "family_id": ids["family"],
        "loan_id": ids["loan"],
        "unit_id": ids["equipment_unit"],
        "reservation_id": ids["reservation"],
        "referral_id": ids["referral"],
        "programme_id": ids["rehab_programme"],
        "incoming_id": ids["incoming_referral"],
        "raid_id": ids["social_raid"],
        "meeting_id": ids["council_meeting"],
        "agreement_id": ids["partner_agreement"],
        "task_id": ids["tasks"].get(role, ids["task"]),
        "export_type": "xlsx",
    }
    # A page's query: the row of a table's page, a search that finds the family.
    queries = {
        "details_view": lambda table: {"id": ids[table]},
        "edit_view": lambda table: {"id": ids[table]},
        "create_view": lambda table: {
            "family": ids["family"],
            "case": ids["case"],
            "child": ids["child"],
            "person": ids["child"],
        },
        "index_view": lambda table: {"search": stem},
    }
    desk = {
        "rental_desk.index": {"type": ids["equipment_type"]},
        "rental_desk.lend_view": {"q": stem},
        "rental_desk.queue_view": {"q": stem},
        "intake.index": {"surname": ids["surname"]},
    }
    found = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in SKIPPED:
                continue
            if rule.endpoint.startswith("auth."):
                continue
            table, _, name = rule.endpoint.partition(".")
            if "slug" in rule.arguments:
                for slug in REPORTS:
                    found.append((rule.endpoint, url_for(rule.endpoint, slug=slug)))
                continue
            args = {a: values[a] for a in rule.arguments}
            if name == "ajax_lookup":
                for field in getattr(views.get(table), "_form_ajax_refs", None) or {}:
                    query = {"name": field, "query": stem}
                    found.append((rule.endpoint, url_for(rule.endpoint, **args, **query)))
                continue
            if name in queries and table in ids:
                args.update(queries[name](table))
            args.update(desk.get(rule.endpoint, {}))
            found.append((rule.endpoint, url_for(rule.endpoint, **args)))
            if name == "index_view":  # the plain list too, not only the search
                found.append((rule.endpoint, url_for(rule.endpoint)))
    return found


def walk(app, ids: dict, role: str) -> dict[str, list[tuple[str, str]]]:
    """endpoint → [(url, text)] of every page `role` was given (200) with the family."""
    client = signed_in(app, role)
    read: dict[str, list[tuple[str, str]]] = {}
    for endpoint, url in urls(app, ids, role):
        response = client.get(url)
        assert response.status_code < 500, (role, url, response.status_code)
        if response.status_code == 200:
            read.setdefault(endpoint, []).append((url, page_text(response)))
    return read


def leaks(read: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    return [
        (url, word)
        for pages in read.values()
        for url, text in pages
        for word in HEALTH_WORDS
        if word in text
    ]


@pytest.mark.parametrize("role", NO_RIGHT)
def test_no_page_tells_a_health_value_to_a_role_without_the_right(app, seeded, role):
    """Opened by a role without the right, does every page the panel answers — lists,
    details with their related tables, edit and create forms, pickers' lookups, exports,
    workflow pages, reports — leave out every health value of the family, in headings
    and labels as in columns? And did the walk reach the family's rows at all?"""
    assert not reads_health(role)
    read = walk(app, seeded, role)
    assert leaks(read) == []
    assert MUST_REACH[role] <= set(read), MUST_REACH[role] - set(read)
    with app.app_context():
        db.session.get(Assessment, seeded["assessment"]).need_level = "low"
        db.session.commit()
    again = walk(app, seeded, role)
    for word in LEVEL_WORDS:
        assert word_counts(again, word) == word_counts(read, word), word


def word_counts(read: dict[str, list[tuple[str, str]]], word: str) -> dict[str, int]:
    return {url: text.count(word) for pages in read.values() for url, text in pages}


def test_assessment_heading_names_no_need_level(app, seeded):
    """Is an assessment's details heading, seen by the lawyer, its neutral name
    («Оценка потребностей № … от …»), not «медицинская: высокая»?"""
    client = signed_in(app, "lawyer")
    body = client.get(f"/assessment/details/?id={seeded['assessment']}").get_data(as_text=True)
    assert f"Оценка потребностей № {seeded['assessment']} (медицинская сфера) от " in body
    assert "нуждаемость" not in body and "медицинская: " not in body


def test_saving_a_health_row_flashes_no_health_value(app, seeded):
    """Does the lawyer's save of an assessment and of a visit (their forms without the
    health fields) answer with pages and flashes that hold no health value — and leave
    the health values as they were?"""
    client = signed_in(app, "lawyer")
    for table in ("assessment", "visit"):
        url = f"/{table}/edit/?id={seeded[table]}"
        form = admin_form(client.get(url).get_data(as_text=True))
        response = client.post(url, data=form["fields"], follow_redirects=True)
        assert response.status_code == 200, table
        text = response.get_data(as_text=True)
        assert "alert-danger" not in text, text[-2000:]
        assert [w for w in HEALTH_WORDS if w in text] == [], table
    with app.app_context():
        assessment = db.session.get(Assessment, seeded["assessment"])
        assert (assessment.need_level, assessment.notes) == ("high", f"{SECRET}-заключение")
        assert db.session.get(Visit, seeded["visit"]).findings == f"{SECRET}-визит"


@pytest.mark.parametrize("role", WITH_RIGHT)
def test_a_role_with_the_right_still_reads_them(app, seeded, role):
    """Does the coordinator (every family) and the nurse (through her task) still read
    the child's medical notes, group and re-examination date, the assessment's need level
    (in its heading, too) and conclusion, and the visit's findings?"""
    client = signed_in(app, role)

    def page(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, url
        return response.get_data(as_text=True)

    person = page(f"/person/details/?id={seeded['child']}")
    for word in (f"{SECRET}-диагноз", "ребёнок-инвалид", f"{REVIEW_DATE:%d.%m.%Y}"):
        assert word in person, word
    assessment = page(f"/assessment/details/?id={seeded['assessment']}")
    assert (
        f"№ {seeded['assessment']} (медицинская сфера) от 03.02.2025: нуждаемость высокая</h4>"
        in assessment
    )
    assert f"{SECRET}-заключение" in assessment
    assert f"{SECRET}-визит" in page(f"/visit/details/?id={seeded['visit']}")
    case = page(f"/case/details/?id={seeded['case']}")
    assert "высокая" in case and f"{SECRET}-заключение" in case
    family = page(f"/family/details/?id={seeded['family']}")
    assert "ребёнок-инвалид" in family


def test_a_health_rows_name_holds_no_health_value():
    """Does `str()` of every row with health columns — the name Flask-Admin gives it in
    pickers, relation columns, related tables and exports — leave out every health
    value, whatever it is; and does an assessment's health label hold its need level?"""
    from admin_views.modelview.fields import health_columns, row_label
    from models.cases import NEED_LEVEL
    from models.people import DISABILITY, DISABILITY_GROUP

    person = Person(
        id=7,
        last_name="Иванов",
        first_name="Пётр",
        disability_status="disabled",
        disability_group="1",
        disability_review_date=REVIEW_DATE,
        health_notes=SECRET,
    )
    visit = Visit(id=8, visited_on=dt.date(2025, 2, 5), findings=SECRET)
    rows = [person, visit]
    for level in NEED_LEVEL.codes:
        rows.append(
            Assessment(
                id=9,
                domain="medical",
                need_level=level,
                notes=SECRET,
                assessed_on=dt.date(2025, 2, 3),
            )
        )
    words = {SECRET, f"{REVIEW_DATE:%d.%m.%Y}", REVIEW_DATE.isoformat()}
    words |= {label for _code, label in NEED_LEVEL.pairs() + DISABILITY_GROUP.pairs()}
    words |= {label for code, label in DISABILITY.pairs() if code != "none"}
    for row in rows:
        assert health_columns(type(row)), type(row)
        for role in NO_RIGHT:
            name = row_label(role, row)
            assert name == str(row)
            assert [w for w in words if w in name] == [], name
    assessment = rows[-1]
    assert str(assessment) == "Оценка потребностей № 9 (медицинская сфера) от 03.02.2025"
    assert row_label("nurse", assessment) == f"{assessment}: нуждаемость высокая"
    assert row_label("nurse", person) == str(person)  # no health label declared
