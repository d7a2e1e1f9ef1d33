"""Access: who may open a view and what they may do there, read from the permission matrix."""

from __future__ import annotations

from flask import abort, has_request_context, redirect, request, url_for
from flask_login import current_user

from ..permissions import allowed


def refuse_or_sign_in():
    """A page the user may not open: the sign-in form if nobody is signed in, else 403."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    abort(403)


def matrix_right(action_name: str) -> property:
    """A `can_*` flag read from the matrix per request, for the signed-in user's role."""
    return property(lambda view: view._allowed(action_name))


class AccessMixin:
    """The view's rights: the matrix decides, per request and per role."""

    can_create = matrix_right("create")
    can_edit = matrix_right("edit")
    can_delete = matrix_right("delete")
    can_view_details = matrix_right("details")
    # Inline editing checks column_editable_list, not can_edit: there is none.
    column_editable_list = ()

    @property
    def role(self) -> str | None:
        if not has_request_context() or not current_user.is_authenticated:
            return None
        return current_user.role

    def _allowed(self, action_name: str) -> bool:
        return allowed(self.role, self.endpoint, action_name)

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and self._allowed("list")

    def inaccessible_callback(self, name, **kwargs):
        return refuse_or_sign_in()
