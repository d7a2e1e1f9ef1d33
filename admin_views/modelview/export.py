"""«Выгрузить таблицу» on every list: an Excel file of the same rows, filters, search and sort.

Flask-Admin's own export loads every row into memory and writes a CSV that
Excel garbles; here its route `/<endpoint>/export/xlsx/` streams the list's
query (a server-side cursor, `yield_per`) into workflows/export.py's
constant-memory writer. The rows are the list's rows (row scope, archive
switch), the columns are the list's columns the role may see, and every export
is recorded in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, request
from flask_admin import expose
from flask_admin.tools import rec_getattr
from flask_login import current_user

from models import db
from models.audit import record_event
from models.base import utcnow
from models.declension import agree_with
from workflows.export import XLSX_MIMETYPE, Sheet, content_disposition, stamp, workbook_file

from .access import matrix_right

# Rows fetched from the database per round trip while exporting.
EXPORT_BATCH = 1000


class ExportMixin:
    """The Excel export of a list view; mixed into the one base view."""

    export_types = ["xlsx"]
    export_max_rows = 0  # no cap: the export is streamed

    can_export = matrix_right("export")

    def export_url(self) -> str:
        """The list's export address: its filters, search and sort, but not its page."""
        args = {k: v for k, v in request.args.items() if k not in ("page", "after")}
        return self.get_url(".export", export_type="xlsx", **args)

    @expose("/export/<export_type>/")
    def export(self, export_type: str):
        if not self.can_export:
            abort(403)
        if export_type != "xlsx":
            abort(404)
        return self.export_xlsx()

    # Flask-Admin's CSV and tablib writers load every row and write formulas as
    # formulas; nothing may reach them.
    def _export_csv(self, return_url):
        abort(404)

    def _export_tablib(self, export_type, return_url):
        abort(404)

    # --- the workbook -------------------------------------------------------------

    def export_columns(self) -> list[tuple[str, str]]:
        """(field, Russian header) of the list's columns the role may see."""
        return self._visible(self._export_columns)

    def export_query(self):
        """The list's query, unpaged: scope, archive switch, search, filters and sort."""
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        _count, query = self.get_list(
            0,
            sort[0] if sort else None,
            args.sort_desc,
            args.search,
            args.filters,
            execute=False,
            page_size=0,
        )
        return query, args

    def export_cell(self, name: str):
        """A function giving a row's cell for column `name`, typed: dates stay dates,
        codes become Russian words, related rows their names."""
        words = dict((self.column_choices or {}).get(name) or ())

        def cell(row):
            value = rec_getattr(row, name)
            if value is None or isinstance(value, (int, float, bool, dt.date)):
                return value
            if isinstance(value, str):
                return words.get(value, value)
            if isinstance(value, (list, tuple, set)):
                return ", ".join(str(v) for v in value)
            return str(value)

        return cell

    def describe_selection(self, args) -> str:
        """The list's filters and search in words, for the workbook's second line."""
        parts = []
        for index, _name, value in args.filters or ():
            flt = self._filters[index]
            options = dict(flt.get_options(self) or ())
            shown = options.get(value, value)
            parts.append(f"{flt.name} {flt.operation()} «{shown}»")
        if args.search:
            parts.append(f"поиск «{args.search}»")
        if self._showing_archive():
            parts.append("вместе с архивом")
        return "; ".join(parts) or "все записи"

    def export_xlsx(self) -> Response:
        query, args = self.export_query()
        columns = self.export_columns()
        zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
        now = utcnow()
        selection = self.describe_selection(args)
        user = current_user.staff or current_user.username
        signed = partial(agree_with, current_user.staff)
        cells = [self.export_cell(name) for name, _label in columns]
        rows = ([cell(row) for cell in cells] for row in query.yield_per(EXPORT_BATCH))
        sheet = Sheet(
            name=self.name,
            title=f"{self.name}: {selection}",
            subtitle=f"{signed('Выгрузил', 'Выгрузила')} {user} ({current_user.role_label}), "
            f"{stamp(now, zone)}",
            headers=[str(label) for _name, label in columns],
            rows=rows,
        )
        out, (count,) = workbook_file([sheet], zone)
        # Who took which rows out of the system is an auditable event.
        record_event(
            db.session,
            "export",
            self.model.__tablename__,
            changes={"rows": count, "selection": selection, "args": request.args.to_dict()},
        )
        db.session.commit()
        day = now.astimezone(ZoneInfo(zone)).date()
        size = out.seek(0, 2)
        out.seek(0)
        response = Response(_chunks(out), mimetype=XLSX_MIMETYPE)  # streamed from the file
        response.content_length = size
        response.headers["Content-Disposition"] = content_disposition(
            f"{self.name} {day:%d.%m.%Y}.xlsx", f"{self.endpoint}-{day:%Y-%m-%d}.xlsx"
        )
        response.headers["Cache-Control"] = "no-store"
        return response


def _chunks(out, size: int = 64 * 1024):
    try:
        while chunk := out.read(size):
            yield chunk
    finally:
        out.close()
