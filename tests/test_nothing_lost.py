"""Nothing is lost: no «Удалить» anywhere in the panel removes a row from the database.

Every registered view is walked: its delete endpoint, its bulk «delete» and «В архив»
actions, as the administrator and the coordinator (the two roles that delete), for a
real row of every table; the rows of every table are counted before and after,
archived ones included. Where the matrix grants «Удалить», the row is archived; where
it does not (history rows, tasks, reviews, queue places, accounts), the row stays as it
was. Archived rows leave the workflows' choices: an archived consent is no consent, a
cancelled appointment frees its slot, an archived unit is not lent. Accounts are
disabled, never deleted, and only the administrator restores archived rows.
"""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from security_factories import (
    ENDPOINTS,
    MODELS,
    admin_form,
    flashes,
    row_ids,
    snapshot,
    world,
)
from sqlalchemy import func, select

from admin_views.accounts import OWN_ACCOUNT
from admin_views.modelview.archive import ARCHIVED
from admin_views.permissions import MATRIX, allowed
from models import (
    Appointment,
    Assessment,
    AuditRecord,
    Case,
    Document,
    EquipmentType,
    EquipmentUnit,
    Family,
    Person,
    Reservation,
    Staff,
    User,
    Visit,
    db,
)
from models.audit import HIDDEN_VALUE
from models.base import ArchivedMixin
from models.cases import LIFE_DOMAIN
from workflows import reception, rental
from workflows.cases import allowed_districts, record_assessment
from workflows.centre import DEFAULT_HOURS
from workflows.consent import has_active_consent
from workflows.dates import centre_today
from workflows.errors import WorkflowError
from workflows.reports import Params, pilot_report

DELETERS = ("admin", "coordinator")
# The ИПРА's tables are health data the administrator does not read: the coordinator
# restores them (tests/test_ipra.py).
ARCHIVABLE = tuple(
    ep for ep in ENDPOINTS if issubclass(MODELS[ep], ArchivedMixin) and allowed("admin", ep, "list")
)


def table_counts(app) -> dict[str, int]:
    """Rows of every table of the schema, archived ones included."""
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def archive(client, endpoint: str, row_id: int):
    """«Удалить» on one row, as its list's button sends it; the page it lands on."""
    data = {"id": row_id, "csrf_token": csrf_token(client)}
    return client.post(f"/{endpoint}/delete/", data=data, follow_redirects=True)


def act(client, endpoint: str, name: str, *row_ids_, query: str = ""):
    """A bulk action of a list (`name` for the selected rows); the page it lands on."""
    data = {"action": name, "rowid": [str(i) for i in row_ids_], "csrf_token": csrf_token(client)}
    return client.post(f"/{endpoint}/action/{query}", data=data, follow_redirects=True)


def archived_at(app, model, row_id):
    state = snapshot(app, model, row_id)
    assert state is not None, f"{model.__tablename__} id={row_id} was deleted"
    return state["archived_at"]


def next_reception_day() -> dt.date:
    day = centre_today() + dt.timedelta(days=1)
    return day + dt.timedelta(days=1) if day.weekday() == reception.SUNDAY else day


# --- the matrix and every delete endpoint -----------------------------------------------


# Workflow pages whose «delete» right archives rows of an archivable table.
ARCHIVING_PAGES = {"documents": Document}
assert all(issubclass(model, ArchivedMixin) for model in ARCHIVING_PAGES.values())


def test_only_archivable_tables_have_a_delete_right():
    """Does every «Удалить» the matrix grants sit on a table whose rows are archived,
    so that no role has a hard delete anywhere — accounts and history rows included?"""
    wrong = [
        f"{role}: {endpoint}"
        for role, views in MATRIX.items()
        for endpoint, rights in views.items()
        if "delete" in rights
        and not (endpoint in MODELS and issubclass(MODELS[endpoint], ArchivedMixin))
        and endpoint not in ARCHIVING_PAGES
    ]
    assert not wrong, wrong
    for endpoint in ("user", "task", "review", "reservation", "audit_record", "task_assignment",
                     "plan_revision", "loan_extension", "support_plan", "plan_activity"):  # fmt: skip
        assert not any(allowed(role, endpoint, "delete") for role in MATRIX), endpoint


@pytest.mark.parametrize("role", DELETERS)
def test_no_delete_endpoint_removes_a_row(app, role):
    """As `role`, do the delete endpoint and the bulk «delete» and «В архив» actions of
    every registered view, posted for a real row of every table, leave every row of
    every table in the database — the row archived where the role may delete it (or
    left as it was with the reason said), unchanged where it may not — without a
    server error?"""
    username = f"keeper_{role}"
    with app.app_context():
        district = f.district()
        make_user(role, username, districts=[district])
        ids = world(district, "Хранимов")
        db.session.commit()
    client = signed_in(app, username)
    token = csrf_token(client)
    problems = []
    # The case last: a closed or archived case's records may be refused the archive.
    for endpoint in sorted(ENDPOINTS, key=lambda endpoint: endpoint == "case"):
        model, row_id = MODELS[endpoint], ids[endpoint]
        before, counts = snapshot(app, model, row_id), table_counts(app)
        delete = client.post(f"/{endpoint}/delete/", data={"id": row_id, "csrf_token": token})
        landed = client.get(delete.headers["Location"]) if delete.status_code == 302 else delete
        refusals = [m for m in flashes(landed.get_data(as_text=True)) if m != ARCHIVED]
        responses = [
            delete,
            *(
                client.post(
                    f"/{endpoint}/action/",
                    data={"action": name, "rowid": row_id, "csrf_token": token},
                )
                for name in ("delete", "archive")
            ),
        ]
        if any(r.status_code not in (302, 403) for r in responses):
            problems.append(f"{endpoint}: answered {[r.status_code for r in responses]}")
        after = table_counts(app)
        lost = {t: (counts[t], after[t]) for t in counts if after[t] < counts[t]}
        if lost:
            problems.append(f"{endpoint}: rows disappeared from {lost}")
        state = snapshot(app, model, row_id)
        if state is None:
            problems.append(f"{endpoint}: the row id={row_id} is gone")
        elif allowed(role, endpoint, "delete"):
            if state.get("archived_at") is None and not refusals:
                problems.append(f"{endpoint}: «Удалить» archived nothing and said nothing")
            if state.get("archived_at") is None and state != before:
                problems.append(f"{endpoint}: refused the archive, yet the row changed")
        elif state != before:
            problems.append(f"{endpoint}: no «Удалить» for {role}, yet the row changed")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("endpoint", ARCHIVABLE)
def test_the_admin_restores_what_was_archived(app, endpoint):
    """Is a row archived by «Удалить» gone from its list, back with «Показать архив»,
    marked on its page — and returned by the administrator's «Восстановить», which the
    coordinator's request does not do?"""
    with app.app_context():
        district = f.district()
        make_user("admin", "restorer")
        make_user("coordinator", "asker", districts=[district])
        ids = world(district, "Возвратов")
        db.session.commit()
    model, row_id = MODELS[endpoint], ids[endpoint]
    admin = signed_in(app, "restorer")
    page = archive(admin, endpoint, row_id).get_data(as_text=True)
    assert ARCHIVED in flashes(page)
    assert archived_at(app, model, row_id) is not None
    assert row_id not in row_ids(admin.get(f"/{endpoint}/").get_data(as_text=True), endpoint)
    shown = admin.get(f"/{endpoint}/?archive=1").get_data(as_text=True)
    assert row_id in row_ids(shown, endpoint)
    details = admin.get(f"/{endpoint}/details/?id={row_id}").get_data(as_text=True)
    assert "Запись в архиве с" in details

    act(signed_in(app, "asker"), endpoint, "restore", row_id, query="?archive=1")
    assert archived_at(app, model, row_id) is not None, "the coordinator restored it"
    page = act(admin, endpoint, "restore", row_id, query="?archive=1").get_data(as_text=True)
    assert "Восстановлено из архива: 1." in flashes(page)
    assert archived_at(app, model, row_id) is None
    assert row_id in row_ids(admin.get(f"/{endpoint}/").get_data(as_text=True), endpoint)


def test_the_audit_of_an_archive_names_what_changed(app, login_as, client):
    """When the coordinator archives an assessment (health data), does the audit keep a
    record of it by name — «archived_at» from empty to the moment, by the coordinator —
    rather than a delete whose health values survive only as «•••», while the need
    level and the conclusion stay in the row?"""
    coordinator = login_as("coordinator")
    with app.app_context():
        family, mother, _child = f.family_with_members()
        f.consent(family, mother)
        row = f.assessment(f.case(family, mother), need_level="high", notes="Диагноз Архивов")
        db.session.commit()
        row_id = row.id
    archive(client, "assessment", row_id)
    with app.app_context():
        records = db.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.table_name == "assessment", AuditRecord.row_id == str(row_id))
            .order_by(AuditRecord.id)
        ).all()
        kept = db.session.get(Assessment, row_id)
        assert (kept.need_level, kept.notes) == ("high", "Диагноз Архивов")
        assert kept.archived_at is not None
    # The factory's insert, then the archive: no delete.
    assert [r.action for r in records] == ["insert", "update"]
    record = records[1]
    assert (record.username, record.user_id) == ("coordinator", coordinator.id)
    assert set(record.changes) == {"archived_at"}
    change = record.changes["archived_at"]
    assert change["old"] is None
    assert change["new"] != HIDDEN_VALUE
    assert dt.datetime.fromisoformat(change["new"]).date() == kept.archived_at.date()
    assert "Диагноз Архивов" not in str(record.changes)


def test_a_closed_cases_records_are_not_archived(app, login_as, client):
    """Is «Удалить» on a visit of a closed case refused with the reason, the visit
    left as it was — a closed case's records stay as they were?"""
    login_as("admin")
    with app.app_context():
        family, mother, _child = f.family_with_members()
        f.consent(family, mother)
        case = f.case(family, mother)
        visit_id = f.visit(case).id
        case.status, case.closure_reason, case.closed_on = (
            "closed",
            "goal_achieved",
            case.start_date,
        )
        db.session.commit()
    before = snapshot(app, Visit, visit_id)
    page = archive(client, "visit", visit_id).get_data(as_text=True)
    assert any("закрыт" in m for m in flashes(page)), flashes(page)
    assert snapshot(app, Visit, visit_id) == before


# --- archived rows leave the workflows ---------------------------------------------------


def test_an_archived_consent_is_no_consent(app, login_as, client):
    """Once a family's only consent is archived, does the family have no consent —
    no case may start, its page says so, and the consent no longer shows there?"""
    login_as("coordinator")
    with app.app_context():
        family, mother, _child = f.family_with_members()
        consent = f.consent(family, mother, scope="Согласие Архивовых")
        db.session.commit()
        family_id, consent_id = family.id, consent.id
        assert has_active_consent(db.session, family_id, centre_today())
    archive(client, "consent", consent_id)
    with app.app_context():
        assert not has_active_consent(db.session, family_id, centre_today())
    page = client.get(f"/family/details/?id={family_id}").get_data(as_text=True)
    assert "Нет согласия на обработку персональных данных" in page
    assert "Согласие Архивовых" not in page


def test_a_cancelled_appointment_frees_its_slot(app, login_as, client):
    """When the coordinator archives (cancels) an appointment, is its slot free again
    at reception and bookable by someone else; is the cancelled one no longer made an
    application; and does restoring it, now that the slot is taken, leave it archived
    with the reason instead of double-booking the specialist?"""
    coordinator = login_as("coordinator")
    day = next_reception_day()
    starts_at = reception.day_slots(day, DEFAULT_HOURS)[2]
    with app.app_context():
        make_user("admin", "slots_admin")
        specialist = f.staff(role="psychologist")
        actor = db.session.get(User, coordinator.id)
        first = reception.book_appointment(
            db.session,
            actor,
            specialist=specialist,
            starts_at=starts_at,
            channel="phone",
            purpose="Консультация",
            citizen_name="Первая Ольга",
        )
        db.session.commit()
        specialist_id, first_id = specialist.id, first.id
    archive(client, "appointment", first_id)
    with app.app_context():
        specialist = db.session.get(Staff, specialist_id)
        actor = db.session.get(User, coordinator.id)
        slot = next(s for s in reception.day_view(db.session, actor, specialist, day)
                    if s.starts_at == starts_at)  # fmt: skip
        assert slot.free
        second = reception.book_appointment(
            db.session,
            actor,
            specialist=specialist,
            starts_at=starts_at,
            channel="in_person",
            purpose="Консультация",
            citizen_name="Вторая Ирина",
        )
        db.session.commit()
        second_id = second.id
        with pytest.raises(WorkflowError):
            reception.check_convertible(db.session.get(Appointment, first_id))
    page = act(
        signed_in(app, "slots_admin"), "appointment", "restore", first_id, query="?archive=1"
    )
    messages = flashes(page.get_data(as_text=True))
    assert any("У специалиста уже есть запись на это время." in m for m in messages), messages
    assert archived_at(app, Appointment, first_id) is not None
    assert archived_at(app, Appointment, second_id) is None


def test_an_archived_unit_is_neither_lent_nor_offered(app, login_as, client):
    """Is an archived unit refused at lending and never offered to the queue, a unit
    that is with a family refused the archive, and an archived type refused a new
    place in the queue?"""
    admin = login_as("admin")
    with app.app_context():
        kind = f.equipment_type()
        spare, lent = f.equipment_unit(kind), f.equipment_unit(kind, status="on_loan")
        _family, _mother, child = f.family_with_members()
        db.session.commit()
        ids = {"spare": spare.id, "lent": lent.id, "kind": kind.id, "child": child.id}
    archive(client, "equipment_unit", ids["spare"])
    page = archive(client, "equipment_unit", ids["lent"]).get_data(as_text=True)
    assert any("на руках у семьи" in m for m in flashes(page)), flashes(page)
    assert archived_at(app, EquipmentUnit, ids["lent"]) is None
    today = centre_today()
    with app.app_context():
        actor = db.session.get(User, admin.id)
        spare = db.session.get(EquipmentUnit, ids["spare"])
        child = db.session.get(Person, ids["child"])
        with pytest.raises(WorkflowError, match="в архиве"):
            rental.lend_unit(db.session, spare, child, actor, today)
        db.session.rollback()
        kind = db.session.get(EquipmentType, ids["kind"])
        place = rental.enqueue(db.session, child, kind, "3", today, actor, today)
        db.session.commit()
        assert db.session.get(Reservation, place.id).status == "waiting"
        assert db.session.get(EquipmentUnit, ids["spare"]).status == "available"
    archive(client, "equipment_type", ids["kind"])
    with app.app_context():
        actor = db.session.get(User, admin.id)
        child = db.session.get(Person, ids["child"])
        other = f.person(child.family, "child", first_name="Полина", sex="f")
        kind = db.session.get(EquipmentType, ids["kind"])
        with pytest.raises(WorkflowError, match="в архиве"):
            rental.enqueue(db.session, other, kind, "3", today, actor, today)
        db.session.rollback()


def test_archived_staff_stop_working(app, login_as, client):
    """Is an archived member of staff marked as no longer working, so that reception,
    cases and tasks no longer offer them, and gone from the staff pickers?"""
    login_as("admin")
    with app.app_context():
        worker = f.staff(role="psychologist", last_name="Уходящая")
        db.session.commit()
        worker_id = worker.id
    archive(client, "staff", worker_id)
    with app.app_context():
        kept = db.session.get(Staff, worker_id)
        assert kept.archived_at is not None and kept.active is False
        assert worker_id not in {s.id for s in reception.receiving_staff(db.session)}
    form = admin_form(client.get("/event/new/").get_data(as_text=True))
    assert str(worker_id) not in form["options"]["organiser"]


def test_a_family_in_an_archived_district_keeps_it(app, login_as, client):
    """Does an archived district take no new families, while a family already in it
    is still edited without being moved out of it?"""
    coordinator = login_as("coordinator")
    with app.app_context():
        district = f.district(name="Закрытый участок")
        family = f.family(district, surname="Оставшиеся")
        db.session.commit()
        district_id, family_id = district.id, family.id
    with app.app_context():
        make_user("admin", "districts_admin")
    archive(signed_in(app, "districts_admin"), "district", district_id)
    with app.app_context():
        actor = db.session.get(User, coordinator.id)
        assert district_id not in {d.id for d in allowed_districts(db.session, actor)}
    url = f"/family/edit/?id={family_id}"
    form = admin_form(client.get(url).get_data(as_text=True))
    assert form["fields"]["district"] == str(district_id)
    assert str(district_id) in form["options"]["district"]
    new = admin_form(client.get("/family/new/").get_data(as_text=True))
    assert str(district_id) not in new["options"]["district"]
    fields = {**form["fields"], "surname": "Оставшиеся-Новые", "csrf_token": csrf_token(client)}
    assert client.post(url, data=fields).status_code == 302
    saved = snapshot(app, Family, family_id)
    assert (saved["surname"], saved["district_id"]) == ("Оставшиеся-Новые", district_id)


def test_an_archived_assessment_makes_way_for_a_new_one(app, login_as, client):
    """Once an assessment of one domain is archived, does the case's assessment step
    record that domain anew — the archived row kept as it was, the case's live
    assessment the six new rows?"""
    coordinator = login_as("coordinator")
    with app.app_context():
        family, mother, _child = f.family_with_members()
        f.consent(family, mother)
        case = f.case(
            family,
            mother,
            status="application",
            decision_date=None,
            contract_number=None,
            contract_date=None,
            start_date=None,
            planned_end_date=None,
        )
        actor = db.session.get(User, coordinator.id)
        levels = {domain: ("low", None) for domain in LIFE_DOMAIN.codes}
        rows = record_assessment(
            db.session, actor, case, levels=levels, assessed_on=case.application_date
        )
        db.session.commit()
        case_id = case.id
        medical_id = next(r.id for r in rows if r.domain == "medical")
    archive(client, "assessment", medical_id)
    with app.app_context():
        case = db.session.get(Case, case_id)
        actor = db.session.get(User, coordinator.id)
        levels = {domain: ("low", None) for domain in LIFE_DOMAIN.codes}
        levels["medical"] = ("high", "Повторная оценка")
        record_assessment(db.session, actor, case, levels=levels, assessed_on=case.application_date)
        db.session.commit()
        db.session.expire_all()
        live = {a.domain: a for a in db.session.get(Case, case_id).assessments}
        assert set(live) == set(LIFE_DOMAIN.codes)
        assert live["medical"].need_level == "high" and live["medical"].id != medical_id
        old = db.session.get(Assessment, medical_id)
        assert (old.need_level, old.archived_at is not None) == ("low", True)


def test_archived_visits_leave_the_report(app, login_as, client):
    """Does the pilot report's count of visits drop a visit once it is archived?"""
    coordinator = login_as("coordinator")
    with app.app_context():
        family, mother, _child = f.family_with_members()
        f.consent(family, mother)
        case = f.case(family, mother)
        f.visit(case)
        gone = f.visit(case)
        db.session.commit()
        gone_id = gone.id
    params = Params(dt.date(2025, 1, 1), dt.date(2025, 12, 31))

    def visits() -> int:
        with app.app_context():
            actor = db.session.get(User, coordinator.id)
            report = pilot_report(db.session, actor, params)
            rows = [row for table in report.tables for row in table.rows]
            return next(row[1] for row in rows if row[0] == "Визитов за период")

    assert visits() == 2
    archive(client, "visit", gone_id)
    assert visits() == 1


# --- accounts are disabled, never deleted -------------------------------------------------


def test_accounts_are_disabled_not_deleted(app, login_as, client):
    """Does the administrator's list of accounts offer «Отключить» and «Включить» but
    no delete; does «Отключить» end the user's sessions and keep the row, «Включить»
    let them back in, and refuse the administrator's own account — while a delete
    request leaves the account where it was?"""
    admin = login_as("admin")
    with app.app_context():
        user_id = make_user("district_worker", "leaving").id
    other = signed_in(app, "leaving")
    page = client.get("/user/").get_data(as_text=True)
    assert 'data-opora-action="disable"' in page and 'data-opora-action="enable"' in page
    assert 'data-opora-action="delete"' not in page and "/user/delete/" not in page

    client.post("/user/delete/", data={"id": user_id, "csrf_token": csrf_token(client)})
    assert snapshot(app, User, user_id)["active"] is True

    page = act(client, "user", "disable", user_id).get_data(as_text=True)
    assert "Отключено учётных записей: 1." in flashes(page)
    assert snapshot(app, User, user_id)["active"] is False
    assert other.get("/").status_code == 302  # the session ended: back to sign-in

    act(client, "user", "enable", user_id)
    assert snapshot(app, User, user_id)["active"] is True
    signed_in(app, "leaving")

    page = act(client, "user", "disable", admin.id).get_data(as_text=True)
    assert OWN_ACCOUNT in flashes(page)
    assert snapshot(app, User, admin.id)["active"] is True
    url = f"/user/edit/?id={admin.id}"
    form = admin_form(client.get(url).get_data(as_text=True))["fields"]
    form.pop("active", None)
    form["csrf_token"] = csrf_token(client)
    assert OWN_ACCOUNT in client.post(url, data=form).get_data(as_text=True)
    assert snapshot(app, User, admin.id)["active"] is True
