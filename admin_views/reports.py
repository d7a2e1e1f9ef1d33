"""Отчёты: five report pages with their parameters and an .xlsx download.

The page collects the parameters, asks workflows/reports.py for the figures
and shows them; the download writes the same tables with the export writer.
Which report a role may open (and download) is the permission matrix's
`report_<slug>` entry.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from numbers import Number
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import DateField, Form, SelectField
from wtforms.validators import InputRequired, Optional, ValidationError
from wtforms.widgets import DateInput, Select, html_params

from models import Department, District, db
from models.audit import record_event
from models.base import utcnow
from models.declension import agree_with
from models.reference import staff_district
from models.roles import counts_whole_centre
from models.terms import AGREEMENT_EXPIRY_WARNING_DAYS
from workflows import reports
from workflows.export import XLSX_MIMETYPE, Sheet, content_disposition, stamp, workbook_file

from . import validators as v
from .base import FormTranslations
from .modelview.access import refuse_or_sign_in
from .permissions import allowed

DESCRIPTIONS = {
    "pilot": "Семьи и случаи сопровождения, закрытия по причинам, дети-инвалиды и дети с ОВЗ, "
    "мероприятия ИПСС по видам помощи и специалистам, визиты, мониторинг, выдачи ТСР.",
    "regional": "Семьи с детьми, дети, дети в малоимущих семьях, дети-инвалиды, "
    "несовершеннолетние в СОП — по участкам и всего.",
    "agreements": f"Действующие, истекающие в {AGREEMENT_EXPIRY_WARNING_DAYS} дней, истекшие "
    "и расторгнутые соглашения по типам партнёров.",
    "rental": "Выдачи и возвраты, загрузка по видам ТСР, очередь и время ожидания, просрочки.",
    "workload": "Открытые, просроченные, ближайшие и выполненные задачи каждого специалиста.",
}
# Which parameters each report takes: a period or a single date, district, department.
PARAMETERS = {
    "pilot": ("period", "district", "department"),
    "regional": ("date", "district"),
    "agreements": ("date",),
    "rental": ("period", "district"),
    "workload": ("period", "district", "department"),
}


class ChoicesSelect(Select):
    """WTForms' select, its options written in one pass: the district picker of a national
    centre has over a thousand, and WTForms' per-option rendering cost more than the report."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if "required" not in kwargs and "required" in getattr(field, "flags", {}):
            kwargs["required"] = True
        chosen = "" if field.data is None else str(field.data)
        options = "".join(
            f'<option{" selected" if str(value) == chosen else ""} value="{html.escape(str(value))}">'
            f"{html.escape(str(label))}</option>"
            for value, label in field.choices
        )
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class ReportForm(Form):
    """The parameters, read from the query string (a GET form: nothing changes)."""

    class Meta:
        def get_translations(self, form):
            return FormTranslations()

    # Within the years a report can mean: a period ending in 9999 has no last day to
    # count to (the date arithmetic of a report overflows).
    date_from = DateField("С", validators=[Optional(), v.DateInRange()], widget=DateInput())
    date_to = DateField(
        "По", validators=[InputRequired("Укажите дату."), v.DateInRange()], widget=DateInput()
    )
    district = SelectField(
        "Участок",
        choices=[],
        default="",
        invalid_choice_message="Выберите участок из списка.",
        widget=ChoicesSelect(),
    )
    department = SelectField(
        "Отделение", choices=[], default="", invalid_choice_message="Выберите отделение из списка."
    )

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("Конец периода не может быть раньше начала.")


def cell(value) -> str:
    """A report cell as text: numbers with a decimal comma, dates дд.мм.гггг, nothing for None
    (a function, not a template macro: national reports have thousands of cells)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, Decimal):  # roubles: «1 250 000,50»
        return f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def _td(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):  # most cells: nothing to escape
        return f'<td class="text-right">{value}</td>'
    opening = '<td class="text-right">' if isinstance(value, Number) else "<td>"
    return f"{opening}{html.escape(cell(value))}</td>"


def rows_html(rows, row_class: str = "") -> Markup:
    """A report table's rows as <tr> elements: built here, not by a template loop, because a
    national report has tens of thousands of cells (the loop cost more than the counting)."""
    opening = f'<tr class="{row_class}">' if row_class else "<tr>"
    return Markup("".join(f"{opening}{''.join(_td(v) for v in row)}</tr>" for row in rows))


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def district_choices(user) -> list[tuple[str, str]]:
    """Districts the user may pick: all for the whole-centre roles, otherwise their own."""
    query = select(District.id, District.name).order_by(District.name)
    if not counts_whole_centre(user.role):
        own = select(staff_district.c.district_id).where(
            staff_district.c.staff_id == (user.staff_id or 0)
        )
        query = query.where(District.id.in_(own))
    return [(str(i), name) for i, name in db.session.execute(query)]


class ReportsView(BaseView):
    """/reports/ (the list), /reports/<slug>/ (a report), /reports/<slug>/xlsx (its workbook)."""

    def _slugs(self) -> list[str]:
        role = current_user.role if current_user.is_authenticated else None
        return [s for s in reports.REPORTS if allowed(role, f"report_{s}", "list")]

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and bool(self._slugs())

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        return refuse_or_sign_in()

    def _require(self, slug: str, action: str) -> None:
        if slug not in reports.REPORTS:
            abort(404)
        if not allowed(current_user.role, f"report_{slug}", action):
            abort(403)

    def items(self) -> list[tuple[str, str, str]]:
        """(title, description, url) of each report the user may open."""
        return [
            (reports.REPORTS[s], DESCRIPTIONS[s], url_for(f"{self.endpoint}.report", slug=s))
            for s in self._slugs()
        ]

    @expose("/")
    def index(self):
        return self.render("admin/reports_index.html", items=self.items())

    def _form(self, slug: str) -> ReportForm:
        today = _today()
        form = ReportForm(request.args)
        wanted = PARAMETERS[slug]
        form.district.choices = [("", "все доступные"), *district_choices(current_user)]
        form.department.choices = [("", "все")] + [
            (str(i), f"{code} — {name}")
            for i, code, name in db.session.execute(
                select(Department.id, Department.code, Department.name).order_by(Department.code)
            )
        ]
        if not request.args:
            form.date_from.data = today.replace(month=1, day=1)
            form.date_to.data = today
        if "period" not in wanted:
            form.date_from.data = form.date_to.data
            form.date_to.label.text = "На дату"
        return form

    def _params(self, slug: str, form: ReportForm) -> reports.Params | None:
        wanted = PARAMETERS[slug]
        if "period" not in wanted:
            form.date_from.data = None
        valid = form.validate()
        if "period" not in wanted:
            form.date_from.data = form.date_to.data
        elif form.date_from.data is None and not form.date_from.errors:
            form.date_from.errors = ["Укажите дату."]
            valid = False
        if not valid:
            return None
        district = form.district.data if "district" in wanted else ""
        department = form.department.data if "department" in wanted else ""
        return reports.Params(
            date_from=form.date_from.data,
            date_to=form.date_to.data,
            district_id=int(district) if district else None,
            department_id=int(department) if department else None,
            zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
        )

    @expose("/<slug>/")
    def report(self, slug: str):
        self._require(slug, "list")
        form = self._form(slug)
        params = self._params(slug, form) if request.args else self._defaults(form)
        report = (
            reports.build_report(slug, db.session, current_user, params, _today())
            if params
            else None
        )
        db.session.commit()  # the district figures a report counted are kept for the next one
        return self.render(
            "admin/report.html",
            slug=slug,
            title=reports.REPORTS[slug],
            form=form,
            wanted=PARAMETERS[slug],
            report=report,
            cell=cell,
            rows_html=rows_html,
            can_download=allowed(current_user.role, f"report_{slug}", "export"),
            query=request.args.to_dict(),
        )

    def _defaults(self, form: ReportForm) -> reports.Params:
        return reports.Params(
            form.date_from.data,
            form.date_to.data,
            zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
        )

    @expose("/<slug>/xlsx")
    def xlsx(self, slug: str):
        self._require(slug, "export")
        form = self._form(slug)
        params = self._params(slug, form) if request.args else self._defaults(form)
        if params is None:
            return redirect(url_for(".report", slug=slug, **request.args.to_dict()))
        report = reports.build_report(slug, db.session, current_user, params, _today())
        zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
        now = utcnow()
        user = current_user.staff or current_user.username
        parts = param_parts(form, PARAMETERS[slug], params)
        scope = ", ".join(parts)
        made = agree_with(current_user.staff, "Сформировал", "Сформировала")
        sheets = [
            Sheet(
                name=table.title,
                title=sheet_heading(report.title, table.title, parts),
                subtitle=f"{made} {user} ({current_user.role_label}), {stamp(now, zone)}",
                headers=table.headers,
                rows=table.rows,
                total=table.total,
            )
            for table in report.tables
        ]
        out, _counts = workbook_file(sheets, zone)
        record_event(
            db.session,
            "export",
            f"report:{slug}",
            changes={"parameters": scope},
        )
        db.session.commit()
        response = Response(out.read(), mimetype=XLSX_MIMETYPE)
        out.close()
        # Named by the period the figures are for, not by the day they were downloaded.
        period = f"{params.date_from:%Y-%m-%d}-" if "period" in PARAMETERS[slug] else ""
        response.headers["Content-Disposition"] = content_disposition(
            f"{report.title} {parts[0]}.xlsx",
            f"report-{slug}-{period}{params.date_to:%Y-%m-%d}.xlsx",
        )
        response.headers["Cache-Control"] = "no-store"
        return response


def sheet_heading(report_title: str, table_title: str, parts: list[str]) -> str:
    """«Статистика по участкам: На 30.11.2026, Участок № 3»: the parameters the table's
    own title does not already say, never «На 30.11.2026 (на 30.11.2026)»."""
    said = table_title.casefold()
    rest = [part for part in parts if part.casefold() not in said]
    heading = table_title if table_title.casefold() != report_title.casefold() else ""
    heading = ": ".join(p for p in (report_title, heading) if p)
    return f"{heading} ({', '.join(rest)})" if rest else heading


def param_parts(form: ReportForm, wanted, params: reports.Params) -> list[str]:
    """The period (or the day) first, then the district and the department chosen."""
    if "period" in wanted:
        parts = [f"{params.date_from:%d.%m.%Y}–{params.date_to:%d.%m.%Y}"]
    else:
        parts = [f"на {params.date_to:%d.%m.%Y}"]
    if params.district_id is not None:
        parts.append(dict(form.district.choices).get(str(params.district_id), ""))
    if params.department_id is not None:
        parts.append(dict(form.department.choices).get(str(params.department_id), ""))
    return [p for p in parts if p]
