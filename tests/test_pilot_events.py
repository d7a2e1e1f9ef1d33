"""Events, volunteers and the pilot report, whole: is every new figure of the pilot report
exactly what the generated data holds, within the user's scope, and the same in its .xlsx?
Do events keep their rules, show their participants and follow the families' row scope?"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import factories as f
import pytest
from conftest import make_user, post_form, signed_in
from openpyxl import load_workbook
from sqlalchemy.exc import IntegrityError

from models import Event, EventAttendance, Person, ProjectMeasure, User, db
from models.base import utcnow
from workflows import reports
from workflows.export import sheet_title
from workflows.reports import Params, median

FROM, TO = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
D = dt.date


@pytest.fixture
def world(app):
    """Districts А and Б, a family in each with children and a case; trainings, a club,
    a holiday, campaign items, referrals, enrolments, reviews and the budget."""
    with app.app_context():
        a, b = f.district(name="Участок А"), f.district(name="Участок Б")
        make_user("district_worker", "worker_a", districts=[a])
        make_user("coordinator", "coord")
        make_user("social_pedagogue", "pedagogue")
        make_user("psychologist", "psych")
        fa = f.family(a, surname="Алексеевы")
        fa_mother, ca = f.person(fa, "mother"), f.person(fa, "child", first_name="Антон")
        fb = f.family(b, surname="Борисовы")
        fb_mother = f.person(fb, "mother")
        cb = f.person(fb, "child", first_name="Богдан")
        cb2 = f.person(fb, "child", first_name="Вера")
        s1, s2 = f.staff(last_name="Сидорова"), f.staff(last_name="Степанова")
        group = f.partner(name="Волонтёры «Добро»", kind="volunteers")
        v1 = f.volunteer(group, last_name="Волкова")
        v2 = f.volunteer(group, last_name="Воронина")
        f.event(kind="training", title="Обучение 1", held_on=D(2025, 3, 1), staff=[s1, s2],
                volunteers=[v1])  # fmt: skip
        f.event(kind="training", title="Обучение 2", held_on=D(2025, 4, 1), staff=[s1],
                volunteers=[v1, v2])  # fmt: skip
        f.event(kind="training", title="Обучение 0", held_on=D(2024, 12, 31), staff=[s2])
        club = f.event(kind="club", title="Семейный клуб «Радуга»", held_on=D(2025, 5, 1))
        f.attendance(club, fa, [ca])
        f.attendance(club, fb, [cb, cb2])
        holiday = f.event(kind="holiday", title="Праздник двора", held_on=D(2025, 6, 1))
        f.attendance(holiday, fb, [cb])
        gone = f.event(kind="excursion", title="Экскурсия", held_on=D(2025, 7, 1))
        f.attendance(gone, fa, [ca])
        gone.archived_at = utcnow()
        for title, channel, run, reach, on in (
            ("Буклет о службе", "booklet", 500, 400, D(2025, 2, 1)),
            ("Буклет о прокате", "booklet", 300, None, D(2025, 3, 1)),
            ("Рубрика на сайте", "website", None, 1200, D(2025, 4, 1)),
            ("Статья в газете", "media", None, 5000, D(2026, 1, 5)),
        ):
            f.event(kind="info_campaign", title=title, channel=channel, print_run=run,
                    reach=reach, held_on=on)  # fmt: skip

        case_a = f.case(fa, fa_mother)
        case_b = f.case(fb, fb_mother)
        school = f.partner(name="Школа № 1", kind="school")
        clinic = f.partner(name="Поликлиника № 1", kind="clinic")

        def sent(case, partner, on, status="sent", **kw):
            due = on + dt.timedelta(days=14)
            return f.referral(case, partner, status=status, prepared_on=on, sent_on=on,
                              answer_due=due, **kw)  # fmt: skip

        sent(case_a, school, D(2025, 3, 1), "accepted", accepted_on=D(2025, 3, 5))
        sent(case_b, school, D(2025, 3, 1), "fulfilled", accepted_on=D(2025, 3, 3),
             answered_on=D(2025, 3, 10), answer="Зачислен")  # fmt: skip
        sent(
            case_a, school, D(2025, 4, 1), "refused", answered_on=D(2025, 4, 11), answer="Нет мест"
        )
        sent(case_b, clinic, D(2025, 5, 1), "no_answer")
        sent(case_a, clinic, D(2025, 5, 1), "accepted", accepted_on=D(2025, 5, 8))
        sent(case_b, school, D(2024, 12, 1), "accepted", accepted_on=D(2024, 12, 2))
        f.referral(case_b, school)  # prepared, never sent

        library = f.programme(name="Мобильная библиотека")
        sanatorium = f.programme(name="«Санаторий на дому»")
        f.programme_enrolment(fa, programme=library, enrolled_on=D(2025, 2, 1))
        f.programme_enrolment(
            fb, programme=library, enrolled_on=D(2024, 6, 1), left_on=D(2025, 6, 1)
        )
        f.programme_enrolment(fb, programme=sanatorium, enrolled_on=D(2025, 3, 1))
        f.programme_enrolment(
            fa, programme=sanatorium, enrolled_on=D(2025, 3, 1), archived_at=utcnow()
        )

        f.review(case_a, held_on=D(2025, 4, 1), effectiveness="high")
        f.review(case_b, held_on=D(2025, 4, 2), effectiveness="medium")
        f.review(case_b, held_on=D(2025, 5, 1), effectiveness=None)
        f.review(case_b, due_on=D(2025, 9, 1))  # not yet held

        for name, source, planned, spent in (
            ("Обучение специалистов", "fund_grant", "1000000", "250000.50"),
            ("Обучение специалистов", "regional_budget", "500000", "0"),
            ("Выпуск буклетов", "fund_grant", "200000.00", "200000"),
        ):
            f.project_measure(name=name, funding_source=source, planned=Decimal(planned),
                              spent=Decimal(spent))  # fmt: skip
        f.project_measure(name="Отменено", funding_source="other", planned=Decimal(99),
                          archived_at=utcnow())  # fmt: skip
        db.session.commit()
        return {"club": club.id, "fa": fa.id, "fb": fb.id, "v1": v1.id, "s1": s1.id}


def pilot(app, username="coord"):
    with app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        return reports.pilot_report(db.session, user, Params(FROM, TO))


def table(report, title: str) -> dict:
    found = next(t for t in report.tables if t.title == title)
    return {row[0]: row[1:] for row in found.rows} | {"__total__": found.total[1:]}


def test_events_by_kind_and_attendees(app, world):
    """Events of 2025 by kind with families, children, staff and volunteers; an archived
    event and one outside the period are not counted."""
    events = table(pilot(app), "Мероприятия проекта по видам")
    assert events["обучение специалистов и волонтёров"] == [2, 0, 0, 3, 3]
    assert events["информационная кампания"] == [3, 0, 0, 0, 0]
    assert events["клубная встреча"] == [1, 2, 3, 0, 0]
    assert events["праздник"] == [1, 1, 1, 0, 0]
    assert events["экскурсия"] == [0, 0, 0, 0, 0]
    assert events["__total__"] == [7, 3, 4, 3, 3]


def test_a_district_worker_counts_only_the_families_in_scope(app, world):
    """Does the district worker's report count family attendance only of their families,
    and referrals, enrolments and reviews only of their cases?"""
    report = pilot(app, "worker_a")
    events = table(report, "Мероприятия проекта по видам")
    assert events["клубная встреча"] == [1, 1, 1, 0, 0]
    assert events["праздник"] == [1, 0, 0, 0, 0]
    referrals = table(report, "Направления партнёрам по типам партнёров")
    assert referrals["образовательная организация"] == [2, 2, 0, 7.0]
    assert referrals["медицинская организация"] == [1, 1, 0, 7.0]
    programmes = table(report, "Участие семей в программах")
    assert programmes["Мобильная библиотека"] == [1, 1]
    assert programmes["«Санаторий на дому»"] == [0, 0]


def test_trainings_and_campaign(app, world):
    report = pilot(app)
    trainings = next(t for t in report.tables if t.title.startswith("Обучение"))
    assert trainings.rows == [
        ["Проведено обучений", 2],
        ["Обучено сотрудников (посещений)", 3],
        ["Обучено сотрудников (человек)", 2],
        ["Обучено волонтёров (посещений)", 3],
        ["Обучено волонтёров (человек)", 2],
    ]
    campaign = table(report, "Информационная кампания по каналам")
    assert campaign["тематический буклет"] == [2, 800, 400]
    assert campaign["рубрика на сайте Учреждения"] == [1, 0, 1200]
    assert campaign["публикация в СМИ"] == [0, 0, 0]
    assert campaign["__total__"] == [3, 800, 1600]


def test_referrals_by_partner_kind_with_the_median_answer_time(app, world):
    """Sent in 2025: school 4, 2 and 10 days to the first answer (median 4), clinic one
    answer in 7 days and one without; the whole median of 2, 4, 7, 10 is 5.5."""
    referrals = table(pilot(app), "Направления партнёрам по типам партнёров")
    assert referrals["образовательная организация"] == [3, 3, 0, 4.0]
    assert referrals["медицинская организация"] == [2, 1, 1, 7.0]
    assert referrals["полиция"] == [0, 0, 0, None]
    assert referrals["__total__"] == [5, 4, 1, 5.5]


def test_median_of_a_histogram():
    assert median([]) is None
    assert median([(3, 1)]) == 3
    assert median([(1, 2), (9, 1)]) == 1
    assert median([(1, 1), (2, 1), (5, 1), (9, 1)]) == 3.5
    assert median([(4, 0), (2, 2), (6, 2)]) == 4


def test_programmes_effectiveness_and_budget(app, world):
    report = pilot(app)
    programmes = table(report, "Участие семей в программах")
    assert programmes["Мобильная библиотека"] == [1, 1]
    assert programmes["«Санаторий на дому»"] == [1, 1]
    assert programmes["__total__"] == [2, 2]
    spread = table(report, "Эффективность по итогам мониторинга")
    assert spread["высокая"] == [1, 33.3] and spread["средняя"] == [1, 33.3]
    assert spread["низкая"] == [0, 0.0] and spread["не оценена"] == [1, 33.3]
    assert spread["__total__"] == [3, 100.0]
    measures = next(t for t in report.tables if t.title == "Бюджет проекта: мероприятия комплекса")
    assert len(measures.rows) == 3 and measures.total[2:] == [
        Decimal("1700000"),
        Decimal("450000.50"),
    ]
    sources = table(report, "Бюджет проекта по источникам финансирования")
    assert sources["грант Фонда поддержки детей"] == [
        Decimal("1200000"),
        Decimal("450000.50"),
        Decimal("749999.50"),
    ]
    assert sources["областной бюджет"] == [Decimal(500000), Decimal(0), Decimal(500000)]
    assert sources["другие источники"] == [0, 0, 0]
    assert sources["__total__"] == [Decimal(1700000), Decimal("450000.50"), Decimal("1249999.50")]


def _plain(value):
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return float(value)
    return None if value == "" else value


def test_the_xlsx_holds_the_same_numbers(app, world):
    """Does the pilot report's .xlsx open in openpyxl with every new table, number for number?"""
    report = pilot(app)
    client = signed_in(app, "coord")
    response = client.get(f"/reports/pilot/xlsx?date_from={FROM}&date_to={TO}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    assert len(book.sheetnames) == len(report.tables)
    for found in report.tables[4:]:
        sheet = book[sheet_title(found.title)]
        expected = [*found.rows, *([found.total] if found.total else [])]
        got = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
        got = [row for row in got if any(v is not None for v in row)]
        assert got == [[_plain(v) for v in row] for row in expected], found.title


def test_the_report_page_shows_the_budget_for_every_role_that_opens_it(app, world):
    for username in ("coord", "worker_a"):
        page = signed_in(app, username).get(f"/reports/pilot/?date_from={FROM}&date_to={TO}")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert "Бюджет проекта по источникам финансирования" in body
        assert "1\u00a0249\u00a0999,50" in body


def test_the_database_holds_the_events_rules(app):
    """A campaign item without a channel, a channel on a club, a negative print run or
    reach, and a negative sum are refused by the database itself."""
    bad = (
        lambda: Event(kind="info_campaign", title="Без канала", held_on=D(2025, 1, 1)),
        lambda: Event(kind="club", title="С каналом", held_on=D(2025, 1, 1), channel="media"),
        lambda: Event(
            kind="info_campaign", title="Т", held_on=FROM, channel="booklet", print_run=-1
        ),
        lambda: Event(kind="info_campaign", title="О", held_on=FROM, channel="website", reach=-5),
        lambda: ProjectMeasure(name="М", funding_source="other", planned=Decimal(-1)),
        lambda: ProjectMeasure(name="М", funding_source="other", planned=1, spent=Decimal(-1)),
    )
    with app.app_context():
        for make in bad:
            db.session.add(make())
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()


def test_one_live_attendance_per_event_and_family(app, world):
    with app.app_context():
        club, family = db.session.get(Event, world["club"]), world["fa"]
        db.session.add(EventAttendance(event=club, family_id=family))
        with pytest.raises(IntegrityError):
            db.session.flush()


def test_the_event_page_shows_participants_within_the_users_scope(app, world):
    """The coordinator sees both families at the club, the district worker only theirs;
    the family's page lists the events it took part in."""
    url = f"/event/details/?id={world['club']}"
    everyone = signed_in(app, "coord").get(url).get_data(as_text=True)
    assert "Алексеевы" in everyone and "Борисовы" in everyone and "Вера" in everyone
    worker = signed_in(app, "worker_a")
    mine = worker.get(url).get_data(as_text=True)
    assert "Алексеевы" in mine and "Борисовы" not in mine and "Вера" not in mine
    family_page = worker.get(f"/family/details/?id={world['fa']}").get_data(as_text=True)
    assert "Семейный клуб «Радуга», 01.05.2025" in family_page
    assert "Экскурсия" not in family_page  # an archived event
    volunteer = signed_in(app, "coord").get(f"/volunteer/details/?id={world['v1']}")
    assert "Обучение 1" in volunteer.get_data(as_text=True)


def _event_form(**kw):
    return {
        "kind": "training",
        "title": "Обучение технологиям сопровождения",
        "held_on": "2025-09-01",
        "organiser": "",
        "description": "",
        "channel": "",
        "print_run": "",
        "reach": "",
        **kw,
    }


def test_the_social_pedagogue_records_events_and_bad_ones_are_refused_in_russian(app, world):
    client = signed_in(app, "pedagogue")
    response = post_form(client, "/event/new/", _event_form(staff=[str(world["s1"])]))
    assert response.status_code == 302
    refused = post_form(
        client, "/event/new/", _event_form(kind="info_campaign", title="Буклет без канала")
    )
    assert refused.status_code == 200
    assert "укажите канал информирования" in refused.get_data(as_text=True)
    refused = post_form(
        client, "/event/new/", _event_form(kind="club", title="Клуб", staff=[str(world["s1"])])
    )
    assert "только на обучение" in refused.get_data(as_text=True)
    refused = post_form(
        client,
        "/event/new/",
        _event_form(kind="info_campaign", title="Листовка", channel="booklet", print_run="-3"),
    )
    assert refused.status_code == 200 and "Листовка" not in _titles(app)
    assert signed_in(app, "psych").get("/event/new/").status_code in (302, 403)
    assert "Обучение технологиям сопровождения" in _titles(app)


def _titles(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(db.select(Event.title)))


def test_a_child_of_another_family_is_refused(app, world):
    client = signed_in(app, "coord")
    with app.app_context():
        vera = db.session.scalars(
            db.select(Person.id).where(Person.family_id == world["fb"], Person.first_name == "Вера")
        ).one()
    response = post_form(
        client,
        "/event_attendance/new/",
        {"event": str(world["club"]), "family": str(world["fa"]), "children": [str(vera)]},
    )
    assert response.status_code == 200
    assert "не ребёнок этой семьи" in response.get_data(as_text=True)


def test_0021_keeps_the_events_and_families_saved_before_it(tmp_path):
    """Does 0021_events move the families saved on events (event_family) to attendance rows,
    give an old campaign item the channel «другое», and bring them back on downgrade?"""
    import flask_migrate
    from conftest import throwaway_database
    from sqlalchemy import text
    from test_migrations import MIGRATIONS, kept_logging

    from app import create_app

    with throwaway_database(tmp_path / "events.sqlite3") as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "m"})
        with app.app_context():
            with kept_logging():
                flask_migrate.upgrade(directory=MIGRATIONS, revision="0016_search")
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO district (id, name) VALUES (1, 'Участок № 1')"))
                for family_id, surname in ((1, "Емельяновы"), (2, "Журавлёвы")):
                    conn.execute(
                        text(
                            "INSERT INTO family (id, surname, district_id, address, is_large, "
                            "is_low_income, is_single_parent, is_foster, is_dangerous, "
                            "identified_by, status, version, created_at, contact_channel) "
                            "VALUES (:id, :surname, 1, 'ул. Садовая, 1', false, "
                            "false, false, false, false, 'self', 'registered', 1, "
                            "CURRENT_TIMESTAMP, 'none')"
                        ),
                        {"id": family_id, "surname": surname},
                    )
                conn.execute(
                    text(
                        "INSERT INTO event (id, kind, title, held_on) VALUES "
                        "(1, 'club', 'Клуб', '2025-02-01'), "
                        "(2, 'info_campaign', 'Буклет', '2025-03-01')"
                    )
                )
                conn.execute(text("INSERT INTO event_family VALUES (1, 1), (1, 2)"))
            with kept_logging():
                flask_migrate.upgrade(directory=MIGRATIONS)
            with db.engine.begin() as conn:
                rows = conn.execute(
                    text("SELECT event_id, family_id FROM event_attendance ORDER BY family_id")
                ).all()
                assert [tuple(r) for r in rows] == [(1, 1), (1, 2)]
                channels = conn.execute(text("SELECT id, channel FROM event ORDER BY id")).all()
                assert [tuple(r) for r in channels] == [(1, None), (2, "other")]
            with kept_logging():
                flask_migrate.downgrade(directory=MIGRATIONS, revision="0016_search")
            with db.engine.begin() as conn:
                rows = conn.execute(text("SELECT event_id, family_id FROM event_family")).all()
                assert sorted(tuple(r) for r in rows) == [(1, 1), (1, 2)]
            db.session.remove()
            db.engine.dispose()
