"""One logging set-up for the panel: JSON lines an operator can ship, with no personal data.

Every line is one JSON object: time, level, logger, message and — within a request — the
request id, the method, the route (the URL rule, «/family/edit/»), the endpoint and the
signed-in user's id. The app writes one access line per request itself (`AccessLog`),
with the status and the duration.

What a line never carries: a query string (the intake search sends the SNILS and the
surname in it, the list search its words), form data, names, addresses. Only the fields
named in `JsonFormatter.CONTEXT` are copied from a record, so an `extra=` that carries a
person cannot slip through. PostgreSQL's DETAIL lines («Key (snils)=(…) already
exists», «Failing row contains (…)») are cut from messages and tracebacks; SQL
parameters are hidden by the engine itself (`hide_parameters` in app.py).

The standard library does it all: a formatter of thirty lines that copies a fixed list of
fields is easier to audit for 152-ФЗ than a library whose point is to copy every extra.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, g, has_app_context, has_request_context, request
from sqlalchemy import inspect

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the balancer is kept if it is plain: no spaces, quotes or control characters
# (it is echoed in a header and written to the log as is).
WELL_FORMED_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
ENVIRON_ID = "opora.request_id"
ENVIRON_FIELDS = "opora.log_fields"
HANDLER_NAME = "opora-json"

# PostgreSQL explains a refusal with the offending values; those are personal data.
DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)
QUERY_STRING = re.compile(r"\?[^\s\"']*")

access_logger = logging.getLogger("opora.access")


def redact(text: str) -> str:
    """The text with PostgreSQL's DETAIL lines (which quote row values) cut."""
    return DETAIL.sub(r"\1 (скрыто)", text)


def request_id_for(incoming: str | None) -> str:
    """The balancer's X-Request-ID if well-formed, else a new one."""
    if incoming and WELL_FORMED_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _loaded_user_id() -> int | None:
    # Only a user this request has already loaded, and its id read from the identity map:
    # after a commit the row is expired, and reading an attribute would query the
    # database (which may be the very thing that failed).
    user = g.get("_login_user") if has_app_context() else None
    state = inspect(user, raiseerr=False) if user is not None else None
    if state is None or not state.identity:
        return None  # anonymous: not a mapped row
    return state.identity[0]


def request_fields() -> dict:
    """What the log may say about the current request: ids and the route, never the URL."""
    if not has_request_context():
        return {}
    rule = request.url_rule
    return {
        "request_id": request.environ.get(ENVIRON_ID),
        "method": request.method,
        "route": rule.rule if rule is not None else None,
        "endpoint": request.endpoint,
        "user_id": _loaded_user_id(),
    }


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with only the fields listed here."""

    CONTEXT = ("request_id", "method", "route", "endpoint", "status", "duration_ms", "user_id")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        try:
            context = request_fields()
        except Exception:  # a line is written without its context rather than not at all
            context = {}
        for key in self.CONTEXT:
            value = getattr(record, key, None)
            if value is None:
                value = context.get(key)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test's capture, a redirect)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class DevServerRequestLines(logging.Filter):
    """Werkzeug's development server logs each request line with its query string
    («GET /intake/?snils=…»): the app's own access line replaces it, and any other
    line of that server loses its query strings."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.endswith('"%s" %s %s'):
            return False
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = QUERY_STRING.sub("", message), ()
        return True


class AccessLog:
    """WSGI middleware around the app: a request id for every request (echoed in the
    X-Request-ID header) and one access line once the app has answered.

    It sits outside Flask so that the line is written even when an after_request hook or
    an error handler failed; if an exception escapes the app, the client gets a calm
    Russian page from here rather than the WSGI server's bare «Internal Server Error»
    (whose log line would carry the query string).
    """

    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_ID] = request_id
        started = time.perf_counter()
        answered: list[int] = []

        def start(status: str, headers, exc_info=None):
            answered.append(int(status.split(" ", 1)[0]))
            headers = [(k, v) for k, v in headers if k.lower() != REQUEST_ID_HEADER.lower()]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, start)
        except Exception:
            propagate = self.app.config.get("PROPAGATE_EXCEPTIONS")
            if propagate or (propagate is None and (self.app.testing or self.app.debug)):
                raise
            if answered:  # the response has begun: only the server can end it now
                raise
            access_logger.exception("unhandled error", extra={"request_id": request_id})
            return last_resort_page(start, sys.exc_info())
        finally:
            fields = environ.get(ENVIRON_FIELDS) or {}
            status = answered[0] if answered else 500
            method = environ.get("REQUEST_METHOD", "-")
            access_logger.info(
                "%s %s %s",
                method,
                fields.get("route") or "-",
                status,
                extra={
                    **fields,
                    "request_id": request_id,
                    "method": method,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )


LAST_RESORT = (
    "<!DOCTYPE html><html lang='ru'><head><meta charset='UTF-8'><title>Ошибка — Опора</title>"
    "</head><body><h1>Опора</h1><p>Что-то пошло не так. Изменения не сохранены; "
    "попробуйте ещё раз через минуту.</p><p><a href='/'>На главную</a></p></body></html>"
).encode()


def last_resort_page(start_response, exc_info):
    start_response(
        "500 INTERNAL SERVER ERROR",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(LAST_RESORT)))],
        exc_info,
    )
    return [LAST_RESORT]


def _remember_request(_exc) -> None:
    # Teardown runs on every request, failed or not: the access line (written by
    # AccessLog after the request context is gone) takes the route and user from here.
    request.environ[ENVIRON_FIELDS] = request_fields()


def configure_logging(level: str | int = "INFO", log_file: str | None = None) -> None:
    """JSON lines on stderr (and to `log_file` if given) for every logger; idempotent."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() in (HANDLER_NAME, f"{HANDLER_NAME}-file"):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [StderrHandler()]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler, name in zip(handlers, (HANDLER_NAME, f"{HANDLER_NAME}-file"), strict=False):
        handler.set_name(name)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, DevServerRequestLines) for f in werkzeug.filters):
        werkzeug.addFilter(DevServerRequestLines())


def init_logging(app: Flask) -> None:
    """Log as JSON lines, one access line per request, a request id in every response.

    OPORA_LOG_LEVEL sets the level (INFO); OPORA_LOG_FILE also appends the lines to a file.
    """
    configure_logging(
        os.environ.get("OPORA_LOG_LEVEL", "INFO").upper(), os.environ.get("OPORA_LOG_FILE")
    )
    app.teardown_request(_remember_request)
    app.wsgi_app = AccessLog(app, app.wsgi_app)
