"""Are the report and dashboard figures exact, scoped, and equal to the lists they summarise?

One hand-built data set (below) with every figure worked out by hand; each
figure that a list can express is also compared with the count of that list,
filtered the same way, as the coordinator sees it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import unquote, urlencode

import factories as f
import pytest
from conftest import make_user, signed_in
from openpyxl import load_workbook
from security_factories import row_ids

from models import AuditRecord, User, db
from models.base import utcnow
from workflows import dashboard, reports
from workflows.dates import centre_today
from workflows.reports import Params, regional_statistics

FROM, TO = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
TODAY = centre_today()  # the date the panel counts from
PERIOD = f"{FROM.isoformat()} to {TO.isoformat()}"
MSK = dt.timezone(dt.timedelta(hours=3))


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def world(app):
    """Districts А and Б; families, children, cases, visits, reviews, activities, loans,
    reservations, agreements and tasks, each chosen to test one edge of one figure."""
    with app.app_context():
        a, b = f.district(name="Участок А"), f.district(name="Участок Б")
        osso, ososd = f.department(code="ОССО"), f.department(code="ОСОСД")
        worker = make_user(
            "district_worker", "worker_a", districts=[a], last_name="Уварова", department_id=osso.id
        ).staff
        psych = make_user(
            "psychologist", "psych", last_name="Пестова", department_id=ososd.id
        ).staff
        other = f.staff(last_name="Баранова", districts=[b], department_id=osso.id)
        for role in ("admin", "coordinator", "viewer", "rental_clerk"):
            make_user(role, last_name=f"Роль{role}")

        a1 = f.family(a, surname="Алексеевы", is_low_income=True, status="supported")
        a1_mother = f.person(a1, "mother")
        c1 = f.person(a1, "child", last_name="Алексеев", birth_date=dt.date(2015, 4, 1))
        f.person(
            a1,
            "child",
            birth_date=dt.date(2012, 5, 1),
            disability_status="ovz",
            disability_group=None,
        )
        f.person(
            a1,
            "child",
            birth_date=dt.date(2005, 1, 1),
            disability_status="none",
            disability_group=None,
        )
        a2 = f.family(a, surname="Антоновы", is_dangerous=True)
        a2_mother = f.person(a2, "mother")
        c3 = f.person(
            a2,
            "child",
            birth_date=dt.date(2019, 1, 1),
            disability_status="none",
            disability_group=None,
        )
        a3 = f.family(a, surname="Архиповы", archived_at=utcnow())
        f.person(a3, "child", archived_at=utcnow())
        a4 = f.family(a, surname="Ахматовы")
        a4_mother = f.person(a4, "mother")

        b1 = f.family(b, surname="Борисовы", is_low_income=True, is_dangerous=True)
        b1_mother = f.person(b1, "mother")
        c4 = f.person(b1, "child", birth_date=dt.date(2010, 2, 2))
        c5 = f.person(
            b1,
            "child",
            birth_date=dt.date(2008, 6, 1),
            disability_status="none",
            disability_group=None,
        )
        f.person(b1, "child", birth_date=dt.date(2011, 1, 1), archived_at=utcnow())
        b2 = f.family(b, surname="Белые", status="supported")
        b2_mother = f.person(b2, "mother")
        f.person(b2, "child", birth_date=dt.date(2026, 1, 5))  # born after the report date

        case1 = f.case(a1, a1_mother, lead_worker=worker)  # active, applied 20.01.2025
        case2 = f.case(
            a2,
            a2_mother,
            application_date=dt.date(2025, 3, 1),
            start_date=dt.date(2025, 3, 10),
            planned_end_date=dt.date(2025, 9, 10),
            status="closed",
            closure_reason="refused",
            closed_on=dt.date(2025, 6, 30),
            lead_worker=worker,
        )
        case3 = f.case(
            b1,
            b1_mother,
            application_date=dt.date(2024, 11, 1),
            decision_date=None,
            contract_date=dt.date(2024, 11, 19),
            start_date=dt.date(2024, 11, 20),
            planned_end_date=dt.date(2025, 5, 20),
            status="closed",
            closure_reason="goal_achieved",
            closed_on=dt.date(2025, 5, 5),
            lead_worker=other,
        )
        f.case(
            b2,
            b2_mother,
            application_date=dt.date(2025, 11, 15),
            decision_date=None,
            contract_number=None,
            contract_date=None,
            start_date=None,
            planned_end_date=None,
            status="application",
        )
        f.case(  # active, ends within 30 days of today
            a4,
            a4_mother,
            application_date=days(-180),
            decision_date=None,
            contract_date=days(-171),
            start_date=days(-170),
            planned_end_date=days(10),
            lead_worker=worker,
        )

        f.visit(case1, worker, visited_on=dt.date(2025, 2, 5))
        f.visit(case2, worker, visited_on=dt.date(2025, 3, 15))
        f.visit(case3, other, visited_on=dt.date(2024, 12, 1))
        f.review(case1, held_on=dt.date(2025, 4, 2), reviewer=worker)
        f.review(case2, due_on=dt.date(2025, 5, 1))

        plan1, plan2 = f.support_plan(case1), f.support_plan(case2)
        psy = f.service(kind="psychological", name="Консультация психолога")
        legal = f.service(kind="legal", name="Консультация юриста")
        f.plan_activity(
            plan1, service=psy, specialist=psych, planned_date=dt.date(2025, 3, 1), status="done"
        )
        f.plan_activity(
            plan1, service=legal, responsible_role="lawyer", planned_date=dt.date(2025, 4, 1)
        )
        f.plan_activity(plan2, service=psy, specialist=worker, planned_date=dt.date(2024, 12, 20))

        chair = f.equipment_type(name="Коляска детская")
        walker = f.equipment_type(name="Ходунки")
        unit1 = f.equipment_unit(chair)
        unit2 = f.equipment_unit(chair, status="on_loan")
        f.equipment_unit(chair, status="written_off")
        unit3 = f.equipment_unit(walker, status="on_loan")
        f.loan(unit1, a1, c1, returned_on=dt.date(2025, 4, 20), condition_on_return="good")
        f.loan(unit2, b1, c4, issued_on=dt.date(2025, 6, 1), due_on=dt.date(2025, 9, 1))
        f.loan(unit3, a2, c3, issued_on=dt.date(2024, 12, 1), due_on=days(10))
        f.reservation(a2, c3, walker, requested_on=days(-10))
        f.reservation(b1, c5, chair, requested_on=days(-4))
        f.reservation(a1, c1, walker, requested_on=days(-40), status="cancelled")

        school = f.partner(kind="school", name="Школа № 1")
        clinic = f.partner(kind="clinic", name="Детская поликлиника")
        f.partner_agreement(school, valid_from=FROM, valid_to=dt.date(2026, 1, 15))
        f.partner_agreement(school, valid_from=FROM, valid_to=None)
        f.partner_agreement(clinic, valid_from=FROM, valid_to=dt.date(2025, 6, 30))
        f.partner_agreement(clinic, valid_from=FROM, status="terminated")
        f.partner_agreement(school, valid_from=FROM, archived_at=utcnow())
        f.partner_agreement(school, valid_from=days(-5), signed_on=days(-5), valid_to=days(20))

        closed = {"status": "done", "closed_at": dt.datetime(2025, 5, 10, 9, 0, tzinfo=dt.UTC)}
        f.task(a1, case1, assignee=worker, status="assigned", due_date=dt.date(2025, 3, 1))
        f.task(a2, case2, assignee=worker, status="in_progress", due_date=days(3))
        f.task(a1, case1, assignee=worker, due_date=dt.date(2025, 5, 1), **closed)
        f.task(b1, case3, assignee=psych, status="assigned", due_date=days(30))
        f.task(a2, case2, due_date=days(-1))  # not assigned yet, overdue
        # Closed 21:30 UTC on 31.12.2024 = 00:30 on 01.01.2025 in Moscow: inside the period.
        f.task(
            b1,
            case3,
            assignee=psych,
            due_date=dt.date(2024, 12, 31),
            status="done",
            closed_at=dt.datetime(2024, 12, 31, 21, 30, tzinfo=dt.UTC),
        )
        db.session.commit()
        return {"a": a.id, "b": b.id, "osso": osso.id, "ososd": ososd.id}


def user(username: str) -> User:
    return db.session.query(User).filter_by(username=username).one()


def listed(client, endpoint: str, **filters) -> int:
    """The number of rows the list `endpoint` shows with these filters (one page)."""
    args = {f"flt{i}_{name}": value for i, (name, value) in enumerate(filters.items())}
    page = client.get(f"/{endpoint}/?{urlencode(args)}")
    assert page.status_code == 200
    ids = row_ids(page.get_data(as_text=True), endpoint)
    assert len(ids) < 25, "the check needs the rows on one page"
    return len(ids)


def table(report, title_start: str) -> dict:
    found = next(t for t in report.tables if t.title.startswith(title_start))
    rows = {row[0]: row[1:] for row in found.rows}
    return rows | ({"__total__": found.total[1:]} if found.total else {})


# --- 2. regional statistics ----------------------------------------------------------------


def test_regional_statistics_exact(app, world):
    """On 31.12.2025: district А has 2 families with children, 3 children, 2 of them in a
    low-income family, 1 disabled, 1 in a dangerous family; district Б 1, 2, 2, 1, 2.
    Archived families and persons, adults and the unborn do not count."""
    with app.app_context():
        stats = regional_statistics(db.session, user("coordinator"), TO)
    rows = {r["district"]: r for r in stats["rows"]}
    keys = reports.REGIONAL_KEYS
    assert [rows["Участок А"][k] for k in keys] == [2, 3, 2, 1, 1]
    assert [rows["Участок Б"][k] for k in keys] == [1, 2, 2, 1, 2]
    assert [stats["total"][k] for k in keys] == [3, 5, 4, 2, 3]


def test_regional_statistics_scoped_to_the_district_worker(app, world):
    """Does the district worker of А get district А only, in the rows and the total?"""
    with app.app_context():
        stats = regional_statistics(db.session, user("worker_a"), TO)
        one = regional_statistics(db.session, user("coordinator"), TO, district_id=world["b"])
    assert [r["district"] for r in stats["rows"]] == ["Участок А"]
    assert stats["total"]["children"] == 3
    assert [r["district"] for r in one["rows"]] == ["Участок Б"] and one["total"]["children"] == 2


def test_regional_figures_equal_the_person_list(app, world):
    """Do the regional children figures equal the person list with the same filters?"""
    client = signed_in(app, "coordinator")
    child = {
        "relation_equals": "child",
        "birth_date_greater_than": "2007-12-31",
        "birth_date_smaller_than": "2026-01-01",
    }
    for district, expected in (("Участок А", [3, 2, 1, 1]), ("Участок Б", [2, 2, 1, 2])):
        base = {**child, "district_name_equals": district}
        counts = [
            listed(client, "person", **base),
            listed(client, "person", **base, family_is_low_income_equals="1"),
            listed(client, "person", **base, disability_status_equals="disabled"),
            listed(client, "person", **base, family_is_dangerous_equals="1"),
        ]
        assert counts == expected, district


# --- 1. pilot project -----------------------------------------------------------------------


def pilot(app, username="coordinator", **kw):
    with app.app_context():
        return reports.pilot_report(db.session, user(username), Params(FROM, TO, **kw))


def test_pilot_report_exact(app, world):
    """Are the pilot project's figures for 2025 exactly the hand-counted ones?"""
    report = pilot(app)
    main = table(report, "Основные")
    assert [v[0] for v in main.values()] == [2, 2, 3, 2, 2, 1, 2, 1, 2, 1]
    closures = table(report, "Закрытые")
    assert closures["отказ семьи"] == [1] and closures["цель достигнута"] == [1]
    assert closures["переезд"] == [0] and closures["__total__"] == [2]
    kinds = table(report, "Мероприятия ИПСС за период по видам")
    assert kinds["социально-психологическая"] == [1, 1]
    assert kinds["социально-правовая"] == [1, 0] and kinds["__total__"] == [2, 1]
    specialists = table(report, "Мероприятия ИПСС за период по специалистам")
    assert specialists == {
        "Пестова Мария Петровна": [1, 1],
        "не назначен": [1, 0],
        "__total__": [2, 1],
    }


def test_pilot_report_equals_the_lists(app, world):
    """Does each pilot figure a list can express equal that list's count?"""
    client = signed_in(app, "coordinator")
    main = table(pilot(app), "Основные")
    value = {re.sub(r" \(.*| на \d\d\.\d\d\.\d{4}", "", k): v[0] for k, v in main.items()}
    assert value["Семей на сопровождении"] == listed(client, "family", status_equals="supported")
    assert value["Случаев на сопровождении"] == listed(client, "case", status_equals="active")
    assert value["Новых заявлений за период"] == listed(
        client, "case", application_date_between=PERIOD
    )
    assert value["Закрыто случаев за период"] == listed(client, "case", closed_on_between=PERIOD)
    child = {
        "relation_equals": "child",
        "birth_date_greater_than": "2007-12-31",
        "birth_date_smaller_than": "2026-01-01",
    }
    assert value["Детей-инвалидов"] == listed(
        client, "person", **child, disability_status_equals="disabled"
    )
    assert value["Детей с ОВЗ"] == listed(client, "person", **child, disability_status_equals="ovz")
    assert value["Визитов за период"] == listed(client, "visit", visited_on_between=PERIOD)
    assert value["Проведено мониторингов за период"] == listed(
        client, "review", held_on_between=PERIOD
    )
    assert value["Выдано ТСР за период"] == listed(client, "loan", issued_on_between=PERIOD)
    assert value["Возвращено ТСР за период"] == listed(client, "loan", returned_on_between=PERIOD)
    closures = table(pilot(app), "Закрытые")
    assert closures["отказ семьи"][0] == listed(
        client, "case", closed_on_between=PERIOD, closure_reason_equals="refused"
    )
    kinds = table(pilot(app), "Мероприятия ИПСС за период по видам")
    assert kinds["социально-психологическая"] == [
        listed(
            client,
            "plan_activity",
            planned_date_between=PERIOD,
            service_kind_equals="psychological",
        ),
        listed(
            client,
            "plan_activity",
            planned_date_between=PERIOD,
            service_kind_equals="psychological",
            status_equals="done",
        ),
    ]


def test_pilot_report_by_district_and_department(app, world):
    """District Б: no new applications but one (Белые) in November, one closure; department
    ОСОСД: only the psychologist's activity, no visits (the visits are ОССО's)."""
    main = table(pilot(app, district_id=world["b"]), "Основные")
    values = [v[0] for v in main.values()]
    assert values == [1, 0, 1, 1, 1, 0, 0, 0, 1, 0]
    by_department = pilot(app, department_id=world["ososd"])
    assert table(by_department, "Мероприятия ИПСС за период по специалистам") == {
        "Пестова Мария Петровна": [1, 1],
        "__total__": [1, 1],
    }
    assert table(by_department, "Основные")["Визитов за период"] == [0]


# --- 3. agreements --------------------------------------------------------------------------


def test_agreements_report_exact_and_equal_to_the_list(app, world):
    """On 31.12.2025: schools 2 active (1 expiring in 30 days); clinics 1 expired and 1
    terminated; the archived agreement and the one not yet in force do not count."""
    with app.app_context():
        report = reports.agreements_report(db.session, user("coordinator"), Params(TO, TO))
    kinds = table(report, "На 31.12.2025")
    assert kinds["образовательная организация"] == [2, 1, 0, 0]
    assert kinds["медицинская организация"] == [0, 0, 1, 1]
    assert kinds["__total__"] == [2, 1, 1, 1]
    assert list(table(report, "Истекают")) == ["Школа № 1"]
    client = signed_in(app, "coordinator")
    assert (
        listed(
            client,
            "partner_agreement",
            status_equals="active",
            valid_to_between="2025-12-31 to 2026-01-30",
            partner_kind_equals="school",
        )
        == 1
    )
    assert (
        listed(
            client, "partner_agreement", status_equals="active", valid_to_smaller_than="2025-12-31"
        )
        == 1
    )
    assert listed(client, "partner_agreement", status_equals="terminated") == 1


# --- 4. rental point ------------------------------------------------------------------------


def test_rental_report_exact_and_equal_to_the_lists(app, world):
    """Chairs: 2 in service (one written off), 1 out (50 %), 2 issued and 1 returned in
    2025, 1 overdue, 1 waiting 4 days; walkers: 1, 1 (100 %), none issued in 2025, 1 waiting
    10 days; the cancelled reservation does not count."""
    with app.app_context():
        report = reports.rental_report(db.session, user("coordinator"), Params(FROM, TO), TODAY)
    rows = table(report, "По видам")
    assert rows["Коляска детская"] == [2, 1, 50.0, 2, 1, 1, 1, 4.0]
    assert rows["Ходунки"] == [1, 1, 100.0, 0, 0, 0, 1, 10.0]
    assert rows["__total__"] == [3, 2, 66.7, 2, 1, 1, 2, 7.0]
    client = signed_in(app, "coordinator")
    chair = {"equipment_type_name_equals": "Коляска детская"}
    assert listed(client, "loan", issued_on_between=PERIOD, **chair) == 2
    assert listed(client, "loan", returned_on_between=PERIOD, **chair) == 1
    overdue = {"returned_on_empty": "1", "due_on_smaller_than": TODAY.isoformat()}
    assert listed(client, "loan", **overdue, **chair) == 1
    assert listed(client, "reservation", status_equals="waiting", **chair) == 1


def test_rental_report_for_a_district(app, world):
    """In district А only the walker loan is out and only the walker queue counts."""
    with app.app_context():
        report = reports.rental_report(
            db.session, user("coordinator"), Params(FROM, TO, district_id=world["a"]), TODAY
        )
    rows = table(report, "По видам")
    assert rows["Коляска детская"] == [2, 0, 0.0, 1, 1, 0, 0, 0.0]
    assert rows["Ходунки"] == [1, 1, 100.0, 0, 0, 0, 1, 10.0]


# --- 5. workload ----------------------------------------------------------------------------


def test_workload_report_exact_and_equal_to_the_task_list(app, world):
    """Уварова: 2 open, 1 overdue, 1 due within 7 days, 1 done in 2025; Пестова: 1 open,
    1 done (closed at 00:30 Moscow time on 01.01.2025); one overdue task not yet assigned."""
    with app.app_context():
        report = reports.workload_report(db.session, user("coordinator"), Params(FROM, TO), TODAY)
    rows = table(report, "По специалистам")
    assert rows["Уварова Мария Петровна"] == ["участковый социальный работник", 2, 1, 1, 1]
    assert rows["Пестова Мария Петровна"] == ["психолог", 1, 0, 0, 1]
    assert rows["Не назначены"] == ["—", 1, 1, 0, 0]
    assert rows["__total__"] == ["", 4, 2, 1, 2]
    client = signed_in(app, "coordinator")
    open_ = {"status_in_list": "new,assigned,in_progress"}
    assert listed(client, "task", staff_last_name_equals="Уварова", **open_) == 2
    assert (
        listed(
            client,
            "task",
            staff_last_name_equals="Уварова",
            **open_,
            due_date_smaller_than=TODAY.isoformat(),
        )
        == 1
    )


def test_workload_scoped_and_by_department(app, world):
    """The district worker sees her own and her district's tasks only; the ОСОСД
    department shows the psychologist alone."""
    with app.app_context():
        mine = reports.workload_report(db.session, user("worker_a"), Params(FROM, TO), TODAY)
        dep = reports.workload_report(
            db.session, user("coordinator"), Params(FROM, TO, department_id=world["ososd"]), TODAY
        )
    assert set(table(mine, "По специалистам")) == {
        "Уварова Мария Петровна",
        "Не назначены",
        "__total__",
    }
    assert set(table(dep, "По специалистам")) == {"Пестова Мария Петровна", "__total__"}


# --- pages and downloads ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "slugs"),
    [
        ("coordinator", ["pilot", "regional", "agreements", "rental", "workload"]),
        ("viewer", ["pilot", "regional", "agreements", "rental", "workload"]),
        ("worker_a", ["pilot", "regional", "workload"]),
        ("rental_clerk", ["rental"]),
        ("psych", []),
    ],
)
def test_who_opens_which_report(app, world, username, slugs):
    """Does each role open exactly the reports the matrix grants, and get 403 on the rest?"""
    client = signed_in(app, username)
    for slug in reports.REPORTS:
        page = client.get(f"/reports/{slug}/?date_from=2025-01-01&date_to=2025-12-31")
        assert page.status_code == (200 if slug in slugs else 403), slug
    assert client.get("/reports/").status_code == (200 if slugs else 403)
    assert client.get("/reports/nonsense/").status_code == (404 if slugs else 403)


def test_report_page_shows_the_figures(app, world):
    """Does the regional page show the table with the district rows and the total?"""
    client = signed_in(app, "viewer")
    body = client.get("/reports/regional/?date_to=2025-12-31").get_data(as_text=True)
    assert "Участок А" in body and "Несовершеннолетних в СОП" in body
    assert "Скачать таблицу" in body
    assert '<td class="text-right">5</td>' in body  # the total of children


def test_bad_parameters_get_a_russian_message(app, world):
    """A period that ends before it starts, or another district's id, is refused next to
    the field, without a report and without a 500."""
    client = signed_in(app, "worker_a")
    body = client.get("/reports/pilot/?date_from=2025-12-31&date_to=2025-01-01").get_data(
        as_text=True
    )
    assert "Конец периода не может быть раньше начала." in body
    assert "Основные показатели" not in body
    body = client.get(f"/reports/regional/?date_to=2025-12-31&district={world['b']}").get_data(
        as_text=True
    )
    assert "Выберите участок из списка." in body and "Участок Б" not in body
    body = client.get("/reports/pilot/?date_from=вчера&date_to=2025-01-01").get_data(as_text=True)
    assert "is-invalid" in body


def test_report_download(app, world):
    """Does the .xlsx hold one sheet per table with the same numbers, typed, and is the
    download audited?"""
    client = signed_in(app, "coordinator")
    response = client.get(f"/reports/regional/xlsx?date_to=2025-12-31&district={world['a']}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in disposition
    # Named by the day the figures are for, not the day of the download.
    assert unquote(disposition.split("''")[1]) == "Статистика по участкам на 31.12.2025.xlsx"
    assert 'filename="report-regional-2025-12-31.xlsx"' in disposition
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    # The day once, not «На 31.12.2025 (на 31.12.2025, Участок А)».
    assert sheet["A1"].value == "Статистика по участкам: На 31.12.2025 (Участок А)"
    assert [c.value for c in sheet[4]] == ["Участок А", 2, 3, 2, 1, 1]
    assert [c.value for c in sheet[5]] == ["Итого", 2, 3, 2, 1, 1]
    pilot_book = load_workbook(
        io.BytesIO(
            client.get("/reports/pilot/xlsx?date_from=2025-01-01&date_to=2025-12-31").get_data()
        )
    )
    assert len(pilot_book.sheetnames) == len(pilot(app).tables)
    with app.app_context():
        events = db.session.query(AuditRecord).filter_by(action="export").all()
        assert {e.table_name for e in events} == {"report:regional", "report:pilot"}
    assert signed_in(app, "worker_a").get("/reports/rental/xlsx").status_code == 403


# --- the dashboard ---------------------------------------------------------------------------


def figures_of(body: str) -> dict[str, str]:
    cards = re.findall(
        r'opora-figure-value">(\d+)</div>\s*<div class="small">\s*(?:<a href="([^"]*)">)?([^<]+)',
        body,
    )
    return {label.strip(): (int(value), url.replace("&amp;", "&")) for value, url, label in cards}


def test_dashboard_of_the_coordinator(app, world):
    """Does the coordinator's home page show the figures, each equal to the list it links to,
    the two charts, and still the list of sections?"""
    client = signed_in(app, "coordinator")
    body = client.get("/").get_data(as_text=True)
    shown = figures_of(body)
    assert shown["Случаи: срок сопровождения истекает в 30 дней"][0] == 1
    assert shown["Случаи: плановое окончание уже прошло"][0] == 1
    assert shown["Очередь на ТСР"][0] == 2
    assert shown["Просроченные выдачи ТСР"][0] == 1
    assert shown["Соглашения с партнёрами истекают в 30 дней"][0] == 1
    for label, (value, url) in shown.items():
        if url:
            endpoint = url.strip("/").split("/")[0]
            ids = row_ids(client.get(url).get_data(as_text=True), endpoint)
            assert len(ids) == value, label
    assert body.count('<svg class="opora-chart"') == 2
    assert "<script" not in body.split("opora-home")[1].split("</svg>")[0]
    assert "Семьи" in body and "Отчёты" in body  # the sections are still listed


def test_dashboard_of_the_district_worker(app, world):
    """Her overdue task counts, the case near its end in her district counts, the chair
    overdue in district Б does not; she gets no rental queue."""
    client = signed_in(app, "worker_a")
    shown = figures_of(client.get("/").get_data(as_text=True))
    assert shown["Мои просроченные задачи"][0] == 1
    assert shown["Случаи: срок сопровождения истекает в 30 дней"][0] == 1
    assert shown["Просроченные выдачи ТСР"][0] == 0
    assert "Очередь на ТСР" in shown  # she may list the queue (read only)


def test_dashboard_of_the_clerk_and_the_viewer(app, world):
    """The clerk sees the rental figures and no case figure; the viewer sees the
    aggregates without links to personal data."""
    clerk = figures_of(signed_in(app, "rental_clerk").get("/").get_data(as_text=True))
    assert set(clerk) == {"Очередь на ТСР", "Просроченные выдачи ТСР"}
    viewer = figures_of(signed_in(app, "viewer").get("/").get_data(as_text=True))
    assert viewer["Просроченные выдачи ТСР"] == (1, "")
    assert all(url == "" for _value, url in viewer.values())


def test_cases_by_month(app, world):
    """December 2025 ends with one case in support (case 1 — case 2 and 3 closed), one
    application (Белые), and none closed that month; June 2025 closed one."""
    with app.app_context():
        points = dashboard.cases_by_month(db.session, user("coordinator"), TODAY, months=36)
    by_month = {(p["month"].year, p["month"].month): p for p in points}
    if (2025, 12) in by_month:
        assert by_month[(2025, 12)] | {"month": None} == {
            "month": None,
            "application": 1,
            "active": 1,
            "closed": 0,
        }
    if (2025, 6) in by_month:
        assert by_month[(2025, 6)]["closed"] == 1
