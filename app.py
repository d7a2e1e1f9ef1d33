"""Opora: the working tool of a complex social service centre.

create_app() wires configuration, extensions, the admin panel and the CLI;
everything else lives in models/, admin_views/, workflows/ and seed/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import secrets
from pathlib import Path

from flask import Flask, current_app, g, jsonify, make_response, request
from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from admin_views.documents import FILE_TOO_LARGE, UPLOAD_ENDPOINT
from admin_views.logs import ENVIRON_ID, init_logging
from models import db, use_trigram_indexes
from models.audit import install_audit
from models.guards import install_closed_case_guard
from workflows.storage import S3_SETTINGS, document_store

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
    # The centre's requisites under its name on printed letters (the referral letter);
    # a line left empty is not printed.
    CENTRE_ADDRESS = os.environ.get("OPORA_CENTRE_ADDRESS", "")
    CENTRE_PHONE = os.environ.get("OPORA_CENTRE_PHONE", "")
    CENTRE_EMAIL = os.environ.get("OPORA_CENTRE_EMAIL", "")
    CENTRE_HEAD = os.environ.get("OPORA_CENTRE_HEAD", "")
    # hide_parameters: a traceback or an engine log line shows the SQL, never the values
    # bound to it (a SNILS, a surname, an address).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("OPORA_TIMEZONE", "Europe/Moscow")
    FLASK_ADMIN_SWATCH = "default"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PRODUCTION
    REMEMBER_COOKIE_SECURE = PRODUCTION
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # A request body larger than this is refused (413): the widest form, every text at its
    # 5,000-character limit and URL-encoded, stays far below it.
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    # SQLite has one writer at a time: a save waits this long for another process's
    # write to end before it is refused («База данных занята, попробуйте ещё раз»).
    SQLITE_BUSY_TIMEOUT = float(os.environ.get("OPORA_SQLITE_BUSY_TIMEOUT", "15"))
    # A session ends this long after sign-in however busy (idle: 30 minutes).
    SESSION_ABSOLUTE_LIFETIME = dt.timedelta(
        hours=float(os.environ.get("OPORA_SESSION_HOURS", "12"))
    )
    # Messages to families (workflows/delivery.py): a channel left unconfigured goes to
    # the call list «Звонки на сегодня».
    OPORA_SMTP_HOST = os.environ.get("OPORA_SMTP_HOST", "")
    OPORA_SMTP_PORT = int(os.environ.get("OPORA_SMTP_PORT", "25") or 25)
    OPORA_SMTP_USER = os.environ.get("OPORA_SMTP_USER", "")
    OPORA_SMTP_PASSWORD = os.environ.get("OPORA_SMTP_PASSWORD", "")
    OPORA_SMTP_FROM = os.environ.get("OPORA_SMTP_FROM", "")
    OPORA_SMS_URL = os.environ.get("OPORA_SMS_URL", "")
    OPORA_SMS_TOKEN = os.environ.get("OPORA_SMS_TOKEN", "")


# Calm Russian words for every refusal the panel can answer with.
ERROR_PAGES = {
    400: (
        "Запрос не принят",
        "В запросе ошибка. Вернитесь на предыдущую страницу и попробуйте ещё раз.",
    ),
    403: ("Нет доступа", "У вашей роли нет доступа к этой странице."),
    404: ("Не найдено", "Такой страницы или записи нет."),
    405: (
        "Действие недоступно",
        "Эта страница не принимает такой запрос. Вернитесь назад и воспользуйтесь кнопками страницы.",
    ),
    413: (
        "Слишком большой объём",
        "Отправлено слишком много данных. Сократите текст и отправьте форму ещё раз.",
    ),
    500: ("Ошибка", "Что-то пошло не так. Изменения не сохранены; попробуйте ещё раз."),
    503: (
        "База данных недоступна",
        "База данных сейчас не отвечает. Изменения не сохранены; попробуйте ещё раз через минуту.",
    ),
}
FORM_EXPIRED = (
    "Форма устарела",
    "Форма была открыта слишком долго или сеанс завершился. Вернитесь назад, обновите "
    "страницу и отправьте форму ещё раз.",
)


def database_unavailable(error: BaseException) -> bool:
    """Is this the database not answering (down, unreachable, locked), not a refused value?"""
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or isinstance(
            error, (sa_exc.OperationalError, sa_exc.InterfaceError)
        )
    return isinstance(error, sa_exc.TimeoutError)  # no free connection in the pool


def error_page(code: int, title: str, message: str):
    # Rendered from the Jinja environment itself, past the context processors: Flask-Login's
    # would look the user up, and the page must need neither a user nor the database.
    page = current_app.jinja_env.get_template("errors/error.html").render(
        title=title, message=message, request_id=request.environ.get(ENVIRON_ID)
    )
    return make_response(page, code)


def http_error(error: HTTPException):
    """Werkzeug's refusals (400 and a refused CSRF token, 403, 404, 405, 413…) in Russian."""
    if error.code is None or error.code < 400:
        return error
    if isinstance(error, CSRFError):
        kept = _keep_typed(error)
        if kept is not None:
            return kept
        title, message = FORM_EXPIRED
    elif error.code == 413 and request.endpoint == UPLOAD_ENDPOINT:
        title, message = FILE_TOO_LARGE  # a document, not a text, was too much
    else:
        title, message = (
            ERROR_PAGES.get(error.code) or ERROR_PAGES[400 if error.code < 500 else 500]
        )
    response = error_page(error.code, title, message)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # Allow of a 405, WWW-Authenticate of a 401
    return response


def _keep_typed(error: CSRFError):
    """A form whose session ended with its CSRF session token: what was typed is kept for
    its user to find after signing in (admin_views/drafts.py), when the session names them."""
    from admin_views.drafts import ENDED_SESSION_REASONS, REPLACED_SESSION_REASON, keep_typed

    replaced = error.description == REPLACED_SESSION_REASON
    if error.description not in ENDED_SESSION_REASONS and not replaced:
        return None
    try:
        return keep_typed(signed_in_again=replaced)
    except sa_exc.SQLAlchemyError as exc:  # the database cannot keep it: refused as before
        db.session.rollback()
        current_app.logger.error("form draft not kept", exc_info=exc)
        return None


def database_error(error: sa_exc.SQLAlchemyError):
    """The database down or unreachable: a Russian 503 (any other database error goes on
    to the 500 page, logged by Flask, or to the test that provoked it)."""
    if not database_unavailable(error):
        raise error
    current_app.logger.error("database unavailable", exc_info=error)
    # The user cannot be loaded without the database: the hooks after this one
    # (security headers) must not try again.
    if "_login_user" not in g:
        g._login_user = current_app.login_manager.anonymous_user()
    response = error_page(503, *ERROR_PAGES[503])
    response.headers["Retry-After"] = "60"
    return response


def server_error(error):
    """An unhandled exception; the database behind it answers 503 as above."""
    original = getattr(error, "original_exception", None)
    if original is not None and database_unavailable(original):
        return database_error(original)
    # A failed flush leaves the session unusable, and the hooks after this one (the
    # security headers ask who is signed in) would fail on it: the page lost them. If the
    # rollback fails too, the page is still answered; the session is discarded at teardown.
    with contextlib.suppress(sa_exc.SQLAlchemyError):
        db.session.rollback()
    return error_page(500, *ERROR_PAGES[500])


def init_error_pages(app: Flask) -> None:
    for code in ERROR_PAGES:
        app.register_error_handler(code, server_error if code == 500 else http_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(CSRFError, http_error)
    app.register_error_handler(sa_exc.DBAPIError, database_error)
    app.register_error_handler(sa_exc.TimeoutError, database_error)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="admin_views/templates",
        static_folder="static",
        instance_path=str(HERE / "instance"),
    )
    init_logging(app)  # first: start-up's own messages are JSON lines too
    # JSON in UTF-8 (the pages' filter data, the pickers' answers): Cyrillic as it is,
    # not six bytes of \\uXXXX a letter. `tojson` still escapes <, >, & and '.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    Path(app.instance_path).mkdir(exist_ok=True)
    app.config.from_object(Config)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
    app.config["SECRET_KEY"] = secret_key(Path(app.instance_path))
    if config:
        app.config.update(config)
    # The document store: instance/documents, or an S3 bucket when one is configured.
    for name in (*S3_SETTINGS, "OPORA_DOCUMENTS_DIR"):
        app.config.setdefault(name, os.environ.get(name) or None)
    app.extensions["document_store"] = document_store(
        app.config, Path(app.instance_path) / "documents"
    )
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
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {
            **options.get("connect_args", {}),
            "timeout": app.config["SQLITE_BUSY_TIMEOUT"],
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
    babel.init_app(app)  # BABEL_DEFAULT_LOCALE: the panel speaks Russian only
    from admin_views.documents import allow_uploads

    allow_uploads(app)  # before CSRFProtect, which reads the form first
    csrf.init_app(app)

    from admin_views import init_admin
    from admin_views.auth import init_auth
    from admin_views.forms import IdConverter
    from seed.cli import init_seed_cli
    from workflows.commands import init_commands

    app.url_map.converters["int"] = IdConverter  # before any route is added
    init_auth(app)
    init_admin(app)
    init_seed_cli(app)
    init_commands(app)
    init_error_pages(app)  # after init_auth: these replace its 403/404/500 pages

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
