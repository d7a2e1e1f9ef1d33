"""Does each role reach only its screens, and only the rows its row scope allows?

The permission matrix (admin_views/permissions.py) says which screens and
buttons a role has; the row scope (workflows/scope.py) says which families
and cases. Out-of-scope rows must behave as if they did not exist: 404 by id,
absent from lists, searches and relation pickers, and untouched by any POST.

What «denied» looks like, read from Flask-Admin 2.2.1 and admin_views/base.py:
- no "list" right: is_accessible() is False, so every URL of the view is 403;
- list but no create/edit/delete/details right: Flask-Admin redirects (302)
  back to the list and changes nothing;
- a row outside the scope: get_one() aborts with 404.
"""

from __future__ import annotations

import json
import re

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from security_factories import (
    ENDPOINTS,
    MODELS,
    SCOPED,
    admin_form,
    count,
    row_ids,
    snapshot,
    world,
)

from admin_views.permissions import FULL, MATRIX, allowed
from models import ROLE, Loan, Reservation, Staff, User, Visit, db
from models.base import ArchivedMixin
from models.constraints import (
    CONSTRAINT_MESSAGES,
    FOREIGN_KEY_MESSAGE,
    NOT_NULL_MESSAGE,
    OTHER_MESSAGE,
)
from models.guards import ARCHIVED, CLOSED
from models.roles import policy
from workflows.scope import visible_families, where_visible

ACTIONS = ("list", "details", "create", "edit", "delete")
# What a delete the matrix allows may still meet: the database refusing it, or the
# closed-case guard (the walk archives the case before it reaches the case's records).
REFUSALS = (
    CLOSED,
    ARCHIVED,
    *(refusal.message for refusal in CONSTRAINT_MESSAGES.values()),
    FOREIGN_KEY_MESSAGE,
    NOT_NULL_MESSAGE,
    OTHER_MESSAGE,
)
# Lists that outgrow one page during the walk: find the world's row by search.
LIST_QUERY = {"audit_record": "?search=мир-{stem}"}


# --- the permission matrix, walked --------------------------------------------------


class _Walk:
    """One role's walk over one view's actions; `problems` collects what did not match
    the matrix."""

    def __init__(self, app, client, token, role, endpoint, ids) -> None:
        self.app, self.client, self.token, self.role = app, client, token, role
        self.endpoint, self.model = endpoint, MODELS[endpoint]
        self.row_id, self.stem = ids[endpoint], ids["stem"]
        self.may = {action: allowed(role, endpoint, action) for action in ACTIONS}
        self.refused = 302 if self.may["list"] else 403  # a button the role lacks
        self.problems: list[str] = []

    def problem(self, what: str) -> None:
        self.problems.append(f"{self.role} {what}")

    def expect(self, what, response, status) -> str:
        body = response.get_data(as_text=True)
        where = f"{what} /{self.endpoint}/"
        if response.status_code != status:
            self.problem(f"{where}: {response.status_code}, expected {status}")
        elif status != 200 and self.stem in body:
            self.problem(f"{where}: the refusal shows the row's data")
        return body

    def list_and_details(self) -> None:
        endpoint, row_id = self.endpoint, self.row_id
        list_url = f"/{endpoint}/" + LIST_QUERY.get(endpoint, "").format(stem=self.stem)
        body = self.expect("list", self.client.get(list_url), 200 if self.may["list"] else 403)
        if self.may["list"] and row_id not in row_ids(body, endpoint):
            self.problem(f"list /{endpoint}/: the in-scope row is missing")
        details = self.client.get(f"/{endpoint}/details/?id={row_id}")
        self.expect("details", details, 200 if self.may["details"] else self.refused)

    def create(self, rows_before: int) -> None:
        endpoint, may = self.endpoint, self.may
        new = self.client.get(f"/{endpoint}/new/")
        body = self.expect("create", new, 200 if may["create"] else self.refused)
        if may["create"] and "admin-form" not in body:
            self.problem(f"create /{endpoint}/: no form")
        if not may["create"]:
            post = self.client.post(f"/{endpoint}/new/", data={"csrf_token": self.token})
            self.expect("create POST", post, self.refused)
            if count(self.app, self.model) != rows_before:
                self.problem(f"create POST /{endpoint}/: a row was created")

    def edit(self, before: dict) -> None:
        endpoint, may = self.endpoint, self.may
        edit_url = f"/{endpoint}/edit/?id={self.row_id}"
        body = self.expect("edit", self.client.get(edit_url), 200 if may["edit"] else self.refused)
        if may["edit"] and "admin-form" not in body:
            self.problem(f"edit /{endpoint}/: no form")
        if not may["edit"]:
            form = {"csrf_token": self.token, "seen_version": str(before.get("version", ""))}
            self.expect("edit POST", self.client.post(edit_url, data=form), self.refused)

    def delete(self) -> None:
        """With the right, «delete» archives the row (or says why not)."""
        endpoint, row_id = self.endpoint, self.row_id
        delete = {"id": row_id, "csrf_token": self.token}
        response = self.client.post(f"/{endpoint}/delete/", data=delete, follow_redirects=True)
        after = snapshot(self.app, self.model, row_id)
        gone = after is None or after.get("archived_at") is not None
        text = response.get_data(as_text=True)
        if not gone and not any(message in text for message in REFUSALS):
            self.problem(f"delete /{endpoint}/: allowed, yet nothing happened")

    def no_delete(self, before: dict) -> None:
        """Without the right, neither «delete» nor «archive» touches the row, nor does
        anything else the role may not do."""
        endpoint, row_id = self.endpoint, self.row_id
        delete = {"id": row_id, "csrf_token": self.token}
        self.expect(
            "delete POST", self.client.post(f"/{endpoint}/delete/", data=delete), self.refused
        )
        if issubclass(self.model, ArchivedMixin):
            archive = {"action": "archive", "rowid": row_id, "csrf_token": self.token}
            response = self.client.post(f"/{endpoint}/action/", data=archive)
            self.expect("archive action", response, self.refused)
        if snapshot(self.app, self.model, row_id) != before:
            self.problem(f"/{endpoint}/: the row changed without the right to change it")


def _walk(app, client, token, role, endpoint, ids) -> list[str]:
    """Try every action of one view as `role`; return what did not match the matrix."""
    walk = _Walk(app, client, token, role, endpoint, ids)
    before, rows_before = snapshot(app, walk.model, walk.row_id), count(app, walk.model)
    walk.list_and_details()
    walk.create(rows_before)
    walk.edit(before)
    if walk.may["delete"]:
        walk.delete()
    else:
        walk.no_delete(before)
    return walk.problems


@pytest.mark.parametrize("role", ROLE.codes)
def test_permission_matrix(app, role):
    """Does `role` get exactly the list, details, create, edit and delete rights
    permissions.allowed() grants on every view — 403 without the list right, a
    redirect for a missing button — with no data in refusals and nothing changed?"""
    username = f"matrix_{role}"
    with app.app_context():
        district = f.district()
        user = make_user(role, username, districts=[district])
        assignee = db.session.get(Staff, user.staff_id) if policy(role).specialist else None
        ids = world(district, "Матрицын", assignee=assignee)
        db.session.commit()
    client = signed_in(app, username)
    token = csrf_token(client)
    problems = []
    for endpoint in ENDPOINTS:
        problems += _walk(app, client, token, role, endpoint, ids)
    assert not problems, "\n".join(problems)


def test_no_inline_editing_anywhere(app, login_as, client):
    """Is inline editing (ajax/update, which Flask-Admin checks against
    column_editable_list rather than can_edit) closed on every view?"""
    with app.app_context():
        ids = world(f.district(), "Строчкин")
        db.session.commit()
    login_as("admin")
    token = csrf_token(client)
    for endpoint in ENDPOINTS:
        before = snapshot(app, MODELS[endpoint], ids[endpoint])
        data = {"list_form_pk": ids[endpoint], "notes": "<b>x</b>", "csrf_token": token}
        response = client.post(f"/{endpoint}/ajax/update/", data=data)
        # The ИПРА's tables are closed to the administrator altogether (health data).
        assert response.status_code == (404 if allowed("admin", endpoint, "list") else 403)
        assert snapshot(app, MODELS[endpoint], ids[endpoint]) == before, endpoint


# --- a district worker and another district's rows -------------------------------------


@pytest.fixture
def districts(app):
    """Worlds in districts A and B; a district worker «worker_a» of district A."""
    with app.app_context():
        a_district, b_district = f.district(name="Участок А"), f.district(name="Участок Б")
        own = world(a_district, "Алексеев")
        other = world(b_district, "Борисов")
        make_user("district_worker", "worker_a", districts=[a_district])
        db.session.commit()
    return own, other


def _other_rows_untouchable(app, client, other) -> list[str]:
    token = csrf_token(client)
    problems = []
    for endpoint in SCOPED:
        model, row_id = MODELS[endpoint], other[endpoint]
        before = snapshot(app, model, row_id)

        def refused(what, response, endpoint=endpoint, row_id=row_id, action=None):
            body = response.get_data(as_text=True)
            gate = allowed("district_worker", endpoint, action) if action else True
            expected = 404 if gate else 302
            if response.status_code != expected:
                problems.append(f"{what} /{endpoint}/ id={row_id}: {response.status_code}")
            if other["stem"] in body:
                problems.append(f"{what} /{endpoint}/ id={row_id}: the body shows the row's data")

        refused("details", client.get(f"/{endpoint}/details/?id={row_id}"))
        edit_url = f"/{endpoint}/edit/?id={row_id}"
        refused("edit", client.get(edit_url), action="edit")
        form = {"csrf_token": token, "seen_version": str(before.get("version", ""))}
        refused("edit POST", client.post(edit_url, data=form), action="edit")
        delete = {"id": row_id, "csrf_token": token}
        refused("delete POST", client.post(f"/{endpoint}/delete/", data=delete), action="delete")
        for name in ("archive", "restore"):
            action = {"action": name, "rowid": row_id, "csrf_token": token}
            response = client.post(f"/{endpoint}/action/", data=action)
            if response.status_code != 302:
                problems.append(f"{name} /{endpoint}/ id={row_id}: {response.status_code}")
        if snapshot(app, model, row_id) != before:
            problems.append(f"/{endpoint}/ id={row_id}: another district's row was changed")
    return problems


def test_other_district_rows_do_not_exist_by_url(app, districts):
    """Does a district worker of A who changes the id in a URL to a row of
    district B get 404 on details and edit (a redirect where the matrix already
    refuses the button), see none of the row's data, and change nothing by
    edit, delete, archive or restore POSTs?"""
    _own, other = districts
    client = signed_in(app, "worker_a")
    problems = _other_rows_untouchable(app, client, other)
    assert not problems, "\n".join(problems)


def test_row_scope_holds_even_where_the_matrix_grants_everything(app, districts, monkeypatch):
    """If the matrix gave a district worker every right on every scoped view,
    would the row scope alone still answer 404 for district B's rows on details,
    edit and delete, and would the archive action still change nothing?"""
    _own, other = districts
    for endpoint in SCOPED:
        monkeypatch.setitem(MATRIX["district_worker"], endpoint, FULL)
    client = signed_in(app, "worker_a")
    problems = _other_rows_untouchable(app, client, other)
    assert not problems, "\n".join(problems)


def test_lists_and_search_hide_other_district(app, districts):
    """Do the list of every scoped view and a search for the other family's
    surname show district A's rows and never district B's?"""
    own, other = districts
    client = signed_in(app, "worker_a")
    problems = []
    for endpoint in SCOPED:
        for query in ("", "?search=Борисов", f"?search={other['surname']}", "?archive=1"):
            response = client.get(f"/{endpoint}/{query}")
            # The search box and a form's way back (`next`) repeat the query: only rows count.
            body = re.sub(
                r'<input[^>]*name="(search|next)"[^>]*>', "", response.get_data(as_text=True)
            )
            assert response.status_code == 200, (endpoint, query)
            ids = row_ids(body, endpoint)
            if other[endpoint] in ids or "Борисов" in body:
                problems.append(f"/{endpoint}/{query} shows district B's row")
            if not query and own[endpoint] not in ids:
                problems.append(f"/{endpoint}/ lacks the worker's own row")
    family = client.get("/family/?search=Алексеев").get_data(as_text=True)
    assert own["family"] in row_ids(family, "family"), "the search finds nothing at all"
    assert not problems, "\n".join(problems)


# Views whose forms pick a family or a person with the typed (AJAX) picker.
FAMILY_PICKERS = (
    ("person", "family"),
    ("consent", "family"),
    ("programme_enrolment", "family"),
    ("case", "family"),
    ("task", "family"),
    ("appointment", "family"),
    ("loan", "family"),
    ("reservation", "family"),
    ("event_attendance", "family"),
)
PERSON_PICKERS = (("case", "applicant"), ("consent", "person"))


def test_ajax_pickers_offer_only_visible_rows(app, districts):
    """Does the typed relation picker (/<view>/ajax/lookup/) offer district A's
    family and people to a worker of A, and never district B's?"""
    own, _other = districts
    client = signed_in(app, "worker_a")
    for endpoint, field in FAMILY_PICKERS + PERSON_PICKERS:
        offered = {}
        for stem in ("Алексеев", "Борисов"):
            url = f"/{endpoint}/ajax/lookup/?name={field}&query={stem}"
            response = client.get(url)
            assert response.status_code == 200, url
            offered[stem] = {row_id for row_id, _text in json.loads(response.get_data())}
        assert offered["Борисов"] == set(), (endpoint, field)
        if (endpoint, field) in FAMILY_PICKERS:
            assert offered["Алексеев"] == {own["family"]}, (endpoint, field)
        else:
            assert offered["Алексеев"] == {own["mother"], own["child"]}, (endpoint, field)


# Create forms whose plain (non-AJAX) selects pick a scoped row.
SCOPED_SELECTS = (
    ("visit", "case", "case"),
    ("assessment", "case", "case"),
    ("review", "case", "case"),
    ("task", "case", "case"),
)  # the ИПСС and its activities have no create form: the ИПСС editor writes them


def test_relation_selects_offer_only_visible_rows(app, districts):
    """Do the plain relation selects of create forms (a visit's case, a task's
    case, an activity's ИПСС …) offer only rows the worker may see, so a
    worker of A cannot even learn that district B's case exists?"""
    own, other = districts
    client = signed_in(app, "worker_a")
    leaks = []
    for endpoint, field, target in SCOPED_SELECTS:
        options = admin_form(client.get(f"/{endpoint}/new/").get_data(as_text=True))["options"]
        offered = set(options.get(field, ()))
        assert str(own[target]) in offered, (endpoint, field)
        if str(other[target]) in offered:
            leaks.append(f"/{endpoint}/new/ «{field}» offers district B's {target} {other[target]}")
    assert not leaks, "\n".join(leaks)


def test_cannot_attach_a_record_to_another_districts_case(app, districts):
    """Is a visit posted by a worker of A against district B's case (an id
    typed into the form) refused, so no health findings land on a case the
    worker cannot see?"""
    _own, other = districts
    client = signed_in(app, "worker_a")
    with app.app_context():
        staff_id = db.session.scalar(db.select(Staff.id).where(Staff.last_name == "Иванова"))
    visits_before = count(app, Visit)
    form = {
        "case": str(other["case"]),
        "visited_on": "2025-02-10",
        "staff": str(staff_id),
        "purpose": "Чужой визит",
        "findings": "Сведения о здоровье",
        "csrf_token": csrf_token(client),
    }
    client.post("/visit/new/", data=form)
    with app.app_context():
        attached = db.session.scalar(db.select(Visit.id).where(Visit.purpose == "Чужой визит"))
    assert attached is None, "a visit was attached to district B's case"
    assert count(app, Visit) == visits_before


# --- specialists, the rental clerk, the viewer, the coordinator and the admin -----------


def test_psychologist_sees_only_cases_with_own_task(app):
    """Does a psychologist see the cases (and their families) where they hold a
    task, and no other case — not even one in the same district?"""
    with app.app_context():
        district = f.district()
        user = make_user("psychologist", "psy", districts=[district])
        mine = world(district, "Задачин", assignee=db.session.get(Staff, user.staff_id))
        theirs = world(district, "Чужаков")
        db.session.commit()
    client = signed_in(app, "psy")
    cases = row_ids(client.get("/case/").get_data(as_text=True), "case")
    assert cases == {mine["case"]}
    families = row_ids(client.get("/family/").get_data(as_text=True), "family")
    assert families == {mine["family"]}
    assert client.get(f"/case/details/?id={theirs['case']}").status_code == 404
    assert client.get(f"/family/details/?id={theirs['family']}").status_code == 404
    assert client.get(f"/case/details/?id={mine['case']}").status_code == 200


def test_rental_clerk_sees_only_families_with_loans_or_reservations(app):
    """Does the rental clerk see exactly the families with a loan or a
    reservation, and only their names and addresses — no health data, no SNILS?"""
    with app.app_context():
        district = f.district()
        make_user("rental_clerk", "clerk")
        lender, child = f.family_with_members(district_row=district, surname="Прокатовы")[::2]
        f.loan(f.equipment_unit(), lender, child)
        queued, child2 = f.family_with_members(district_row=district, surname="Очередины")[::2]
        f.reservation(queued, child2)
        other, _mother, child3 = f.family_with_members(district_row=district, surname="Посторонние")
        ids = {"lender": lender.id, "queued": queued.id, "other": other.id, "child": child.id}
        snils, other_child = child.snils, child3.id
        db.session.commit()
    client = signed_in(app, "clerk")
    families = row_ids(client.get("/family/").get_data(as_text=True), "family")
    assert families == {ids["lender"], ids["queued"]}
    assert client.get(f"/family/details/?id={ids['other']}").status_code == 404
    assert client.get(f"/person/details/?id={other_child}").status_code == 404
    for url in (
        f"/person/details/?id={ids['child']}",
        f"/family/details/?id={ids['lender']}",
        "/person/",
    ):
        body = client.get(url).get_data(as_text=True)
        assert "Прокатов" in body, url
        for secret in ("ребёнок-инвалид", "Инвалидность", "Медицинские сведения", snils):
            assert secret not in body, (url, secret)
    with app.app_context():  # every loan and place is of the clerk's families: no filter
        clerk = db.session.scalar(db.select(User).where(User.username == "clerk"))
        for model in (Loan, Reservation):
            seen = db.select(model.id).where(where_visible(model, clerk))
            theirs = db.select(model.id).where(model.family_id.in_(visible_families(clerk)))
            assert set(db.session.scalars(seen)) == set(db.session.scalars(theirs)) != set()


def test_viewer_has_no_personal_data_lists(app, login_as, client):
    """Does the viewer (management) get 403 on the family, person and case lists?"""
    with app.app_context():
        world(f.district(), "Смотрин")
        db.session.commit()
    login_as("viewer")
    for endpoint in ("family", "person", "case", "consent", "task", "loan"):
        response = client.get(f"/{endpoint}/")
        assert response.status_code == 403, endpoint
        assert "Смотрин" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinator_and_admin_see_everything(app, role):
    """Do the coordinator and the administrator see the rows of every district?"""
    with app.app_context():
        first = world(f.district(), "Первов")
        second = world(f.district(), "Вторых")
        make_user(role, "boss")
        db.session.commit()
    client = signed_in(app, "boss")
    for endpoint in SCOPED:
        ids = row_ids(client.get(f"/{endpoint}/").get_data(as_text=True), endpoint)
        assert {first[endpoint], second[endpoint]} <= ids, endpoint
        for row in (first, second):
            assert client.get(f"/{endpoint}/details/?id={row[endpoint]}").status_code == 200


def test_readme_prints_the_permission_matrix():
    """Is the README's table the matrix the panel enforces (`flask permissions` prints it)?"""
    from pathlib import Path

    from admin_views.permissions import matrix_table

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert matrix_table() in readme
