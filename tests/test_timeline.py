"""A family's timeline: does the family's page tell everything that happened to it, newest
first, within the viewer's scope and health right, in a constant number of queries?"""

from __future__ import annotations

import datetime as dt

import factories as f
from conftest import make_user, signed_in
from sqlalchemy import select
from test_query_counts import counted_queries

from models import Document, User, db
from workflows import council, timeline

TABLES = tuple(timeline.SOURCES)


def document(family, doc_type, name, day):
    return f._save(
        Document(
            family=family,
            doc_type=doc_type,
            doc_date=day,
            file_name=name,
            content_type="application/pdf",
            size=10,
            sha256=f"{f.seq():064d}",
            storage_key=f"k{f.seq()}",
        )
    )


def a_family_with_a_history(area):
    """A family with one of each kind of event, on days that order them."""
    worker = f.staff("district_worker", districts=[area], last_name="Участковая")
    family, mother, child = f.family_with_members(district_row=area, surname="Хроновы")
    case = f.case(
        family,
        mother,
        lead_worker=worker,
        status="closed",
        closure_reason="goal_achieved",
        closed_on=dt.date(2025, 7, 1),
    )
    f.appointment(
        worker, family=family, starts_at=dt.datetime(2025, 1, 10, 10), purpose="Первичный приём"
    )
    f.assessment(case, assessed_on=dt.date(2025, 1, 25))
    f.visit(case, worker, visited_on=dt.date(2025, 2, 5), findings="Эпилепсия, приступы редки")
    f.task(
        family,
        case,
        title="Консультация психолога",
        status="done",
        assignee=worker,
        result="Проведена",
        closed_at=dt.datetime(2025, 2, 20, 9, tzinfo=dt.UTC),
    )
    f.review(case, held_on=dt.date(2025, 4, 2))
    kind = f.equipment_type(name="Кресло-коляска")
    f.loan(
        f.equipment_unit(kind, inventory_number="КК-1"),
        family,
        child,
        issued_on=dt.date(2025, 3, 1),
        returned_on=dt.date(2025, 6, 1),
        condition_on_return="good",
    )
    f.referral(
        case,
        f.partner(name="Поликлиника № 1"),
        reason_kind="medical",
        reason=None,
        health_reason="Подбор противосудорожной терапии",
        status="sent",
        prepared_on=dt.date(2025, 3, 5),
        sent_on=dt.date(2025, 3, 6),
        answer_due=dt.date(2025, 4, 6),
    )
    document(family, "passport", "паспорт.pdf", dt.date(2025, 1, 11))
    document(family, "ipra", "ипра.pdf", dt.date(2025, 1, 12))
    db.session.flush()
    return family, worker, case


def texts(entries):
    return [entry.text for entry in entries]


def test_the_timeline_tells_every_kind_newest_first(app_ctx):
    """Does a coordinator (who reads health) see each kind of event, newest first, with a
    visit's findings and a medical referral's reason as their details?"""
    family, _worker, case = a_family_with_a_history(f.district())
    boss = f.user("coordinator")
    entries = timeline.timeline(db.session, boss, family.id, TABLES)
    days = [entry.on for entry in entries]
    assert days == sorted(days, reverse=True)
    joined = "\n".join(texts(entries))
    for expected in (
        f"Случай № {case.id} закрыт: цель достигнута",
        "Возвращено ТСР: Кресло-коляска (инв. № КК-1)",
        "Мониторинг случая",
        "Выдано ТСР: Кресло-коляска (инв. № КК-1)",
        "Направление отправлено в «Поликлиника № 1»",
        "Выполнена задача «Консультация психолога» — Участковая",
        "Визит в семью: Обследование условий проживания — Участковая",
        f"Договор № {case.contract_number} по случаю № {case.id}",
        f"Оценка потребностей по случаю № {case.id}",
        f"Заявление, случай № {case.id}",
        "Документ: ИПРА (ипра.pdf)",
        "Документ: Паспорт (паспорт.pdf)",
        "Приём 10.01.2025 10:00: Первичный приём — Участковая",
    ):
        assert expected in joined, expected
    details = [entry.detail for entry in entries if entry.detail]
    assert details == ["Подбор противосудорожной терапии", "Эпилепсия, приступы редки"]


def test_the_timeline_tells_council_decisions_partner_referrals_and_events(app_ctx):
    """Does the timeline tell a council decision on the family's case (who, what, by when),
    the partner's referral that brought the family (its reason a health detail) and an
    event the family attended — and does a district worker of another district see none?"""
    area = f.district()
    worker = make_user("district_worker", "uch", districts=[area], last_name="Участковая").staff
    family, mother, child = f.family_with_members(district_row=area, surname="Советовы")
    case = f.case(family, mother, lead_worker=worker)
    boss = f.user("coordinator")
    held = dt.date(2025, 5, 12)
    meeting = council.record_meeting(
        db.session, boss, held_on=held, district_id=area.id, agenda="Случаи участка",
        staff_ids=[worker.id], contact_ids=[], today=held,
    )  # fmt: skip
    council.add_agenda_case(db.session, boss, meeting.id, case_id=case.id, note=None)
    decision = council.Decision(case.id, "Подобрать кружок", dt.date(2025, 6, 1), worker.id)
    council.decide(db.session, boss, meeting.id, decision, today=held)
    f.incoming_referral(
        f.partner(name="Школа № 5"), area, family=family, status="taken",
        decided_on=dt.date(2025, 3, 5), reason="Не посещает школу",
    )  # fmt: skip
    party = f.event(kind="holiday", title="Новогодний праздник", held_on=dt.date(2025, 12, 27))
    f.attendance(party, family, [child])
    db.session.flush()
    entries = timeline.timeline(db.session, boss, family.id, TABLES)
    by_text = {entry.text: entry for entry in entries}
    said = "Решение координационного совета: Подобрать кружок — Участковая Мария Петровна, "
    assert by_text[said + "срок 01.06.2025"].row_id == meeting.id
    assert by_text["Получено направление семьи от «Школа № 5»"].detail == "Не посещает школу"
    assert "Праздник: «Новогодний праздник»" in by_text
    stranger = f.user("district_worker", f.staff("district_worker", districts=[f.district()]))
    assert timeline.timeline(db.session, stranger, family.id, TABLES) == []


def test_health_stays_hidden_from_a_role_that_does_not_read_it(app_ctx):
    """Does the administrator (no health right) get neither the findings, nor the medical
    reason, nor the ИПРА — yet the visit and the referral themselves?"""
    family, _worker, _case = a_family_with_a_history(f.district())
    entries = timeline.timeline(db.session, f.user("admin"), family.id, TABLES)
    joined = "\n".join(texts(entries))
    assert not [entry.detail for entry in entries if entry.detail]
    assert "ИПРА" not in joined and "Эпилепсия" not in joined and "терапии" not in joined
    assert "Визит в семью" in joined and "Направление отправлено" in joined


def test_the_timeline_keeps_the_row_scope_and_the_tables_given(app_ctx):
    """Does a district worker of another district see nothing of the family, and does a
    source whose table the viewer may not read stay out?"""
    family, _worker, _case = a_family_with_a_history(f.district())
    stranger = f.user(
        "district_worker", staff_row=f.staff("district_worker", districts=[f.district()])
    )
    assert timeline.timeline(db.session, stranger, family.id, TABLES) == []
    boss = f.user("coordinator")
    only_loans = timeline.timeline(db.session, boss, family.id, ["loan"])
    assert {entry.kind for entry in only_loans} == {"loan"} and len(only_loans) == 2


def test_the_timeline_costs_one_query_per_source_whatever_the_family(app_ctx):
    """Is the number of queries the same for a family with one of each and with many?"""
    family, worker, case = a_family_with_a_history(f.district())
    boss = f.user("coordinator")
    with counted_queries() as few:
        timeline.timeline(db.session, boss, family.id, TABLES)
    child = family.members[1]
    for n in range(4):
        f.visit(case, worker, visited_on=dt.date(2025, 2, 10 + n))
        f.loan(
            f.equipment_unit(),
            family,
            child,
            issued_on=dt.date(2025, 5, 1 + n),
            due_on=dt.date(2025, 8, 1),
        )
        f.task(
            family,
            case,
            status="done",
            assignee=worker,
            closed_at=dt.datetime(2025, 5, 2, tzinfo=dt.UTC),
        )
        document(family, "snils", f"снилс{n}.pdf", dt.date(2025, 5, 3))
    db.session.flush()
    with counted_queries() as many:
        timeline.timeline(db.session, boss, family.id, TABLES)
    assert len(many) == len(few) <= len(TABLES)


def test_the_family_page_shows_the_timeline_and_the_case_page_its_family(app):
    """Does the family's page list the timeline with links to the rows, and the case's
    page link to its family and name its child?"""
    with app.app_context():
        family, _worker, case = a_family_with_a_history(f.district())
        make_user("coordinator", username="boss")
        db.session.commit()
        family_id, case_id = family.id, case.id
        child = db.session.scalars(
            select(f.Person).where(f.Person.family_id == family_id, f.Person.relation == "child")
        ).one()
        child_name = child.full_name
    client = signed_in(app, "boss")
    page = client.get(f"/family/details/?id={family_id}").get_data(as_text=True)
    assert 'id="timeline"' in page and "Выдано ТСР: Кресло-коляска" in page
    assert f'href="/case/details/?id={case_id}"' in page
    case_page = client.get(f"/case/details/?id={case_id}").get_data(as_text=True)
    assert 'id="case-family">Хроновы</a>' in case_page
    assert f'href="/family/details/?id={family_id}"' in case_page
    assert child_name in case_page.split('id="case-children">')[1].split("</span>")[0]
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "boss")) is not None
