"""An expired session never eats what was typed: the browser's side of form drafts.

A POST to a panel form that arrives when its session has ended — expired, revoked, or
with the CSRF session token gone with it — is not refused empty-handed. `keep_typed`
keeps the submitted fields as a draft for the user of that session (workflows/drafts.py),
gives the browser the draft's key in an HttpOnly cookie and sends it to the sign-in page
with a calm Russian message. Nothing of the form is saved.

After the same user signs in, `claim_at_sign_in` sends them to the form's page, and on
that GET `restore` hands the fields back once: they become the request's form data
(`request.form`, which the hand-drawn pages render from), and the first WTForms form
whose fields they fit — a Flask-Admin create or edit form, a page's form — is filled
from them (`FilledFromDraft`, in the Meta of every form). The form is never submitted
by itself. Another user signing in on that browser makes the draft vanish unseen.

What is never kept: the CSRF token, any field whose name says password or secret,
files, the buttons' own names (`_add_another`), and anything sent to the sign-in and
password pages. A draft only returns to a page of the panel (a path this app answers
with GET, never another site or the sign-in page), and a form sent from another site
(its Origin or Referer says so) keeps nothing. Nothing here logs a field.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import (
    Flask,
    before_render_template,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user
from itsdangerous import BadData
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from models import db
from models.drafts import MAX_DRAFT_PATH
from workflows.drafts import (
    DRAFT_LIFETIME,
    DraftTooLarge,
    Fields,
    claim_draft,
    keep_draft,
    session_owner,
    take_draft,
)

COOKIE = "opora_draft"
# Where a new (signed-out) session keeps the id of the session that ended before it.
ENDED_KEY = "_ended_session"
KEPT = "Сеанс истёк. Войдите снова — введённое сохранено и будет подставлено в форму."
TOO_LARGE = (
    "Сеанс истёк. Введённый текст слишком велик, чтобы сохранить его до входа: войдите "
    "снова и введите его ещё раз (скопируйте его, если страница с ним ещё открыта)."
)
RESTORED = "Восстановлено то, что вы ввели до истечения сеанса. Проверьте и сохраните."
# The refusals of Flask-WTF that mean «the session this form belonged to has ended»: the
# session (and its token) is gone or too old to read…
ENDED_SESSION_REASONS = frozenset(
    {"The CSRF session token is missing.", "The CSRF token has expired."}
)
# …or a new session (a sign-in page or a new sign-in in another tab) replaced it, so the
# token of the older page does not match the new session's.
REPLACED_SESSION_REASON = "The CSRF tokens do not match."
# Pages whose forms are never kept, whatever their fields are called.
NEVER_KEPT_BLUEPRINTS = ("auth",)
NEVER_KEPT_ENDPOINTS = frozenset({"healthz", "static", "admin.static"})
# The tables' buttons and pickers: a press, not typing (a row's «Удалить», a bulk action).
NEVER_KEPT_VIEWS = frozenset({"delete_view", "action_view", "ajax_lookup", "ajax_update"})
SECRET_NAME = re.compile(r"passw|passwd|pwd|пароль|secret|token|csrf", re.IGNORECASE)
UNSAFE_PATH = re.compile(r"[\x00-\x20\x7f\\]")


# --- what is kept ---------------------------------------------------------------------


def kept_fields(form) -> Fields:
    """The fields of `form` a draft keeps, in the order sent: not the CSRF token, not a
    password or anything secret by its name, not a button's own name; files are not in
    `request.form` at all."""
    return [
        (name, value)
        for name, value in form.items(multi=True)
        if not name.startswith("_") and not SECRET_NAME.search(name)
    ]


def current_page() -> str:
    """This request's path and query string, as a draft's page is written."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def panel_page(target: str | None) -> bool:
    """Is `target` a page of this panel a draft may return to: a local path (no scheme,
    host, '//' or backslash) that this app answers with GET, outside the sign-in pages?"""
    if not target or len(target) > MAX_DRAFT_PATH or not target.startswith("/"):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//") or UNSAFE_PATH.search(target):
        return False
    try:
        endpoint, _args = current_app.url_map.bind(request.host).match(parts.path, method="GET")
    except HTTPException:  # no such page, no GET there, or a redirect elsewhere
        return False
    return _may_keep(endpoint)


def _may_keep(endpoint: str | None) -> bool:
    if not endpoint or endpoint in NEVER_KEPT_ENDPOINTS:
        return False
    blueprint, _dot, view = endpoint.partition(".")
    return blueprint not in NEVER_KEPT_BLUEPRINTS and view not in NEVER_KEPT_VIEWS


def return_page() -> str | None:
    """The page the form is shown on again: where it was posted, or — for an address that
    takes POST only — the page of this panel it was sent from (its Referer)."""
    posted = current_page()
    if panel_page(posted):
        return posted
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host:
        page = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        if panel_page(page):
            return page
    return None


def same_site() -> bool:
    """Was the form sent from a page of this panel (or by a client that says nothing)?
    A form another site made a browser send keeps nothing."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.host
    if request.referrer:
        return urlsplit(request.referrer).netloc == request.host
    return origin is None


def ended_session_token() -> str | None:
    """The session id the browser's session cookie names, even if the session has ended.

    Within the idle timeout Flask has read it; past it, Flask no longer reads the cookie
    (its signed timestamp is too old) but the browser still sends it (it keeps the cookie
    for the absolute lifetime, see `SessionCookie` in auth.py): its signature is checked
    here without the age, so it is this panel's own cookie and names whose session it was.
    """
    for key in ("_user_id", ENDED_KEY):
        token = session.get(key)
        if isinstance(token, str):
            return token
    raw = request.cookies.get(current_app.config.get("SESSION_COOKIE_NAME", "session"))
    interface = current_app.session_interface
    signer = getattr(interface, "get_signing_serializer", None)
    serializer = signer(current_app) if raw and signer else None
    if serializer is None:
        return None
    lifetime = current_app.config["SESSION_ABSOLUTE_LIFETIME"]
    try:
        data = serializer.loads(raw, max_age=int(lifetime.total_seconds()))
    except BadData:
        return None
    token = data.get("_user_id") if isinstance(data, dict) else None
    return token if isinstance(token, str) else None


def remember_ended_session() -> None:
    """A page opened after the session ended (the user goes on in another tab, then sends
    the form of the first): the new cookie Flask is about to write keeps the ended session's
    id, so that form still names its user."""
    if ENDED_KEY not in session:
        token = ended_session_token()
        if token:
            session[ENDED_KEY] = token


def keep_typed(signed_in_again: bool = False) -> Response | None:
    """For a POST whose session has ended: keep what was typed for the user of that
    session and answer with the way to get it back — the sign-in page, or, when
    `signed_in_again` (the user signed in anew in another tab), the form's page. None when
    this is no such POST or the form cannot be kept (no session names its user, a live
    session sent it, another site did, a sign-in page, no page to return to); the caller
    answers as it would have."""
    if request.method != "POST" or not _may_keep(request.endpoint) or not same_site():
        return None
    if current_user.is_authenticated and not signed_in_again:
        return None
    token = ended_session_token()
    owner = session_owner(db.session, token) if token else None
    if current_user.is_authenticated and owner != current_user.id:
        return None
    page = return_page() if owner is not None else None
    fields = kept_fields(request.form) if page is not None else []
    if owner is None or page is None or not fields:
        return None
    signed_in = current_user.is_authenticated and current_user.id == owner
    try:
        key = keep_draft(db.session, owner, page, fields, replacing=request.cookies.get(COOKIE))
    except DraftTooLarge:
        flash(TOO_LARGE, "error")
        return redirect(page if signed_in else url_for("auth.login", next=page))
    if signed_in:  # a form of an older sign-in, sent after a new one in another tab
        response = redirect(page)
    else:
        flash(KEPT, "info")
        response = redirect(url_for("auth.login", next=page))
    response.set_cookie(
        COOKIE,
        key,
        max_age=int(DRAFT_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


# --- giving it back -------------------------------------------------------------------


def claim_at_sign_in(user_id: int) -> str | None:
    """Just signed in: the page of this browser's draft if it is `user_id`'s; a draft of
    another user is deleted unseen."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    page = claim_draft(db.session, token, user_id)
    if page is None or not panel_page(page):
        g.drop_draft_cookie = True
        return None
    return page


def restore() -> None:
    """before_request: a signed-in user opening the page of their draft gets its fields
    as this GET's form data, once, with a notice to check them and save."""
    token = request.cookies.get(COOKIE)
    if not token or request.method != "GET" or not current_user.is_authenticated:
        return
    if not _may_keep(request.endpoint):
        return
    taken = take_draft(db.session, token, current_user.id, current_page())
    if taken.gone:
        g.drop_draft_cookie = True
    if taken.fields is None:
        return
    request.form = ImmutableMultiDict(taken.fields)  # this GET carries the draft as its form
    g.draft_restored = True
    flash(RESTORED, "info")


def drop_spent_cookie(response: Response) -> Response:
    """after_request: the draft cookie goes once its key names nothing."""
    if g.get("drop_draft_cookie"):
        response.delete_cookie(
            COOKIE,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def _belongs(key: str, names: set[str]) -> bool:
    """Is the posted `key` one of these fields, or a part of one (Flask-Admin's inline
    rows and lists post «members-0-name», and «del-members-0» to drop a row)?"""
    if key in names:
        return True
    stem = key.removeprefix("del-")
    return any(stem.startswith(f"{name}-") for name in names)


class FilledFromDraft:
    """A form Meta: on the GET that restores a draft, the first form built without form
    data whose fields the draft's all fit is filled from it, as if it had been sent back
    refused — the user sees their text and saves it themselves."""

    def wrap_formdata(self, form, formdata):
        formdata = super().wrap_formdata(form, formdata)  # the next Meta of the form
        if formdata is not None or not has_request_context() or not g.get("draft_restored"):
            return formdata
        if g.get("draft_form") is not None:
            return formdata
        names = {field.name for field in form}
        if names and all(_belongs(key, names) for key in request.form):
            g.draft_form = form
            return request.form
        return formdata


def draft_filled() -> bool:
    """Has a form of this request been filled from a restored draft?"""
    return has_request_context() and g.get("draft_form") is not None


def _fill_again(_sender, **_context) -> None:
    """before_render_template: a page may set its defaults (today's date, the case's lead
    worker) on a form after building it; the fields the draft holds are read from it once
    more just before the page is drawn, so what the user typed wins."""
    form = g.get("draft_form") if has_request_context() else None
    if form is None or g.get("draft_filled_again"):
        return
    g.draft_filled_again = True
    for field in form:
        if field.name in request.form:  # whole fields only: an inline list keeps its rows
            field.process(request.form)


def init_drafts(app: Flask) -> None:
    """Register the hooks; after the sign-in check, so the user is known."""
    app.before_request(restore)
    app.after_request(drop_spent_cookie)
    before_render_template.connect(_fill_again, app)
