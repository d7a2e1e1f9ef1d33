"""A second app beside the suite's: on another database URL, or with routes a test adds.

Routes can only be added before an app's first request, and the suite's app has served
many; a test that needs a route of its own (a provoked 500) builds a variant here.
"""

from __future__ import annotations

from contextlib import contextmanager

from app import create_app
from models import db

SECRET_KEY = "test-secret"  # the suite's: a session cookie of one app opens the other


@contextmanager
def variant_app(database_uri: str, routes=(), **config):
    """create_app on `database_uri` with `routes` ((rule, view function) pairs) added."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri, "SECRET_KEY": SECRET_KEY, **config})
    for rule, view in routes:
        app.add_url_rule(rule, view.__name__, view, methods=["GET", "POST"])
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
