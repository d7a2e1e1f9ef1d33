"""Archive: what must never be lost is archived instead of deleted, and only an
administrator restores it. Lists hide archived rows unless «архив» is switched on."""

from __future__ import annotations

from flask import flash, request
from flask_admin.actions import action
from sqlalchemy import inspect

from models import db
from models.base import ArchivedMixin, utcnow

from ..forms import parse_id


class ArchiveMixin:
    """«Удалить» archives an archivable row; «В архив» and «Восстановить» act on many."""

    # Flask-Admin's bulk delete would hard-delete: «В архив» takes its place.
    action_disallowed_list = ("delete",)

    def _showing_archive(self) -> bool:
        return request.args.get("archive") == "1"

    def delete_model(self, model) -> bool:
        """Archive what must never be lost; delete the rest."""
        if not isinstance(model, ArchivedMixin):
            return super().delete_model(model)
        try:
            model.archived_at = utcnow()
            db.session.commit()
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
        for row in rows:
            self.delete_model(row)
        flash(f"Перенесено в архив: {len(rows)}.", "success")

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
        rows = self._visible_query().filter(self._pk_in(ids)).all()
        for row in rows:
            row.archived_at = None
        db.session.commit()
        flash(f"Восстановлено из архива: {len(rows)}.", "success")
