"""Sign-in, sign-out and own password: the pages around the panel."""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from models import User, audit
from models.accounts import MIN_PASSWORD_LENGTH
from workflows.accounts import (
    IDLE_TIMEOUT,
    PasswordRefused,
    SignInError,
    authenticate,
    change_password,
    new_session_token,
    open_session,
    session_user,
    sign_out,
)

from .drafts import claim_at_sign_in, init_drafts, keep_typed, remember_ended_session
from .forms import PageForm

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Войдите, чтобы продолжить."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

OPEN_ENDPOINTS = {"auth.login", "healthz", "static", "admin.static"}
# What a user whose password the administrator set may still reach.
TEMPORARY_PASSWORD_ENDPOINTS = {"auth.password", "auth.logout"}
HSTS = "max-age=31536000; includeSubDomains"


class SessionCookie(SecureCookieSessionInterface):
    """Flask's signed cookie session, whose cookie the browser keeps for the session's
    absolute lifetime while the server reads it only within the idle timeout
    (PERMANENT_SESSION_LIFETIME: its signed timestamp must be younger).

    Past the idle timeout the cookie opens nothing, but it still names whose session
    ended, so a form sent then is kept for that user to find after signing in again
    (admin_views/drafts.py) instead of arriving with no session at all."""

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> dt.datetime | None:
        if not session.permanent:
            return None
        lifetime: dt.timedelta = app.config["SESSION_ABSOLUTE_LIFETIME"]
        return dt.datetime.now(dt.UTC) + lifetime


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The user of the session the cookie names (session or remember-me), if it
    is alive in the database — one lookup, the same answer on every server."""
    return session_user(token, current_app.config["SESSION_ABSOLUTE_LIFETIME"])


class LoginForm(PageForm):
    username = StringField("Логин", validators=[DataRequired("Введите логин."), Length(max=64)])
    password = PasswordField(
        "Пароль", validators=[DataRequired("Введите пароль."), Length(max=256)]
    )


class PasswordForm(PageForm):
    current = PasswordField("Текущий пароль", validators=[DataRequired("Введите текущий пароль.")])
    new = PasswordField(
        "Новый пароль",
        validators=[
            DataRequired("Введите новый пароль."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=256,
                message=f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов.",
            ),
        ],
    )
    repeat = PasswordField(
        "Новый пароль ещё раз",
        validators=[EqualTo("new", message="Пароли не совпадают.")],
    )


def safe_next(target: str | None) -> str:
    """Only paths inside the panel: no scheme, no host, no protocol-relative '//'."""
    if not target:
        return url_for("admin.index")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return url_for("admin.index")
    return target


def client_ip() -> str:
    return request.remote_addr or "unknown"


def _start_session(user: User, signing_in: bool) -> None:
    """A new server-side session for this browser; Flask-Login keeps its id."""
    user.session_token = new_session_token()
    login_user(user)  # first: the audit then names the user for the writes below
    open_session(user, user.session_token, client_ip(), request.user_agent.string, signing_in)
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    if request.method == "GET":
        remember_ended_session()  # a form of the ended session may still arrive
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, client_ip())
        except SignInError as exc:
            error = str(exc)
        else:
            session.clear()  # a new session at sign-in
            _start_session(user, signing_in=True)
            # What the user typed when the session ended waits on its form's page.
            return redirect(claim_at_sign_in(user.id) or safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sign_out(current_user)
    logout_user()
    session.clear()
    flash("Вы вышли из системы.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    temporary = current_user.must_change_password
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(user, form.current.data, form.new.data)
        except PasswordRefused as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            # Every session of the user ended with the change; this browser gets a new one.
            _start_session(user, signing_in=False)
            flash("Пароль изменён. Другие сеансы завершены.", "success")
            return redirect(url_for("admin.index"))
    return render_template("auth/password.html", form=form, temporary=temporary)


def require_login():
    """Every page but the open ones needs a signed-in user."""
    if request.endpoint is None or request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        # A form sent when its session had ended: what was typed is kept for sign-in.
        if request.method == "POST":
            kept = keep_typed()
            if kept is not None:
                return kept
        else:
            remember_ended_session()
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.must_change_password and request.endpoint not in TEMPORARY_PASSWORD_ENDPOINTS:
        return redirect(url_for("auth.password"))
    return None


def csp_nonce() -> str:
    """One nonce per response: only scripts carrying it may run."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def security_headers(response):
    """No caching of personal data, a nonce-based CSP, no framing, no sniffing;
    in production HSTS, so a browser that once reached the panel over HTTPS
    never again sends the session cookie in the clear."""
    if current_user.is_authenticated and not (request.endpoint or "").endswith("static"):
        response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{csp_nonce()}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if current_app.config.get("PRODUCTION"):
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def web_actor() -> audit.Actor:
    """Who is acting: the signed-in user of this request, or the system."""
    if has_request_context():
        ip = client_ip()
        if current_user and current_user.is_authenticated:
            return audit.Actor(current_user.id, current_user.username, ip)
        return audit.Actor(None, "anonymous", ip)
    return audit.system_actor()


def init_auth(app: Flask) -> None:
    audit.actor_resolver = web_actor
    # Flask sets its own 31-day default, so this is assigned, not defaulted.
    app.config["PERMANENT_SESSION_LIFETIME"] = IDLE_TIMEOUT
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    app.session_interface = SessionCookie()
    login_manager.init_app(app)
    app.register_blueprint(bp)
    app.before_request(require_login)
    init_drafts(app)  # after require_login: the user is known and may be here
    app.after_request(security_headers)
