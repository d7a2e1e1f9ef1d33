"""The outbox in the panel: the messages (read-only), the templates the administrator
edits, and their preview with sample values."""

from __future__ import annotations

from flask_admin import expose

from models import MessageTemplate, db
from workflows import notify

from .base import OporaModelView
from .pages import PageView


class MessageView(OporaModelView):
    """The outbox: what was sent to whom, when, and what the provider answered."""

    can_create = False
    can_edit = False
    can_delete = False
    column_list = (
        "family",
        "channel",
        "event_kind",
        "state",
        "attempts",
        "due_at",
        "sent_at",
        "provider_answer",
    )
    column_filters = ("channel", "event_kind", "state", "due_at", "sent_at")
    column_default_sort = ("id", True)
    column_details_list = (
        "family",
        "user",
        "channel",
        "address",
        "event_kind",
        "event_id",
        "event_on",
        "subject",
        "body",
        "due_at",
        "state",
        "attempts",
        "next_attempt_at",
        "provider_answer",
        "sent_at",
        "called_by",
        "created_at",
    )


class MessageTemplateView(OporaModelView):
    """The Russian texts of the messages; the code and purpose are fixed."""

    can_create = False
    can_delete = False
    column_list = ("title", "subject", "body")
    column_default_sort = "title"
    form_columns = ("subject", "body")
    column_details_list = ("title", "subject", "body")  # the code is the program's, not a word

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        model = getattr(form, "_obj", None)
        code = getattr(model, "code", None) if model is not None else None
        if code is None or code not in notify.TEMPLATES:
            return valid
        for name in ("subject", "body"):
            field = getattr(form, name, None)
            problem = notify.template_problem(code, field.data or "") if field else None
            if problem:
                field.errors = [*field.errors, problem]
                valid = False
        return valid

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form._obj = obj
        return form


class TemplatePreviewView(PageView):
    """Each template as a family would read it, with sample values."""

    @expose("/")
    def index(self):
        rows = []
        for code, default in notify.TEMPLATES.items():
            template = notify.template_of(db.session, code)
            row = db.session.query(MessageTemplate.id).filter_by(code=code).scalar()
            rows.append(
                {
                    "code": code,
                    "title": template.title,
                    "subject": notify.render(template.subject, default.fields),
                    "body": notify.render(template.body, default.fields),
                    "fields": ", ".join(f"{{{name}}}" for name in default.fields),
                    "row_id": row,
                }
            )
        return self.render("admin/workflow/message_preview.html", rows=rows)
