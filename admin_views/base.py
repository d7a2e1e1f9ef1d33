"""The one secured ModelView every view of the panel inherits.

It decides access from the permission matrix, limits rows with the row scope
(in lists, counts, get_one, pickers and bulk actions alike), hides health data
from roles without the right, labels everything in Russian, turns database
refusals into Russian messages and archives instead of deleting.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_admin.actions import action
from flask_admin.babel import Translations
from flask_admin.contrib.sqla import ModelView, tools
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from flask_admin.form import BaseForm
from flask_admin.model import typefmt
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import Date, DateTime, String, Text, false, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import with_parent
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField
from wtforms.validators import Optional
from wtforms.widgets import DateInput, DateTimeLocalInput

from models import Family, Person, db
from models.audit import record_event
from models.base import ArchivedMixin, utcnow
from models.constraints import integrity_message
from models.roles import hidden_fields
from workflows.errors import WorkflowError
from workflows.scope import where_visible

from . import paging
from . import validators as v
from .export import ExportMixin
from .permissions import allowed

STALE_MESSAGE = (
    "Запись изменил другой пользователь, пока вы её редактировали. "
    "Ниже — текущие значения; внесите свои изменения ещё раз."
)


def _date(view, value, name):
    return value.strftime("%d.%m.%Y")


def _datetime(view, value, name):
    # Stored in UTC (SQLite returns it without a zone); shown in the centre's zone.
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.astimezone(zone).strftime("%d.%m.%Y %H:%M")


TYPE_FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    dt.datetime: _datetime,
    dt.date: _date,
}


def model_labels(model) -> dict[str, str]:
    """Russian labels declared on the model's columns and relationships."""
    mapper = inspect(model)
    labels = {}
    for attr in mapper.attrs:
        info = attr.info if hasattr(attr, "info") else {}
        if not info and hasattr(attr, "columns"):
            info = attr.columns[0].info
        if "label" in info:
            labels[attr.key] = info["label"]
    return labels


def model_choices(model) -> dict[str, list[tuple[str, str]]]:
    return {c.key: c.info["choices"].pairs() for c in inspect(model).columns if "choices" in c.info}


def model_fields(model) -> list[str]:
    return [attr.key for attr in inspect(model).attrs]


def form_choices(model) -> dict[str, list[tuple[str, str]]]:
    """Choices for the forms: a required choice with no default starts blank,
    so that a hurried clerk does not save the first option by accident."""
    result = {}
    for c in inspect(model).columns:
        if "choices" not in c.info:
            continue
        pairs = c.info["choices"].pairs()
        if not c.nullable and c.default is None and c.server_default is None:
            pairs = [("", "— выберите —"), *pairs]
        result[c.key] = pairs
    return result


def health_columns(model) -> set[str]:
    return {c.key for c in inspect(model).columns if c.info.get("health")}


class FormTranslations(Translations):
    """WTForms' Russian catalogue plus the messages Flask-Admin's own fields add."""

    EXTRA = {"Not a valid choice": "Выберите значение из списка."}

    def gettext(self, string: str) -> str:
        return self.EXTRA.get(string) or super().gettext(string)


class OporaForm(BaseForm):
    class Meta:
        _translations = FormTranslations()

        def get_translations(self, form):
            return self._translations


def pickable(model):
    """Rows of `model` the signed-in user may choose in a form: visible and not archived."""
    query = db.session.query(model).filter(where_visible(model, current_user))
    if issubclass(model, ArchivedMixin):
        query = query.filter(model.archived_at.is_(None))
    return query


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """A relation picker that offers only rows the user may see (and not archived)."""

    def get_query(self):
        return pickable(self.model)

    def get_one(self, pk):
        try:
            key = int(pk)
        except (TypeError, ValueError):
            return None
        with db.session.no_autoflush:
            return self.get_query().filter(self.model.id == key).one_or_none()

    def get_list(self, term, offset=0, limit=10):
        # Never match on a field the role may not see (a clerk typing a SNILS).
        role = current_user.role
        hidden = hidden_fields(
            role, self.model.__tablename__, model_fields(self.model), health_columns(self.model)
        )
        fields = [f for f in self._cached_fields if f.key not in hidden]
        query = self.get_query()
        query = query.filter(or_(*(f.ilike(f"%{term}%") for f in fields)) if fields else false())
        for order in self.options.get("order_by") or []:
            query = query.order_by(order)
        return query.offset(offset).limit(limit).all()


# The column that names a row of a table, in order of preference.
NAME_COLUMNS = (
    "name",
    "surname",
    "last_name",
    "inventory_number",
    "title",
    "number",
    "username",
    "id",
)

# Pickers for the large tables: typed search instead of a select of every row.
AJAX_SEARCH_FIELDS = {
    Family: ("surname", "address"),
    Person: ("last_name", "first_name", "snils"),
}


class OporaModelView(ExportMixin, ModelView):
    """Base of every table view: access, scope, labels, validation, archive."""

    # Declarative knobs for subclasses.
    audit_opening = False  # record every opening of a row's details or edit page
    date_order: tuple[tuple[str, str], ...] = ()
    details_related: tuple[tuple[str, tuple[str, ...]], ...] = ()

    form_base_class = OporaForm
    page_size = 25
    can_set_page_size = False
    details_modal = False
    edit_modal = False
    create_modal = False
    column_display_actions = True
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = TYPE_FORMATTERS
    details_template = "admin/opora_details.html"
    list_template = "admin/opora_list.html"
    action_disallowed_list = ("delete",)
    # Inline editing checks column_editable_list, not can_edit: there is none.
    column_editable_list = ()

    def __init__(self, model, name: str, category: str | None = None, endpoint=None):
        self.column_labels = {**model_labels(model), **(self.column_labels or {})}
        self.column_choices = {**model_choices(model), **(self.column_choices or {})}
        self.form_choices = {**form_choices(model), **(self.form_choices or {})}
        self.form_args = self._default_form_args(model)
        self.form_ajax_refs = {**self._default_ajax_refs(model), **(self.form_ajax_refs or {})}
        self._health = health_columns(model)
        self._name_relationship_filters(model)
        if issubclass(model, ArchivedMixin) or hasattr(model, "version"):
            self.form_excluded_columns = tuple(self.form_excluded_columns or ()) + tuple(
                c for c in ("archived_at", "version", "created_at") if hasattr(model, c)
            )
        super().__init__(model, db, name=name, category=category, endpoint=endpoint)

    # --- declarations derived from the model -------------------------------------

    def _default_form_args(self, model) -> dict:
        args: dict[str, dict] = {}
        for col in inspect(model).columns:
            extra = []
            if col.key == "snils":
                extra.append(v.Snils())
            elif col.key == "phone" or col.key.endswith("_phone"):
                extra += [Optional(), v.Phone()]
            elif col.key == "email":
                extra += [Optional(), v.email()]
            elif col.key in v.NAME_COLUMNS:
                extra.append(v.PersonName())
            elif isinstance(col.type, String) and "choices" not in col.info:
                extra.append(v.NoMarkup())
            if isinstance(col.type, Text):
                extra.append(v.text_length())
            field: dict = {}
            if isinstance(col.type, (Date, DateTime)):
                extra.append(v.DateInRange(past_only=col.key in v.PAST_DATE_COLUMNS))
                # The browser's own date input speaks Russian (дд.мм.гггг).
                if isinstance(col.type, DateTime):
                    field.update(widget=DateTimeLocalInput(), format="%Y-%m-%dT%H:%M")
                else:
                    field["widget"] = DateInput()
            if extra:
                field["validators"] = extra
            if field:
                args[col.key] = field
        for key, value in (self.form_args or {}).items():
            merged = args.setdefault(key, {})
            merged.update({k: val for k, val in value.items() if k != "validators"})
            merged["validators"] = merged.get("validators", []) + value.get("validators", [])
        return args

    def _name_relationship_filters(self, model) -> None:
        """A filter on a relationship filters by the related row's name, labelled in Russian.

        Flask-Admin would otherwise offer one filter per column of the related
        table, named after the English column names.
        """
        relationships = inspect(model).relationships
        filters = []
        for name in self.column_filters or ():
            rel = relationships.get(name) if isinstance(name, str) else None
            if rel is not None:
                target = inspect(rel.mapper.class_).columns
                key = next(k for k in NAME_COLUMNS if k in target)
                name = f"{rel.key}.{key}"
                self.column_labels.setdefault(name, rel.info.get("label", rel.key))
            filters.append(name)
        self.column_filters = filters

    def _default_ajax_refs(self, model) -> dict:
        refs = {}
        for rel in inspect(model).relationships:
            target = rel.mapper.class_
            if target in AJAX_SEARCH_FIELDS:
                refs[rel.key] = ScopedAjaxLoader(
                    rel.key,
                    db.session,
                    target,
                    fields=AJAX_SEARCH_FIELDS[target],
                    placeholder="Начните вводить фамилию…",
                    minimum_input_length=2,
                )
        return refs

    # --- access --------------------------------------------------------------------

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
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    @property
    def can_create(self):
        return self._allowed("create")

    @property
    def can_edit(self):
        return self._allowed("edit")

    @property
    def can_delete(self):
        return self._allowed("delete")

    @property
    def can_view_details(self):
        return self._allowed("details")

    # --- rows ------------------------------------------------------------------------

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Every word must match one searchable field the role may see.

        Unlike Flask-Admin's own search there is no CAST (an index on the column
        can serve the ILIKE), and hidden fields are never searched: a clerk
        must not learn that a SNILS exists by searching for it.
        """
        hidden = self._hidden()
        fields = [(f, path) for f, path in self._search_fields or () if f.key not in hidden]
        for term in search.split():
            pattern = tools.parse_like_term(term)
            clauses, count_clauses = [], []
            for field, path in fields:
                query, joins, alias = self._apply_path_joins(query, joins, path, inner_join=False)
                clauses.append(
                    (field if alias is None else getattr(alias, field.key)).ilike(pattern)
                )
                if count_query is not None:
                    count_query, count_joins, count_alias = self._apply_path_joins(
                        count_query, count_joins, path, inner_join=False
                    )
                    column = field if count_alias is None else getattr(count_alias, field.key)
                    count_clauses.append(column.ilike(pattern))
            query = query.filter(or_(*clauses) if clauses else false())
            if count_query is not None:
                count_query = count_query.filter(or_(*count_clauses) if count_clauses else false())
        return query, count_query, joins, count_joins

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's get_list without a full COUNT(*) and without OFFSET on «Далее».

        Returns (count, rows) like Flask-Admin: the count is None when there are
        more than paging.COUNT_CAP rows (the list then shows «Далее» / «Назад»).
        """
        joins: dict = {}
        query = self.get_query()
        if self._search_supported and search:
            query, _, joins, _ = self._apply_search(query, None, joins, {}, search)
        if filters and self._filters:
            query, _, joins, _ = self._apply_filters(query, None, joins, {}, filters)
        page_size = self.page_size if page_size is None else page_size
        pk = inspect(self.model).primary_key[0]
        count = None
        if execute and page_size:
            count = paging.bounded_count(db.session, query, pk)
        few = count is not None or (
            # A search for a common surname: thousands of matches, all of them far
            # down the name index (3 million persons, «Смирн…»: 15 s of index walk).
            execute
            and page_size
            and search
            and paging.bounded_count(db.session, query, pk, paging.FENCE_CAP) is not None
        )
        if few:
            # Few rows match (a search, a filter, a district worker's scope): find them
            # first, by the indexes of the search and the scope, then sort them. Without
            # the fence the planner may walk the sort's index over the whole table
            # looking for rare matches (the last page of a district: all 76,000).
            ids = query.order_by(None).with_entities(pk).offset(0).subquery()
            query, joins = super().get_query().filter(pk.in_(select(ids.c[0]))), {}
        query = query.options(*paging.eager_options(self.model, [c for c, _ in self._list_columns]))
        query, joins = self._apply_sorting(query, joins, sort_column, sort_desc)
        keys, descending = self._keyset(sort_column, sort_desc)
        # The primary key breaks ties, so that pages neither repeat nor skip rows.
        query = query.order_by(pk.desc() if descending else pk)
        cursor = request.args.get("after") if has_request_context() else None
        values = (
            paging.decode_cursor(self._signature(sort_column, sort_desc), keys, cursor)
            if (keys and cursor and page_size)
            else None
        )
        if values is not None:
            query = query.filter(paging.after_clause(keys, values, descending)).limit(page_size)
        else:
            query = self._apply_pagination(query, page, page_size)
        if not execute:
            return count, query
        rows = query.all()
        if has_request_context():
            g.opora_next_cursor = None
            if keys and page_size and len(rows) == page_size:
                signature = self._signature(sort_column, sort_desc)
                g.opora_next_cursor = paging.encode_cursor(signature, keys, rows[-1])
        return count, rows

    def _get_list_extra_args(self):
        # The cursor belongs to one «Далее» link: sort links, «Назад», the search
        # and filter forms must not carry it on.
        view_args = super()._get_list_extra_args()
        view_args.extra_args.pop("after", None)
        return view_args

    def _keyset(self, sort_column, sort_desc):
        """(key columns, descending) of the list's sort if keyset paging suits it."""
        if sort_column is not None:
            field = self._sortable_columns.get(sort_column)
            if self._sortable_joins.get(sort_column) or isinstance(field, list):
                return None, bool(sort_desc)
            fields = [(field, bool(sort_desc))]
        else:
            fields = []
            for field, joins, desc in self._get_default_order():
                if joins:
                    return None, bool(desc)
                fields.append((field, bool(desc)))
        descending = bool(fields and fields[0][1])
        return paging.keyset_columns(self.model, fields), descending

    def _signature(self, sort_column, sort_desc) -> str:
        return f"{self.endpoint}:{sort_column or ''}:{int(bool(sort_desc))}"

    def next_cursor(self) -> str | None:
        """The «Далее» link's key of the list page just built (see get_list)."""
        return g.get("opora_next_cursor")

    def _scoped(self, query):
        query = query.filter(where_visible(self.model, current_user))
        if issubclass(self.model, ArchivedMixin) and not self._showing_archive():
            query = query.filter(self.model.archived_at.is_(None))
        return query

    def _showing_archive(self) -> bool:
        return request.args.get("archive") == "1"

    def get_query(self):
        return self._scoped(super().get_query())

    def get_count_query(self):
        return self._scoped(super().get_count_query())

    def get_one(self, id):
        """Scoped: a row the user may not see is the same as no row (404)."""
        pk = inspect(self.model).primary_key[0]
        try:
            key = pk.type.python_type(id)
        except (TypeError, ValueError):
            abort(404)
        query = super().get_query().filter(where_visible(self.model, current_user))
        row = query.filter(pk == key).one_or_none()
        if row is None:
            abort(404)
        if self.audit_opening and request.method == "GET":
            record_event(db.session, "view", self.model.__tablename__, key)
            db.session.commit()
        return row

    # --- fields the role may see ---------------------------------------------------
    # Flask-Admin computes its column lists once at start-up; these properties
    # filter them per request, so health data never reaches a role without the right.

    def _hidden(self) -> set[str]:
        if not has_request_context():
            return set()
        return hidden_fields(
            self.role, self.model.__tablename__, model_fields(self.model), self._health
        )

    def search_placeholder(self):
        """Name only the fields the role may search: never hint at hidden ones."""
        hidden = self._hidden()
        labels = [
            self.column_labels.get(name, name)
            for name in self.column_searchable_list or ()
            if isinstance(name, str) and name not in hidden
        ]
        return ", ".join(labels) or None

    def _visible(self, columns):
        hidden = self._hidden()
        return [c for c in columns if c[0] not in hidden]

    @property
    def _list_columns(self):
        return self._visible(self.__dict__["_all_list_columns"])

    @_list_columns.setter
    def _list_columns(self, value):
        self.__dict__["_all_list_columns"] = value

    @property
    def _details_columns(self):
        # Flask-Admin skips this at start-up when details look forbidden (no user yet).
        if "_all_details_columns" not in self.__dict__:
            self.__dict__["_all_details_columns"] = self.get_details_columns()
        return self._visible(self.__dict__["_all_details_columns"])

    @_details_columns.setter
    def _details_columns(self, value):
        self.__dict__["_all_details_columns"] = value

    def get_filter_arg(self, index, flt) -> str:
        """The filter's URL name from its column and operation, e.g. `district_name_equals`.

        Flask-Admin builds it from the label with Latin letters kept only: every
        Russian label became `_equals`, so different filters shared one URL name.
        """
        column = getattr(flt, "column", None)
        key = getattr(column, "key", None)
        if key is None:
            return str(index)
        table = getattr(getattr(column, "table", None), "name", None)
        operation = flt.operation()
        operation = getattr(operation, "_args", (operation,))[0]
        prefix = f"{table}_" if table and table != self.model.__tablename__ else ""
        return re.sub(r"[^a-z0-9]+", "_", f"{prefix}{key} {operation}".lower())

    def _filter_hidden(self, flt) -> bool:
        """A filter on a field the role may not see, here or on a related table
        (a clerk must not narrow persons by their family's category)."""
        column = getattr(flt, "column", None)
        key = getattr(column, "key", None)
        table = getattr(getattr(column, "table", None), "name", None)
        if table is None or table == self.model.__tablename__:
            return key in self._hidden()
        model = next(
            (m.class_ for m in db.Model.registry.mappers if m.local_table.name == table), None
        )
        if model is None or not has_request_context():
            return False
        return key in hidden_fields(self.role, table, model_fields(model), health_columns(model))

    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        if not groups or not self._hidden():
            return groups
        return {
            name: options
            for name, options in groups.items()
            if not any(self._filter_hidden(self._filters[o["index"]]) for o in options)
        }

    def _get_list_filter_args(self):
        filters = super()._get_list_filter_args()
        if not filters:
            return filters
        return [f for f in filters if not self._filter_hidden(self._filters[f[0]])]

    def _fit_form(self, form):
        """Drop the fields the role may not see; offer only rows the user may see."""
        for name in self._hidden():
            if name in form:
                delattr(form, name)
        for rel in inspect(self.model).relationships:
            field = getattr(form, rel.key, None)
            if isinstance(field, (QuerySelectField, QuerySelectMultipleField)):
                field.query = pickable(rel.mapper.class_)
        return form

    def create_form(self, obj=None):
        form = self._fit_form(super().create_form(obj))
        if request.method == "GET":
            self._prefill_relations(form)
        return form

    def _prefill_relations(self, form) -> None:
        """`/person/new/?family=12` opens the form with the family chosen (if visible)."""
        for rel in inspect(self.model).relationships:
            raw = request.args.get(rel.key)
            field = getattr(form, rel.key, None)
            if raw is None or field is None or rel.uselist or not raw.isdigit():
                continue
            target = rel.mapper.class_
            field.data = (
                db.session.query(target)
                .filter(where_visible(target, current_user), target.id == int(raw))
                .one_or_none()
            )

    def edit_form(self, obj=None):
        form = self._fit_form(super().edit_form(obj))
        if hasattr(form, "seen_version") and obj is not None and request.method == "GET":
            form.seen_version.data = obj.version
        return form

    # --- validation and saving --------------------------------------------------------

    def scaffold_form(self):
        form_class = super().scaffold_form()
        if hasattr(self.model, "version"):
            # The version the user started editing from travels with the form.
            form_class.seen_version = HiddenField()
        return form_class

    def update_model(self, form, model) -> bool:
        """Refuse a save made from a stale copy and show the current values instead."""
        seen = getattr(form, "seen_version", None)
        if seen is not None:
            if str(seen.data) != str(model.version):
                flash(STALE_MESSAGE, "error")
                form.process(formdata=None, obj=model)
                for field in form:
                    # Date inputs render raw_data first: drop the refused POST's text.
                    field.raw_data = None
                form.seen_version.data = model.version
                return False
            delattr(form, "seen_version")
        return super().update_model(form, model)

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if not valid or request.method != "POST":
            return valid
        for start, end in self.date_order:
            first, last = getattr(form, start, None), getattr(form, end, None)
            if first is None or last is None or not first.data or not last.data:
                continue
            if last.data < first.data:
                last.errors = list(last.errors) + [
                    f"Не может быть раньше поля «{self.column_labels.get(start, start)}»."
                ]
                valid = False
        return valid

    def handle_view_exception(self, exc):
        if isinstance(exc, IntegrityError):
            flash(integrity_message(exc), "error")
            return True
        if isinstance(exc, StaleDataError):
            flash(STALE_MESSAGE, "error")
            return True
        if isinstance(exc, WorkflowError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)

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
        keys = []
        for raw in ids:
            try:
                keys.append(pk.type.python_type(raw))
            except (TypeError, ValueError):
                continue
        return pk.in_(keys)

    def is_action_allowed(self, name: str) -> bool:
        if name == "archive":
            return self.can_delete and issubclass(self.model, ArchivedMixin)
        if name == "restore":
            return self.role == "admin" and issubclass(self.model, ArchivedMixin)
        return super().is_action_allowed(name)

    @action("restore", "Восстановить из архива", "Вернуть выбранные записи из архива?")
    def action_restore(self, ids):
        rows = (
            super()
            .get_query()
            .filter(where_visible(self.model, current_user))
            .filter(self._pk_in(ids))
            .all()
        )
        for row in rows:
            row.archived_at = None
        db.session.commit()
        flash(f"Восстановлено из архива: {len(rows)}.", "success")

    # --- the details page's related tables -----------------------------------------

    def details_notices(self, model) -> list[tuple[str, str]]:
        """(Bootstrap level, text) notices shown above a row's details."""
        return []

    # Related rows made by a workflow page, not by the plain form: no «Добавить» for them.
    details_related_by_workflow: frozenset[str] = frozenset()

    def details_actions(self, model) -> list[tuple[str, str, str]]:
        """(words, url, element id) of the work pages to go to from a row's details."""
        return []

    def related_tables(self, model):
        """(title, headers, rows) for each relationship in details_related the role may list."""
        tables = []
        for rel_name, columns in self.details_related:
            rel = inspect(self.model).relationships[rel_name]
            target = rel.mapper.class_
            view = self._view_of(target)
            if view is None or not allowed(self.role, view.endpoint, "list"):
                continue
            hidden = hidden_fields(
                self.role, target.__tablename__, model_fields(target), health_columns(target)
            )
            shown = [c for c in columns if c not in hidden]
            choices = model_choices(target)
            query = (
                db.session.query(target)
                .filter(with_parent(model, getattr(self.model, rel_name)))
                .filter(where_visible(target, current_user))
                .options(*paging.eager_options(target, shown))
            )
            rows = []
            for row in query.limit(200):
                cells = []
                for col in shown:
                    value = getattr(row, col)
                    if value is None:
                        value = ""
                    elif col in choices:
                        value = dict(choices[col]).get(value, value)
                    elif isinstance(value, dt.date):
                        value = _date(self, value, col)
                    cells.append(escape(value))
                url = None
                if allowed(self.role, view.endpoint, "details"):
                    url = url_for(f"{view.endpoint}.details_view", id=row.id)
                rows.append((url, cells))
            labels = model_labels(target)
            add_url = None
            if (
                rel.back_populates
                and rel_name not in self.details_related_by_workflow
                and (rel.uselist or not rows)
                and allowed(self.role, view.endpoint, "create")
            ):
                add_url = url_for(
                    f"{view.endpoint}.create_view",
                    **{rel.back_populates: model.id},
                    url=request.full_path,
                )
            tables.append(
                (rel.info.get("label", rel_name), [labels.get(c, c) for c in shown], rows, add_url)
            )
        return tables

    def _view_of(self, model):
        for view in self.admin._views:
            if isinstance(view, OporaModelView) and view.model is model:
                return view
        return None
