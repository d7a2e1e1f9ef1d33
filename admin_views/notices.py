"""The bell in the navbar: the signed-in user's unread notices (workflows/staff_notices.py)
and «Отметить прочитанными»."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, g, redirect, request, url_for
from flask_login import current_user

from models import db
from workflows import staff_notices
from workflows.dates import centre_today
from workflows.errors import WorkflowError

from .auth import safe_next
from .permissions import allowed

bp = Blueprint("notices", __name__)


def _url(notice: staff_notices.Notice) -> str | None:
    """Where a notice leads: the task, the meeting or the referral, if the role opens it."""
    role = current_user.role
    if notice.task_id is not None and allowed(role, "my_tasks", "list"):
        return url_for("my_tasks.task", task_id=notice.task_id)
    if notice.meeting_id is not None and allowed(role, "council", "details"):
        return url_for("council.meeting", meeting_id=notice.meeting_id)
    if notice.referral_id is not None and allowed(role, "referral", "details"):
        return url_for("referral.details_view", id=notice.referral_id)
    return None


def _notices() -> list[dict]:
    """The bell's notices, read once a request and only by a page that shows the bell."""
    if "staff_notices" not in g:
        rows: list[dict] = []
        if current_user.is_authenticated and current_user.staff_id is not None:
            for notice in staff_notices.notices_of(db.session, current_user, centre_today()):
                rows.append({"kind": notice.kind, "text": notice.text, "url": _url(notice)})
        g.staff_notices = rows
    return g.staff_notices


@bp.route("/notices/read", methods=["POST"])
def read():
    if not current_user.is_authenticated:
        abort(403)
    staff_notices.mark_read(db.session, current_user)
    db.session.commit()
    return redirect(safe_next(request.form.get("next") or url_for("admin.index")))


@bp.route("/notices/digest", methods=["POST"])
def digest():
    """The user's own choice: the daily e-mail digest of the bell, or none."""
    if not current_user.is_authenticated:
        abort(403)
    wanted = request.form.get("digest") == "1"
    try:
        staff_notices.set_digest(db.session, current_user, wanted)
    except WorkflowError as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(
            "Сводка уведомлений будет приходить на почту раз в день, если есть новое."
            if wanted
            else "Сводка уведомлений на почту больше не придёт.",
            "success",
        )
    return redirect(safe_next(request.form.get("next") or url_for("admin.index")))


def init_notices(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["staff_notices"] = _notices
