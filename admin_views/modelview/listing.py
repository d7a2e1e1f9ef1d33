"""Listing: the list page's query — search over the fields the role may see, a bounded
count instead of COUNT(*), and keyset «Далее» pages instead of OFFSET (see paging.py)."""

from __future__ import annotations

import math

from flask import flash, g, has_request_context, request
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla import tools
from flask_wtf.csrf import generate_csrf
from sqlalchemy import BigInteger, Integer, false, inspect, or_, select

from models import db

from .. import paging
from ..forms import MAX_BIG_ID, MAX_ID, has_control_characters, without_control_characters
from .rows import ListRows

# Page numbers beyond this show nothing anyway (the count stops at paging.COUNT_CAP;
# further on the list walks by «Далее»), and an OFFSET must be a number the database takes.
MAX_PAGE = 100_000
MAX_SEARCH_LENGTH = 200
INVALID_FILTER = "Фильтр «{name}»: такого значения нет, фильтр не применён."


def acceptable_filter_value(view, flt, value: str) -> bool:
    """Can the database compare a column with this filter value? Flask-Admin checks
    only that an int filter gets an int and a date filter a date; here besides: no
    control character, a choice from the filter's list, a number the database holds."""
    if has_control_characters(value) or len(value) > MAX_SEARCH_LENGTH * 5:
        return False
    try:
        cleaned = flt.clean(value)
    except (TypeError, ValueError):
        return False
    items = cleaned if isinstance(cleaned, list) else [cleaned]
    options = flt.get_options(view)
    if options and not isinstance(cleaned, bool):
        allowed = {str(key) for key, _label in options}
        if any(str(item) not in allowed for item in items):
            return False
    kind = getattr(getattr(flt, "column", None), "type", None)
    small = isinstance(kind, Integer) and not isinstance(kind, BigInteger)
    largest = MAX_ID if small else MAX_BIG_ID  # PostgreSQL casts the value to the column's
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > largest:
            return False
        if isinstance(item, float) and not math.isfinite(item):
            return False
    return True


def _referenced_names(flt, value):
    """`SELECT column FROM its table WHERE column ILIKE value`, uncorrelated: run once."""
    column = flt.column
    return select(column).where(column.ilike(tools.parse_like_term(value))).correlate(None)


class ReferenceLike(sqla_filters.FilterLike):
    """«содержит» on a column of a small referenced table (a district's name, a worker's
    surname): matched once over that table, the list's rows only looked up in the answer.
    ILIKE on the joined column would run SQLite's lower() (a Python function) per row of
    the list's table (239,000 persons for «Участок содержит»)."""

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias).in_(_referenced_names(self, value)))


class ReferenceNotLike(sqla_filters.FilterNotLike):
    """«не содержит» on a referenced table's column, as ReferenceLike."""

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(~column.in_(_referenced_names(self, value)))


REFERENCE_FILTERS = {
    sqla_filters.FilterLike: ReferenceLike,
    sqla_filters.FilterNotLike: ReferenceNotLike,
}


class ListingMixin:
    """get_list that stays fast on large tables, and the «Далее» cursor it leaves behind."""

    page_size = 25
    can_set_page_size = False
    list_template = "admin/opora_list.html"

    def scaffold_filters(self, name):
        """Flask-Admin's filters; a LIKE on another table's column (a relation's) becomes
        a lookup in that table's matches (ReferenceLike)."""
        found = super().scaffold_filters(name)
        own = inspect(self.model).local_table
        for flt in found or ():
            kind = REFERENCE_FILTERS.get(type(flt))
            column = getattr(flt, "column", None)
            if kind is not None and getattr(column, "table", own) is not own:
                flt.__class__ = kind
        return found

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
        count, few = self._counted(query, pk, search) if execute and page_size else (None, False)
        keys, descending = self._keyset(sort_column, sort_desc)
        values = self._after(keys, sort_column, sort_desc) if page_size else None
        ids: list | None = None  # the page's ids in their order, where found first
        if few and keys:
            ids = self._fenced_page(query, keys, descending, values, page * page_size, page_size)
        else:
            if few:
                # A sort by a relation: the matches' ids first, then sorted with its joins.
                found = query.order_by(None).with_entities(pk).offset(0).subquery()
                query, joins = self._unscoped_query().filter(pk.in_(select(found.c[0]))), {}
            query, joins = self._apply_sorting(query, joins, sort_column, sort_desc)
            # The primary key breaks ties, so that pages neither repeat nor skip rows.
            query = query.order_by(pk.desc() if descending else pk)
            if values is not None:
                query = query.filter(paging.after_clause(keys, values, descending))
                query = query.limit(page_size)
            elif few or (page and page_size and execute):
                # A numbered page past the first: its ids first, in the sort's order (one
                # narrow query), then only the page's rows with their relations. Far down
                # (?page=3999, reached by «Назад») an OFFSET over the joined query probed
                # `family` per skipped row. The ids are a list, not a subquery: with a
                # subquery SQLite walked the whole sort index of the outer table to test
                # it. (Page 1 of a whole register walks the sort's index and stops at 25:
                # one query.)
                page_query = query.with_entities(pk).limit(page_size).offset(page * page_size)
                ids = [key for (key,) in page_query]
            else:
                query = self._apply_pagination(query, page, page_size)
        order: dict | None = None
        if ids is not None:
            query = self._unscoped_query().filter(pk.in_(ids))
            order = {key: place for place, key in enumerate(ids)}
        query = query.options(*paging.eager_options(self.model, [c for c, _ in self._list_columns]))
        if not execute:
            return count, query
        rows = query.all()
        if order is not None:
            rows.sort(key=lambda row: order[getattr(row, self._primary_key)])
        if has_request_context():
            g.opora_next_cursor = None
            if keys and page_size and len(rows) == page_size:
                signature = self._signature(sort_column, sort_desc)
                g.opora_next_cursor = paging.encode_cursor(signature, keys, rows[-1])
        return count, rows

    def render(self, template, **kwargs):
        """The list page's rows are built in Python (rows.py), once per page."""
        if template == self.list_template and "data" in kwargs:
            kwargs["list_rows"] = ListRows(
                self,
                list_columns=kwargs["list_columns"],
                row_actions=kwargs["list_row_actions"],
                return_url=kwargs["return_url"],
                checkbox=bool(kwargs["actions"]),
                csrf=generate_csrf(),
            )
        return super().render(template, **kwargs)

    def _get_list_extra_args(self):
        # The cursor belongs to one «Далее» link: sort links, «Назад», the search
        # and filter forms must not carry it on.
        view_args = super()._get_list_extra_args()
        view_args.extra_args.pop("after", None)
        # A forged or mistyped address is read as the nearest sensible list, calmly.
        view_args.page = min(max(view_args.page or 0, 0), MAX_PAGE)
        search = without_control_characters(view_args.search)[:MAX_SEARCH_LENGTH].strip()
        view_args.search = search or None
        return view_args

    def _get_list_filter_args(self):
        """Flask-Admin's reading of the `flt…` parameters, keeping only the values the
        database can compare (acceptable_filter_value); each other one is dropped with
        a Russian word above the list. A filter on a field the role may not see is
        dropped silently (FieldsMixin._filter_hidden), as if it did not exist."""
        if not self._filters:
            return None
        filters = []
        for arg, value in request.args.items():
            if not arg.startswith("flt") or "_" not in arg:
                continue
            position, key = arg[3:].split("_", 1)
            if key not in self._filter_args:
                continue
            index, flt = self._filter_args[key]
            if self._filter_hidden(flt):
                continue
            if flt.validate(value) and acceptable_filter_value(self, flt, value):
                filters.append((position, (index, str(flt.name), value)))
            else:
                flash(INVALID_FILTER.format(name=flt.name), "error")
        return [pair for _position, pair in sorted(filters, key=lambda item: item[0])]

    @staticmethod
    def _counted(query, pk, search) -> tuple[int | None, bool]:
        """The bounded count of `query` (None past COUNT_CAP), and whether few rows match:
        up to the count's cap, or, for a search, up to the fence's (a common surname:
        thousands of matches, all of them far down the name index; 3 million persons,
        «Смирн…»: 15 s of index walk without the fence). A search is counted once, to
        the fence."""
        if not search:
            count = paging.bounded_count(db.session, query, pk)
            return count, count is not None
        found = paging.bounded_count(db.session, query, pk, max(paging.FENCE_CAP, paging.COUNT_CAP))
        if found is None:
            return None, False
        return (found if found <= paging.COUNT_CAP else None), True

    def _after(self, keys, sort_column, sort_desc) -> list | None:
        """The sort key values of the «Далее» cursor (`after=`), if any and sound."""
        cursor = request.args.get("after") if has_request_context() else None
        if not (keys and cursor):
            return None
        values = paging.decode_cursor(self._signature(sort_column, sort_desc), keys, cursor)
        if values is not None and not all(map(_comparable, values)):
            return None  # a forged cursor: the first page
        return values

    @staticmethod
    def _fenced_page(query, keys, descending: bool, after, skip: int, size: int) -> list:
        """The ids of one page of the few rows `query` matches (a search, a filter, a
        district worker's scope), sorted by `keys` (plain columns, the id last).

        The matches are found first, by the indexes of the search and the scope, with
        their sort keys (a covering index hands them over without reading the table),
        then sorted among themselves. Without this fence the planner may walk the sort's
        index over the whole table looking for rare matches (the last page of a
        district: all 76,000); with a fence of ids alone each of a surname's 13,000
        matches was read again from the table for its keys (1,000,000 families)."""
        found = query.order_by(None).with_entities(*keys).offset(0).subquery()
        columns = list(found.c)
        page = select(columns[-1]).order_by(
            *(column.desc() if descending else column for column in columns)
        )
        if after is not None:
            page = page.where(paging.after_clause(columns, after, descending))
        else:
            page = page.offset(skip)
        return list(db.session.scalars(page.limit(size)))

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


def _comparable(value) -> bool:
    """A key value from a «Далее» cursor that the database can compare with a column."""
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= MAX_BIG_ID
    return not has_control_characters(value)
