"""Are the kept district figures always the figures a fresh count gives?

The regional and pilot reports read each district's children figures from
`district_figures` while the district's tally version is unchanged; triggers
bump the version with every change the figures depend on. Each test changes
the data one way (through the ORM or plain SQL) and compares what the reports
read with a count made from scratch.
"""

from __future__ import annotations

import datetime as dt

import factories as f
import pytest
from sqlalchemy import func, select, text, update

from models import DistrictFigures, DistrictTally, Family, Person, db
from models.base import utcnow
from workflows import reports

ON = dt.date(2026, 6, 1)


def fresh() -> dict:
    """Every district's figures counted from scratch, ignoring anything kept."""
    rows = db.session.execute(reports._district_counts(ON)).all()
    return {district: reports._named(values) for district, _version, *values in rows}


def kept() -> dict:
    """What the reports read (and keep), as the coordinator's reports do."""
    figures = reports.district_figures(db.session, ON)
    db.session.commit()
    return figures


def versions() -> dict[int, int]:
    return dict(db.session.execute(select(DistrictTally.district_id, DistrictTally.version)).all())


@pytest.fixture
def world(app_ctx):
    """Districts A and B: a family in each with a mother and children, one of them disabled."""
    a, b = f.district(name="Участок А"), f.district(name="Участок Б")
    fa = f.family(a, surname="Алексеевы", is_low_income=True)
    f.person(fa, "mother")
    child = f.person(fa, "child", birth_date=dt.date(2015, 4, 1))
    f.person(fa, "child", birth_date=dt.date(2012, 5, 1), disability_status="ovz",
             disability_group=None)  # fmt: skip
    fb = f.family(b, surname="Борисовы", is_dangerous=True)
    f.person(fb, "child", birth_date=dt.date(2019, 1, 1), disability_status="none",
             disability_group=None)  # fmt: skip
    db.session.commit()
    assert kept() == fresh()  # counted once and kept
    return {"a": a.id, "b": b.id, "fa": fa.id, "fb": fb.id, "child": child.id}


def test_kept_figures_are_read_without_counting_again(world):
    """While nothing changes, do the reports read the kept rows (not count again)?"""
    a = world["a"]
    db.session.execute(
        update(DistrictFigures).where(DistrictFigures.district_id == a).values(children=99)
    )
    db.session.commit()
    assert kept()[a]["children"] == 99  # the kept row, not a new count
    assert db.session.scalar(select(func.count()).select_from(DistrictFigures)) == 2


def _set(model, row_id: int, **values) -> None:
    row = db.session.get(model, row_id)
    for name, value in values.items():
        setattr(row, name, value)


def person_changes(world):
    child, fb = world["child"], world["fb"]
    return {
        "a new child": lambda: f.person(db.session.get(Family, world["fa"]), "child"),
        "a birth date (now an adult)": lambda: _set(Person, child, birth_date=dt.date(2000, 1, 1)),
        "a child archived": lambda: _set(Person, child, archived_at=utcnow()),
        "a disability": lambda: _set(Person, child, disability_status="ovz", disability_group=None),
        "a relation": lambda: _set(Person, child, relation="guardian"),
        "a child moved to a family of another district": lambda: _set(Person, child, family_id=fb),
    }


def family_changes(world):
    fa = world["fa"]
    return {
        "a family moved to another district": lambda: _set(Family, fa, district_id=world["b"]),
        "a family archived": lambda: _set(Family, fa, archived_at=utcnow()),
        "low income no longer": lambda: _set(Family, fa, is_low_income=False),
        "a dangerous situation": lambda: _set(Family, fa, is_dangerous=True),
        "a new family with a child": lambda: f.person(
            f.family(db.session.get(Family, fa).district), "child"
        ),
    }


@pytest.mark.parametrize(
    "change",
    [
        "a new child",
        "a birth date (now an adult)",
        "a child archived",
        "a disability",
        "a relation",
        "a child moved to a family of another district",
        "a family moved to another district",
        "a family archived",
        "low income no longer",
        "a dangerous situation",
        "a new family with a child",
    ],
)
def test_every_change_is_counted_again(world, change):
    """After a change of a family or a child, do the reports read the new figures?"""
    before = fresh()
    {**person_changes(world), **family_changes(world)}[change]()
    db.session.commit()
    assert fresh() != before, "the change should change a figure"
    assert kept() == fresh()


def test_a_change_recounts_only_its_districts(world):
    """Does a change in district A leave district B's kept figures as they were?"""
    before = versions()
    db.session.get(Person, world["child"]).birth_date = dt.date(2016, 1, 1)
    db.session.commit()
    after = versions()
    assert after[world["a"]] > before.get(world["a"], 0)
    assert after.get(world["b"], 0) == before.get(world["b"], 0)


def test_plain_sql_changes_are_seen(world):
    """Is a change made with plain SQL (not through the panel) counted too?"""
    db.session.execute(
        text("UPDATE family SET is_low_income = :no WHERE id = :id"),
        {"no": False, "id": world["fa"]},
    )
    db.session.commit()
    assert kept() == fresh()
    assert kept()[world["a"]]["low_income_children"] == 0


def test_changes_of_other_columns_bump_nothing(world):
    """Does editing a name or an address (nothing the figures count) keep the figures?"""
    before = versions()
    db.session.get(Person, world["child"]).first_name = "Игорь"
    db.session.get(Family, world["fa"]).address = "ул. Новая, д. 1"
    db.session.commit()
    assert versions() == before


def test_outdated_rows_are_dropped(world):
    """Once recounted, is the row of the old version gone (the table does not grow)?"""
    db.session.get(Person, world["child"]).archived_at = utcnow()
    db.session.commit()
    kept()
    rows = db.session.execute(select(DistrictFigures.district_id, DistrictFigures.version)).all()
    assert len(rows) == 2
    assert dict(rows) == {d: versions().get(d, 0) for d in (world["a"], world["b"])}


def test_a_count_of_an_old_version_is_never_read(world):
    """A report that counted before a change committed keeps its row at the old version:
    is that row ignored afterwards?"""
    a = world["a"]
    old = versions().get(a, 0)
    db.session.get(Person, world["child"]).archived_at = utcnow()
    db.session.commit()
    # A late writer stores figures counted at the old version (before the archive).
    db.session.execute(
        update(DistrictFigures)
        .where(DistrictFigures.district_id == a)
        .values(version=old, children=42)
    )
    db.session.commit()
    assert kept()[a]["children"] == fresh()[a]["children"] == 1


def test_figures_of_each_date_are_kept_apart(world):
    """Are the figures on another date counted for that date (a child born after it)?"""
    later = reports.district_figures(db.session, dt.date(2026, 12, 1))
    f.person(db.session.get(Family, world["fa"]), "child", birth_date=dt.date(2026, 9, 1))
    db.session.commit()
    assert reports.district_figures(db.session, dt.date(2026, 12, 1))[world["a"]]["children"] == (
        later[world["a"]]["children"] + 1
    )
    assert kept() == fresh()  # on ON the new child is not born yet


def test_a_report_counting_while_a_change_is_open(world):
    """A report counts while another user's change is not yet committed (PostgreSQL: they
    run at once): once it commits, do the reports read the new figures?"""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two writers at once need PostgreSQL")
    with db.engine.connect() as other:
        change = other.begin()
        other.execute(
            text("UPDATE person SET archived_at = now() WHERE id = :id"), {"id": world["child"]}
        )
        during = kept()  # counts without the open change and keeps that count
        change.commit()
    assert during[world["a"]]["children"] == 2
    assert kept() == fresh()
    assert kept()[world["a"]]["children"] == 1
