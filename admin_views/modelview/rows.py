"""A list page's rows as HTML, built in Python once per page.

Flask-Admin renders each row through Jinja: a scoped block per row, a macro per row
action, a call through the template context per cell. On a page of 25 rows that was a
third of the panel's CPU per list page (issue 18). What a row shows is simple — the
checkbox of the bulk actions, the row's links, its archive or restore form, one cell per
column — so it is built here from strings made once per page; every value goes through
markupsafe's `escape` (a formatter's Markup stays as it is), as Jinja's autoescape would.

The row actions are Flask-Admin's three (details, edit, delete → archive or restore,
admin_views/modelview/archive.py); a view that declares another kind of row action is
refused at the first page, not silently left without it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask_admin.babel import gettext
from flask_admin.model.template import DeleteRowAction, EditRowAction, ViewRowAction
from markupsafe import Markup, escape

_LINK = '<a class="icon" href="{url}?id={id}&amp;url={back}" title="{title}"><span class="{icon}"></span></a>'
_RESTORE = (
    '<form class="icon" method="POST" action="{action}">'
    '<input type="hidden" name="action" value="restore">'
    '<input type="hidden" name="rowid" value="{id}">'
    '<input type="hidden" name="url" value="{back}">{csrf}'
    '<button data-opora-confirm="{confirm}" title="{title}">'
    '<span class="fa fa-undo glyphicon glyphicon-repeat"></span></button></form>'
)
_ARCHIVE = (
    '<form class="icon" method="POST" action="{action}">'
    '<input name="id" type="hidden" value="{id}">'
    '<input name="url" type="hidden" value="{back}">{csrf}'
    '<button data-opora-confirm="{confirm}" title="{title}">'
    '<span class="fa fa-archive glyphicon glyphicon-folder-close"></span></button></form>'
)
_CHECKBOX = '<td><input type="checkbox" name="rowid" class="action-checkbox" value="{id}" title="{title}"></td>'


# The row's links: action → (endpoint, icon).
_LINKS = {
    ViewRowAction: (".details_view", "fa fa-eye glyphicon glyphicon-eye-open"),
    EditRowAction: (".edit_view", "fa fa-pencil glyphicon glyphicon-pencil"),
}
# Where a row's id goes: a character no escaped value and no URL of the panel holds.
_ROW = "\x00"


def _fill(template: str, **values: Any) -> str:
    """A template with every value escaped and the row's place marked by _ROW."""
    return template.format(id=_ROW, **{k: escape(v) for k, v in values.items()})


class ListRows:
    """`rows(row)` is the row's cells as Markup; made by the view for one list page."""

    def __init__(self, view, *, list_columns, row_actions, return_url: str, checkbox: bool, csrf):
        self.view = view
        self.columns = [(name, f'<td class="col-{escape(name)}">') for name, _ in list_columns]
        self.checkbox = _fill(_CHECKBOX, title=gettext("Select record")) if checkbox else None
        back = return_url or ""
        back_query = quote(back, safe="")
        csrf_input = (
            Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf)
            if csrf
            else ""
        )

        def form(template: str, endpoint: str, confirm: str, title: str) -> str:
            return _fill(
                template,
                action=view.get_url(endpoint),
                back=back,
                confirm=confirm,
                title=title,
                csrf=csrf_input,
            )

        self.links: list[str] = []
        self.archive: str | None = None
        self.restore: str | None = None
        for action in row_actions:
            if type(action) in _LINKS:
                endpoint, icon = _LINKS[type(action)]
                link = _fill(
                    _LINK,
                    url=view.get_url(endpoint),
                    back=back_query,
                    title=action.title or "",
                    icon=icon,
                )
                self.links.append(link)
            elif isinstance(action, DeleteRowAction):
                # Where the row's pages offer them (ArchiveMixin.may_archive, may_restore):
                # the rights are the page's, the row's state is each row's.
                if view.can_delete:
                    self.archive = form(
                        _ARCHIVE, ".delete_view", view.confirm_archive, view.archive_title
                    )
                if view.is_action_allowed("restore"):
                    self.restore = form(
                        _RESTORE, ".action_view", view.confirm_restore, view.restore_title
                    )
            else:
                raise TypeError(f"{view.endpoint}: a row action the list cannot show: {action!r}")
        self.buttons = bool(view.column_display_actions)

    def __call__(self, row) -> Markup:
        view = self.view
        row_id = escape(str(view.get_pk_value(row)))
        out: list[str] = []
        if self.checkbox is not None:
            out.append(self.checkbox.replace(_ROW, row_id))
        if self.buttons:
            buttons = [link.replace(_ROW, row_id) for link in self.links]
            if self.restore is not None and view.is_archived(row):
                buttons.append(self.restore.replace(_ROW, row_id))
            elif self.archive is not None and view.is_live(row):
                buttons.append(self.archive.replace(_ROW, row_id))
            # A space between the icons, as the template's line breaks gave them.
            out.append(f'<td class="list-buttons-column">{" ".join(buttons)}</td>')
        formatters, type_formatters = view.column_formatters, view.column_type_formatters
        for name, cell in self.columns:
            value = view._get_list_value(None, row, name, formatters, type_formatters)
            out.append(f"{cell}{escape(value)}</td>")
        return Markup("".join(out))
