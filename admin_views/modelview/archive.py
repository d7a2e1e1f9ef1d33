"""Archive: nothing the panel shows is ever hard-deleted. The list's and the details page's
«В архив» archives a row that can be archived (`archived_at` set); any other row has no
delete right in the matrix and is refused here as well. Only an administrator restores
(«Восстановить»). Lists hide archived rows unless «архив» is switched on; pickers offer
only rows active for new work (models/live.py), but an edit keeps what its row already
points at, archived or not, and a forged id of an archived row is refused by its field."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from flask_admin.helpers import flash_errors, get_redirect_target
from flask_login import current_user
from sqlalchemy import inspect, or_, select
from sqlalchemy.exc import IntegrityError

from models import db
from models.base import ArchivedMixin, utcnow
from models.live import active_for_new_work, new_work_refusal
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from ..forms import NOT_OFFERED, parse_id
from .rowscope import ScopedAjaxLoader
from .saving import integrity_message

ARCHIVED = "Запись перенесена в архив."
NOT_DELETED = "Эту запись удалить нельзя: история сохраняется целиком."
# What the buttons say and what their confirmation dialogs ask (list rows, details page,
# the bulk actions): the row actions fork (templates/admin/model/row_actions.html) and the
# details page take them from the view, never Flask-Admin's «Удалить запись».
TO_ARCHIVE = "В архив"
CONFIRM_ARCHIVE = "Перенести запись в архив? Её можно будет восстановить."
CONFIRM_ARCHIVE_MANY = "Перенести выбранные записи в архив? Их можно будет восстановить."
RESTORE = "Восстановить"
CONFIRM_RESTORE = (
    "Вернуть запись из архива? Она снова появится в списках и в выборе для новой работы."
)
CONFIRM_RESTORE_MANY = (
    "Вернуть выбранные записи из архива? Они снова появятся в списках и в выборе для новой работы."
)


class ArchiveMixin:
    """«Удалить» archives; «В архив» and «Восстановить» act on many."""

    # Flask-Admin's bulk delete would hard-delete: «В архив» takes its place.
    action_disallowed_list = ("delete",)
    # The words of the row's buttons (the list's row actions, the details page).
    archive_title = TO_ARCHIVE
    confirm_archive = CONFIRM_ARCHIVE
    restore_title = RESTORE
    confirm_restore = CONFIRM_RESTORE

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

    @action("archive", TO_ARCHIVE, CONFIRM_ARCHIVE_MANY)
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

    def may_archive(self, row) -> bool:
        """Whether the row's pages offer «В архив» (a live row, the right to archive)."""
        return self.can_delete and self.is_live(row)

    def may_restore(self, row) -> bool:
        """Whether the row's pages offer «Восстановить» (an archived row, the administrator)."""
        return self.is_action_allowed("restore") and self.is_archived(row)

    @staticmethod
    def is_live(row) -> bool:
        """A row that can be archived: its table archives, and it is not in the archive."""
        return isinstance(row, ArchivedMixin) and row.archived_at is None

    @staticmethod
    def is_archived(row) -> bool:
        return getattr(row, "archived_at", None) is not None

    @action("restore", RESTORE, CONFIRM_RESTORE_MANY)
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
            self.after_restore(row)
        if restored:
            flash(f"Восстановлено из архива: {restored}.", "success")

    def after_restore(self, row) -> None:
        """What a view says once one of its rows came back (nothing, unless it has more)."""

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None:
            self._keep_archived_choices(form, obj)
        return form

    def _keep_archived_choices(self, form, obj) -> None:
        """Pickers offer rows active for new work only, but the rows this one already points
        at stay choosable though archived since: a family in an archived district keeps it,
        an event keeps its organiser who has left."""
        for rel in inspect(self.model).relationships:
            field = getattr(form, rel.key, None)
            target = rel.mapper.class_
            if field is None or not hasattr(target, "id"):
                continue
            current = getattr(obj, rel.key)
            chosen = current if rel.uselist else [current]
            kept = [r.id for r in chosen if r is not None and new_work_refusal(r) is not None]
            if not kept:
                continue
            if isinstance(field, (QuerySelectField, QuerySelectMultipleField)):
                field.query = db.session.query(target).filter(
                    where_visible(target, current_user),
                    or_(active_for_new_work(target), target.id.in_(kept)),
                )
            elif isinstance(getattr(field, "loader", None), ScopedAjaxLoader):
                field.loader = field.loader.keeping(kept)

    def validate_form(self, form) -> bool:
        """A picker refuses an id it did not offer; when that id names a row the user may
        see but not choose for new work (archived, or a member of staff who left), the
        field says why instead of «Выберите значение из списка.»."""
        valid = super().validate_form(form)
        if request.method != "POST":
            return valid
        for rel in inspect(self.model).relationships:
            field = getattr(form, rel.key, None)
            if field is None or not hasattr(field, "raw_data"):
                continue
            dropped = self._dropped_a_posted_id(field)
            if not field.errors and not dropped:
                continue
            refusal = self._refusal_of_posted(rel.mapper.class_, field)
            if refusal is not None or dropped:
                field.errors = [refusal or NOT_OFFERED]
                valid = False
        return valid

    @staticmethod
    def _dropped_a_posted_id(field) -> bool:
        """Whether an optional picker read a posted id as no choice (an id it did not offer
        would otherwise be saved as empty, silently)."""
        posted = [v for item in field.raw_data or [] for v in str(item).split(",")]
        posted = [v for v in posted if v.strip() and v != "__None"]
        if not posted:
            return False
        data = field.data
        chosen = len(data) if isinstance(data, list) else int(data is not None)
        return chosen < len(posted)

    @staticmethod
    def _refusal_of_posted(target, field) -> str | None:
        """The Russian refusal of the first posted id of `field` that names a visible row
        not active for new work, if any."""
        raw = field.raw_data or []
        posted = [v for item in raw for v in str(item).split(",")]
        for key in (parse_id(value) for value in posted):
            if key is None or not hasattr(target, "id"):
                continue
            row = db.session.scalar(
                select(target).where(target.id == key, where_visible(target, current_user))
            )
            refusal = new_work_refusal(row) if row is not None else None
            if refusal is not None:
                return refusal
        return None
