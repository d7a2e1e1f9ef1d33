"""The base of every workflow page (a page that is not a table).

Access comes from the permission matrix (the page's endpoint is its key: a role
granted any action there may open it; each button asks for its own action), rows
come through workflows.scope, so a row out of scope answers 404 here as in the tables.
A page runs every change through `PageView.run`, so each answers a refusal or a
database race the same way: nothing half-written, the Russian reason by its field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, g, url_for
from flask_admin import BaseView
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from models import db
from models.constraints import integrity_message
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from .base import STALE_MESSAGE
from .forms import MAX_ID
from .modelview.access import refuse_or_sign_in
from .modelview.saving import database_refusal
from .permissions import allowed

PAGE_ACTIONS = ("list", "details", "create", "edit")


@dataclass(frozen=True)
class Outcome:
    """What running a change came to: the value of its last step, or the refusal that
    undid it."""

    value: Any = None
    refusal: WorkflowError | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


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
        return refuse_or_sign_in()

    @staticmethod
    def visible_or_404(model, row_id: int | None):
        """The row if the current user may see it; otherwise 404, as if it did not exist."""
        row = None
        if row_id is not None and 0 < row_id <= MAX_ID:  # a larger id names no row
            row = db.session.scalar(
                select(model).where(model.id == row_id, where_visible(model, current_user))
            )
        if row is None:
            abort(404)
        return row

    def run(
        self,
        *steps: Callable[[], Any],
        form=None,
        fields: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Run each step of a change and commit it; a refusal (a WorkflowError) or a
        database race (a stale version, a broken constraint) rolls the step back and
        stops; any other database error (busy, or worse) is refused with one calm Russian
        message, the error itself logged. A step committed before a refused one stands.

        With `form`, the Russian reason goes next to its field (`fields` renames a
        workflow's field to the form's) or, when it concerns no field of the form,
        above the page; without one, the caller shows `Outcome.refusal`.
        """
        value = None
        for step in steps:
            try:
                value = step()
                db.session.commit()
            except WorkflowError as refused:
                refusal = refused
            except StaleDataError:
                refusal = WorkflowError(STALE_MESSAGE)
            except IntegrityError as exc:
                refusal = WorkflowError(integrity_message(exc))
            except SQLAlchemyError as exc:  # busy (SQLite locked, a lock timeout) or worse
                refusal = WorkflowError(database_refusal(exc))
            else:
                continue
            db.session.rollback()
            if fields and refusal.field in fields:
                refusal.field = fields[refusal.field]
            if form is not None:
                self.refuse(form, refusal)
            return Outcome(refusal=refusal)
        return Outcome(value)

    @staticmethod
    def tell(outcome: Outcome, done: str | Callable[[Any], str]) -> bool:
        """Say above the next page how a change came out, for a button that has no form
        to show a refusal in: `done` (or `done(value)`) when it was made, the Russian
        refusal when not. True when it was made."""
        if outcome.ok:
            flash(done(outcome.value) if callable(done) else done, "success")
        else:
            flash(str(outcome.refusal), "error")
        return outcome.ok

    @staticmethod
    def refuse(form, error: WorkflowError) -> None:
        """Show a refusal's Russian reason next to its field of `form` (or above the
        page when it concerns no one field)."""
        field = getattr(form, error.field, None) if error.field else None
        if field is not None:
            field.errors = [*field.errors, str(error)]
        else:
            flash(str(error), "error")

    @staticmethod
    def case_url(case_id: int | None) -> str | None:
        """The case's page if the user may open cases; lists ask per row, so built once a
        request."""
        if case_id is None:
            return None
        if "case_details_url" not in g:
            may = allowed(current_user.role, "case", "details")
            g.case_details_url = url_for("case.details_view") if may else None
        return None if g.case_details_url is None else f"{g.case_details_url}?id={case_id}"
