"""Large lists: a bounded count, «Далее» by key instead of OFFSET, filters that name one filter."""

from __future__ import annotations

import datetime as dt
import html
import re

import factories as f
import pytest
from sqlalchemy import event, text

from admin_views import paging
from models import db

SURNAMES = ["Агеевы", "Белые", "Волковы", "Громовы", "Дроздовы", "Ершовы", "Жуковы", "Зайцевы"]


@pytest.fixture
def family_view(app):
    view = next(
        v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "family"
    )
    view.page_size = 3
    yield view
    view.page_size = 25


@pytest.fixture
def families(app):
    with app.app_context():
        first, second = f.district(), f.district()
        for index, surname in enumerate(SURNAMES):
            f.family(first if index % 2 else second, surname=surname)
        db.session.commit()
        return first.name, second.name


def shown_surnames(page: str) -> list[str]:
    return [s for s in SURNAMES if s in page]


def next_link(page: str) -> str | None:
    match = re.search(r'href="([^"]*after=[^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def test_small_list_counts_and_numbers_its_pages(client, login_as, app, families, family_view):
    """With fewer rows than the cap, does the list show the count and numbered pages?"""
    login_as("coordinator")
    page = client.get("/family/").get_data(as_text=True)
    assert "(8)" in page
    assert next_link(page) is None


def test_large_list_pages_by_key(client, login_as, app, families, family_view, monkeypatch):
    """Beyond the cap, does «Далее» carry the last row's key and show exactly the next rows?"""
    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    login_as("coordinator")
    first = client.get("/family/").get_data(as_text=True)
    assert shown_surnames(first) == SURNAMES[:3]
    assert "(8)" not in first
    link = next_link(first)
    assert link is not None and "page=1" in link
    second = client.get(link).get_data(as_text=True)
    assert shown_surnames(second) == SURNAMES[3:6]
    # The same page by number (OFFSET) agrees with the page by key.
    assert shown_surnames(client.get("/family/?page=1").get_data(as_text=True)) == SURNAMES[3:6]
    third = client.get(next_link(second)).get_data(as_text=True)
    assert shown_surnames(third) == SURNAMES[6:]
    # The export of a later page is the export of the whole list, not of that page.
    export = re.search(r'href="([^"]*/export/xlsx/[^"]*)"', second).group(1)
    assert "after=" not in export and "page=" not in export


def test_a_cursor_for_another_sort_is_ignored(client, login_as, app, families, family_view):
    """Does a cursor made for another sort fall back to the page number instead of misleading?"""
    login_as("coordinator")
    with app.app_context():
        from models import Family

        cursor = paging.encode_cursor(
            "person::0", [Family.__table__.c.surname], f.Family(surname="Я")
        )
    page = client.get(f"/family/?page=1&after={cursor}").get_data(as_text=True)
    assert shown_surnames(page) == SURNAMES[3:6]


def test_filter_by_district_filters_by_that_district(client, login_as, app, families, family_view):
    """Does the «Участок равно» filter in the URL select that district (and no other filter)?"""
    login_as("coordinator")
    family_view.page_size = 25
    with app.test_request_context():
        index, flt = next(
            (i, flt)
            for i, flt in enumerate(family_view._filters)
            if str(flt.name) == "Участок" and str(flt.operation()) == "равно"
        )
        arg = family_view.get_filter_arg(index, flt)
    first_district, _second = families
    page = client.get("/family/", query_string={f"flt0_{arg}": first_district})
    assert shown_surnames(page.get_data(as_text=True)) == SURNAMES[1::2]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [("содержит", SURNAMES[1::2]), ("не содержит", SURNAMES[0::2])],
)
def test_contains_filter_on_a_district_matches_in_the_district_table(
    client, login_as, app, families, family_view, operation, expected
):
    """Does «Участок содержит» (a LIKE on the district's name, any letter case) filter the
    families, matched once over the district table (`IN (SELECT … FROM district …)`)
    rather than by lower() on every joined family row?"""
    login_as("coordinator")
    family_view.page_size = 25
    with app.test_request_context():
        index, flt = next(
            (i, flt)
            for i, flt in enumerate(family_view._filters)
            if str(flt.name) == "Участок" and str(flt.operation()) == operation
        )
        arg = family_view.get_filter_arg(index, flt)
        first_district, _second = families
        fragment = first_district.split()[-1]  # «Участок № 7» → «7»: upper and lower alike
        where = str(flt.apply(db.session.query(f.Family), fragment).statement)
    assert re.search(r"IN \(SELECT district\.name\s+FROM district\s+WHERE lower", where)
    page = client.get("/family/", query_string={f"flt0_{arg}": "участок № " + fragment})
    assert shown_surnames(page.get_data(as_text=True)) == expected


@pytest.mark.parametrize("fence_cap", [0, 100])
def test_search_beyond_the_cap_sorts_its_matches(
    client, login_as, app, families, family_view, monkeypatch, fence_cap
):
    """With more matches than the count cap, fenced or not, does a search show the
    first matches in order and page on by key?"""
    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    monkeypatch.setattr(paging, "FENCE_CAP", fence_cap)
    login_as("coordinator")
    # Every family lives on ул. Ломоносова (a surname is searched from its beginning now,
    # so the letter «ы» no longer matches every surname; the address still matches anywhere).
    first = client.get("/family/", query_string={"search": "ломоносова"}).get_data(as_text=True)
    assert shown_surnames(first) == SURNAMES[:3]
    second = client.get(next_link(first)).get_data(as_text=True)
    assert shown_surnames(second) == SURNAMES[3:6]


def test_page_one_of_a_search_joins_only_its_own_rows(client, login_as, app, families, family_view):
    """Does page 1 of a search find its ids in order first, from the matches and their
    sort keys alone, and join only those rows to their relations (not every match,
    sorted and cut afterwards)?"""
    login_as("coordinator")
    statements: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = client.get("/family/", query_string={"search": "ломоносова"})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert shown_surnames(page.get_data(as_text=True)) == SURNAMES[:3]
    rows = [sql for sql, _params in statements if "family_surname" in sql]
    assert len(rows) == 1
    sql = rows[0]
    assert "ORDER BY" not in sql and "LIMIT" not in sql, sql
    # The page's ids: the matches' ids with their surnames (no relation joined), sorted
    # among themselves and cut to the page.
    ids = [sql for sql, _params in statements if sql.startswith("SELECT anon_1.id \nFROM")]
    assert ids, statements
    assert "SELECT family.surname AS surname, family.id AS id" in ids[-1]
    assert "JOIN" not in ids[-1] and "ORDER BY anon_1.surname, anon_1.id" in ids[-1]
    assert "LIMIT" in ids[-1]


@pytest.mark.parametrize("fence", [False, True], ids=["many-rows", "few-rows"])
@pytest.mark.parametrize("desc", [False, True], ids=["asc", "desc"])
def test_numbered_pages_skip_bare_ids_and_show_the_sorted_rows(
    client, login_as, app, families, family_view, monkeypatch, desc, fence
):
    """Do numbered pages (?page=N) show the same rows in the same order as one sorted
    list cut in threes — by the surname and by the district (a joined sort) — with the
    OFFSET over the bare ids of a subquery, not over the joined query?"""
    if not fence:
        monkeypatch.setattr(paging, "COUNT_CAP", 5)
        monkeypatch.setattr(paging, "FENCE_CAP", 0)
    login_as("coordinator")
    with app.app_context():
        rows = db.session.query(f.Family.surname, f.District.name, f.Family.id).join(
            f.Family.district
        )
        by_district = [s for s, _d, _id in sorted(rows, key=lambda r: r[1:], reverse=desc)]
    by_surname = list(reversed(SURNAMES)) if desc else SURNAMES
    statements: list[str] = []

    deep = [False]  # record the statements of pages past the first only

    def record(conn, cursor, statement, *args):
        if deep[0]:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for sort, expected in (("0", by_surname), ("2", by_district)):
            shown = []
            for number in range(3):
                query = {"sort": sort, "page": number, **({"desc": "1"} if desc else {})}
                deep[0] = number > 0
                page = client.get("/family/", query_string=query).get_data(as_text=True)
                shown += [s for _i, s in sorted((page.index(s), s) for s in SURNAMES if s in page)]
            assert shown == expected, sort
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # The OFFSET skips bare ids (the page's ids are read first: of the sorted query, or,
    # of few rows sorted by their own columns, of the matches with their sort keys); the
    # page's rows, with their relations, are read by those ids, with no OFFSET.
    offsets = [
        sql
        for sql in statements
        if "OFFSET" in sql and re.search(r"ORDER BY (family\.|anon_1\.surname)", sql)
    ]
    assert offsets
    for sql in offsets:
        assert sql.startswith(("SELECT family.id AS family_id \nFROM", "SELECT anon_1.id \nFROM"))
    rows = [sql for sql in statements if "family_surname" in sql]
    assert rows and not any("OFFSET" in sql for sql in rows)


def sqlite_plan_of_list(app, client, engine, table: str) -> str:
    """SQLite's plan (EXPLAIN QUERY PLAN, its lines joined) of the query that reads the
    rows of the list of `table` (/`table`/), as the signed-in `client` opens it."""
    statements: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, *args):
        if statement.startswith(f"SELECT {table}.id AS {table}_id"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(f"/{table}/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statement, parameters = statements[-1]
    with app.app_context():
        explained = db.session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters
        )
        return " | ".join(row[-1] for row in explained)


def test_live_person_list_walks_its_sort_index_on_sqlite(client, login_as, app, monkeypatch):
    """Is the person list (live rows, by surname and name) read along ix_person_name_id
    on SQLite, with no sort of every row? The archived_at index holds archived rows only
    (0024_perf): a full one drew the planner to read all live rows through it and sort."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's planner")
        for index in range(12):
            family = f.family(surname=f"Семья{index}")
            person = f.person(family, last_name=f"Фамилия{index}")
            if index % 4 == 0:
                person.archived_at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        indexes = dict(
            db.session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE name LIKE 'ix_%_archived_at'")
            ).all()
        )
        sorts = dict(
            db.session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE name = 'ix_person_name_id'")
            ).all()
        )
        engine = db.engine
    assert len(indexes) > 20
    assert all("WHERE archived_at IS NOT NULL" in sql for sql in indexes.values()), indexes
    assert "WHERE archived_at IS NULL" in sorts["ix_person_name_id"]  # the live rows only
    monkeypatch.setattr(paging, "COUNT_CAP", 5)  # more rows than the count: the list's path
    login_as("coordinator")
    plan = sqlite_plan_of_list(app, client, engine, "person")
    assert "ix_person_name_id" in plan and "TEMP B-TREE" not in plan, plan


def test_referral_list_walks_its_sort_index_on_sqlite(client, login_as, app, monkeypatch):
    """Is the referrals' list (newest prepared first) read along ix_referral_prepared_id,
    with no sort of every live referral (0027_lists)?"""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's planner")
        family, mother, _child = f.family_with_members()
        case = f.case(family, mother)
        for day in range(12):
            f.referral(case, prepared_on=dt.date(2025, 1, 1) + dt.timedelta(days=day))
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        engine = db.engine
    monkeypatch.setattr(paging, "COUNT_CAP", 5)  # more rows than the count: the list's path
    login_as("coordinator")
    plan = sqlite_plan_of_list(app, client, engine, "referral")
    assert "ix_referral_prepared_id" in plan and "TEMP B-TREE" not in plan, plan
