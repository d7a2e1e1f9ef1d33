"""Does the suite's own machinery do what the other tests rely on?

After each test every table is empty and the ids start again at 1, as in a fresh
database (conftest.empty_every_table); kept data is built once while nothing
writes (conftest.kept), which only holds if every write is counted.
"""

from __future__ import annotations

import factories as f
from conftest import Writes, _filled_tables, empty_every_table
from sqlalchemy import select

from models import AuditRecord, District, db


def test_writes_are_counted_and_reads_are_not(app_ctx):
    """Does a SELECT leave the write count alone, and an INSERT raise it?"""
    before = Writes.count
    db.session.scalars(select(District)).all()
    assert Writes.count == before
    f.district()
    assert Writes.count > before


def test_emptying_leaves_no_row_and_restarts_the_ids(app):
    """After rows in many tables (the append-only audit trail among them), does
    emptying leave every table empty, with the next row numbered 1 again?"""
    with app.app_context():
        fam, mother, _child = f.family_with_members()
        f.case(fam, mother)
        f.audit_record()
        db.session.commit()
        assert db.session.scalar(select(District.id)) > 0
        assert len(_filled_tables(db.session)) >= 5
    empty_every_table(app)
    with app.app_context():
        assert _filled_tables(db.session) == []
        assert f.district().id == 1
        assert min(db.session.scalars(select(AuditRecord.id))) == 1  # the district's insert
        db.session.rollback()


def test_kept_data_is_built_once(app, kept):
    """Does asking twice for the same kept data build it only once?"""
    built = []

    def build():
        with app.app_context():
            row = f.district()
            db.session.commit()
            built.append(row.id)
            return row.id

    first = kept("test_suite_helpers", build)
    assert kept("test_suite_helpers", build) == first
    assert built == [first]
    with app.app_context():
        assert db.session.scalars(select(District.id)).all() == [first]
