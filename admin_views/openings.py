"""«This request opened X's personal or health data»: the one way a page says so.

Every page that shows one row's personal or health data — a family's, a person's or a
case's details and edit pages, an assessment's and a visit's, the case's assessment
step, the ИПСС and its print, the intake family page, the rental desk's family page and
the act — calls `record_opening` as soon as it has the row, so the audit trail names
who opened which row on which page (152-ФЗ asks who read special-category data, not
only who changed it). A POST is a change, recorded by the audit's flush hook; the
GET that showed the page recorded the reading.

Called as soon as the page has the row. Its commit keeps what the session holds (the
signed-in user, the row): only the audit row was written, so nothing loaded before it
is stale, and reading each again would cost the page a query apiece.
"""

from __future__ import annotations

from flask import request
from sqlalchemy import inspect

from models import db
from models.audit import record_event


def record_opening(row) -> None:
    """One «view» row in the audit trail: the signed-in user (from the audit's actor),
    the page (the request's endpoint) and `row` (its table and key); committed at once,
    so that a page failing later still leaves the reading recorded. Only a GET reads."""
    if request.method != "GET":
        return
    key = ",".join(str(v) for v in inspect(row).mapper.primary_key_from_instance(row))
    record_event(db.session, "view", row.__tablename__, key, changes={"page": request.endpoint})
    session = db.session()
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring
