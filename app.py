"""Opora: the working tool of a complex social service centre.

create_app() wires configuration, extensions, the admin panel and the CLI;
everything else lives in models/, admin_views/, workflows/ and seed/.
"""

from __future__ import annotations

import gc
import os
import secrets
from pathlib import Path

from flask import Flask, jsonify, request, session
from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from models import db, use_trigram_indexes
from models.audit import install_audit
from models.guards import install_closed_case_guard

HERE = Path(__file__).resolve().parent
LANGUAGES = {"ru": "Русский", "en": "English"}

babel = Babel()
csrf = CSRFProtect()
migrate = Migrate()


def database_url() -> str:
    """DATABASE_URL, with the psycopg 3 driver named; an SQLite file otherwise."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{HERE / 'instance' / 'opora.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment; in development a key kept in instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if os.environ.get("OPORA_ENV") == "production":
        raise RuntimeError("SECRET_KEY must be set in production.")
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    PRODUCTION = os.environ.get("OPORA_ENV") == "production"
    CENTRE_NAME = os.environ.get(
        "OPORA_CENTRE_NAME", "Комплексный центр социального обслуживания населения"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("OPORA_TIMEZONE", "Europe/Moscow")
    FLASK_ADMIN_SWATCH = "default"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PRODUCTION
    REMEMBER_COOKIE_SECURE = PRODUCTION
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session


def select_locale() -> str:
    return session.get("lang") or request.accept_languages.best_match(["ru"]) or "ru"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="admin_views/templates",
        static_folder="static",
        instance_path=str(HERE / "instance"),
    )
    Path(app.instance_path).mkdir(exist_ok=True)
    app.config.from_object(Config)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
    app.config["SECRET_KEY"] = secret_key(Path(app.instance_path))
    if config:
        app.config.update(config)
    proxies = int(os.environ.get("OPORA_PROXY_COUNT", "0"))
    if proxies:
        # Behind a balancer: the client's address (for the sign-in throttle and
        # the audit trail) and scheme come from X-Forwarded-* set by N proxies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        use_trigram_indexes()  # models/search.py: substring search served by pg_trgm
        # The data fits in memory (or on SSD): a random read costs little more than a
        # sequential one. With the default 4.0 the planner scans a whole table to
        # avoid a few hundred index lookups (a district worker's families).
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        cost = os.environ.get("OPORA_PG_RANDOM_PAGE_COST", "1.1")
        options["connect_args"] = {
            **options.get("connect_args", {}),
            "options": f"-c random_page_cost={float(cost)}",
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    install_audit(Session)
    install_closed_case_guard(Session)
    migrate.init_app(
        app,
        db,
        directory=str(HERE / "models" / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)

    from admin_views import init_admin
    from admin_views.auth import init_auth
    from seed.cli import init_seed_cli
    from workflows.commands import init_commands

    init_auth(app)
    init_admin(app)
    init_seed_cli(app)
    init_commands(app)

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
            database = True
        except Exception:  # any failure means «the database does not answer»
            db.session.rollback()
            database = False
        return jsonify(status="ok" if database else "degraded", database=database)

    # What start-up built (modules, mappers, views, templates' code) lives as long as the
    # process: kept out of the garbage collector's full passes, which otherwise walk it all
    # and stall a request for ~70 ms every dozen large pages (measured on the board).
    gc.freeze()
    return app
