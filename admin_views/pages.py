"""The base of every workflow page (a page that is not a table).

Access comes from the permission matrix (the page's endpoint is its key: a role
granted any action there may open it; each button asks for its own action), rows
come through workflows.scope, so a row out of scope answers 404 here as in the tables.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView
from flask_login import current_user
from sqlalchemy import select

from models import db
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from .permissions import allowed

PAGE_ACTIONS = ("list", "details", "create", "edit")


class PageView(BaseView):
    """A workflow page: reachable when the matrix grants its endpoint any action."""

    menu_visible = True

    def may(self, action: str) -> bool:
        return current_user.is_authenticated and allowed(current_user.role, self.endpoint, action)

    def require(self, action: str) -> None:
        if not self.may(action):
            abort(403)

    def is_accessible(self) -> bool:
        return any(self.may(action) for action in PAGE_ACTIONS)

    def is_visible(self) -> bool:
        return self.menu_visible

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    @staticmethod
    def visible_or_404(model, row_id: int):
        """The row if the current user may see it; otherwise 404, as if it did not exist."""
        row = db.session.scalar(
            select(model).where(model.id == row_id, where_visible(model, current_user))
        )
        if row is None:
            abort(404)
        return row

    @staticmethod
    def refuse(form, error: WorkflowError) -> None:
        """Undo the refused change and show its Russian reason next to its field
        (or above the form when it concerns no one field)."""
        db.session.rollback()
        field = getattr(form, error.field, None) if error.field else None
        if field is not None:
            field.errors = [*field.errors, str(error)]
        else:
            flash(str(error), "error")
