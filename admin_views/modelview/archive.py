"""Archive: nothing the panel shows is ever hard-deleted. «Удалить» archives a row that can
be archived (`archived_at` set); any other row has no delete right in the matrix and is
refused here as well. Only an administrator restores. Lists hide archived rows unless
«архив» is switched on; an edit keeps what its row already points at, archived or not."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from flask_admin.helpers import flash_errors, get_redirect_target
from flask_login import current_user
from sqlalchemy import inspect, or_
from sqlalchemy.exc import IntegrityError

from models import db
from models.base import ArchivedMixin, utcnow
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from ..forms import parse_id
from .saving import integrity_message

ARCHIVED = "Запись перенесена в архив."
NOT_DELETED = "Эту запись удалить нельзя: история сохраняется целиком."


class ArchiveMixin:
    """«Удалить» archives; «В архив» and «Восстановить» act on many."""

    # Flask-Admin's bulk delete would hard-delete: «В архив» takes its place.
    action_disallowed_list = ("delete",)

    def _showing_archive(self) -> bool:
        return request.args.get("archive") == "1"

    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        """Flask-Admin's delete endpoint (the right, the CSRF token, the row scope), saying
        what it did: the row went to the archive."""
        return_url = get_redirect_target() or self.get_url(".index_view")
        if not self.can_delete:
            return redirect(return_url)
        form = self.delete_form()
        if not self.validate_form(form):
            flash_errors(form, message="Запись не перенесена в архив. %(error)s")
            return redirect(return_url)
        if self.delete_model(self.get_one(form.id.data)):
            flash(ARCHIVED, "success")
        return redirect(return_url)

    def delete_model(self, model) -> bool:
        """Archive the row once the view's own checks (`on_model_delete`) agree; never
        delete it. A row archived before keeps the day it was archived."""
        if not isinstance(model, ArchivedMixin):
            flash(NOT_DELETED, "error")
            return False
        if model.archived_at is not None:
            return True
        try:
            self.on_model_delete(model)
            model.archived_at = utcnow()
            db.session.commit()
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return False
        except Exception as exc:
            db.session.rollback()
            if not self.handle_view_exception(exc):
                raise
            return False
        return True

    @action(
        "archive",
        "В архив",
        "Перенести выбранные записи в архив?",
    )
    def action_archive(self, ids):
        rows = self.get_query().filter(self._pk_in(ids)).all()
        archived = sum(1 for row in rows if self.delete_model(row))
        if archived:
            flash(f"Перенесено в архив: {archived}.", "success")

    def _pk_in(self, ids):
        """`pk IN ids` with the ids from the form converted to the key's type."""
        pk = inspect(self.model).primary_key[0]
        keys = [parse_id(raw) for raw in ids]  # a forged id names no row
        return pk.in_([key for key in keys if key is not None])

    def is_action_allowed(self, name: str) -> bool:
        if name == "archive":
            return self.can_delete and issubclass(self.model, ArchivedMixin)
        if name == "restore":
            return self.role == "admin" and issubclass(self.model, ArchivedMixin)
        return super().is_action_allowed(name)

    @action("restore", "Восстановить из архива", "Вернуть выбранные записи из архива?")
    def action_restore(self, ids):
        """Each row comes back on its own: one that would now clash with a live row (its
        slot booked again, its assessment re-entered) stays archived and says why."""
        rows = (
            self._visible_query()
            .filter(self._pk_in(ids), self.model.archived_at.is_not(None))
            .order_by(inspect(self.model).primary_key[0])
            .all()
        )
        restored = 0
        for row in rows:
            row_id = row.id
            row.archived_at = None
            try:
                db.session.commit()
            except IntegrityError as exc:
                db.session.rollback()
                flash(f"Запись № {row_id} осталась в архиве: {integrity_message(exc)}", "error")
                continue
            restored += 1
        if restored:
            flash(f"Восстановлено из архива: {restored}.", "success")

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None:
            self._keep_archived_choices(form, obj)
        return form

    def _keep_archived_choices(self, form, obj) -> None:
        """Pickers offer live rows only, but the rows this one already points at stay
        choosable though archived since: a family in an archived district keeps it."""
        for rel in inspect(self.model).relationships:
            field = getattr(form, rel.key, None)
            target = rel.mapper.class_
            if not isinstance(field, (QuerySelectField, QuerySelectMultipleField)):
                continue
            if not issubclass(target, ArchivedMixin):
                continue
            current = getattr(obj, rel.key)
            chosen = current if rel.uselist else [current]
            kept = [r.id for r in chosen if r is not None and r.archived_at is not None]
            if kept:
                field.query = db.session.query(target).filter(
                    where_visible(target, current_user),
                    or_(target.archived_at.is_(None), target.id.in_(kept)),
                )
