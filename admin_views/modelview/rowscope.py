"""Row scope: which rows a user may reach through a view — in lists, counts, get_one,
relation pickers and prefilled forms alike. The scope itself is workflows.scope.where_visible;
this module applies it everywhere Flask-Admin would otherwise read the whole table."""

from __future__ import annotations

import copy

from flask import abort, request
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from flask_login import current_user
from sqlalchemy import BigInteger, false, inspect, or_

from models import Family, Person, db
from models.base import ArchivedMixin
from models.live import active_for_new_work
from workflows.scope import where_visible
from workflows.search import family_matches, person_matches

from .. import paging
from ..forms import MAX_BIG_ID, MAX_ID, parse_id, without_control_characters
from ..openings import record_opening
from .fields import hidden_in

# A picker offers a page of rows at a time; it never asks for more than this.
PICKER_LIMIT = 50
MAX_OFFSET = 100_000


def pickable(model):
    """Rows of `model` the signed-in user may choose in a form: visible, and active for
    new work (not archived: models/live.py)."""
    return active_for_new_work(db.session.query(model).filter(where_visible(model, current_user)))


# The empty choice of an optional picker.
NOT_CHOSEN = "— не выбрано —"


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """A relation picker that offers only rows the user may see (and not archived).
    `kept` ids stay choosable though not offered: what the edited row already names."""

    kept: frozenset[int] = frozenset()

    def keeping(self, ids) -> ScopedAjaxLoader:
        """This loader for one form, accepting the ids in `ids` besides the offered rows."""
        loader = copy.copy(self)
        loader.kept = frozenset(ids)
        return loader

    def get_query(self):
        return pickable(self.model)

    def _query_for_one(self):
        if not self.kept:
            return self.get_query()
        model = self.model
        return db.session.query(model).filter(
            where_visible(model, current_user),
            or_(active_for_new_work(model), model.id.in_(self.kept)),
        )

    def get_one(self, pk):
        key = parse_id(str(pk))
        if key is None:
            return None  # the form says «Выберите значение из списка.»
        with db.session.no_autoflush:
            return self._query_for_one().filter(self.model.id == key).one_or_none()

    def get_list(self, term, offset=0, limit=10):
        # What the browser sends is taken as typed, within bounds: a control character
        # searches as a space, a negative or huge page is the first or a short one.
        term = without_control_characters(term).strip()
        offset = min(max(offset or 0, 0), MAX_OFFSET)
        limit = min(max(limit or 10, 1), PICKER_LIMIT)
        # Never match on a field the role may not see (a clerk typing a SNILS).
        role = current_user.role
        hidden = hidden_in(role, self.model)
        query = self.get_query()
        matches = KEY_MATCHES.get(self.model)
        if matches is not None:
            # A family or a person by the search keys (workflows/search.py): an index
            # range, no function per row over the whole register.
            query = query.filter(matches(term, snils="snils" not in hidden))
        else:
            fields = [f for f in self._cached_fields if f.key not in hidden]
            query = query.filter(
                or_(*(f.ilike(f"%{term}%") for f in fields)) if fields else false()
            )
        for order in self.options.get("order_by") or []:
            query = query.order_by(order)
        return query.offset(offset).limit(limit).all()


# Pickers for the large tables: typed search instead of a select of every row.
AJAX_SEARCH_FIELDS = {
    Family: ("surname", "address"),
    Person: ("last_name", "first_name", "snils"),
}
# What the pickers of the large tables match, by the search keys: a family by its
# surname (or a member's), address or phone, a person by «фамилия имя отчество» from
# its beginning; either by a SNILS where the role may see it.
KEY_MATCHES = {Family: family_matches, Person: person_matches}


class RowScopeMixin:
    """Every query of the view, and every picker in its forms, sees only the user's rows."""

    audit_opening = False  # record every opening of a row's details or edit page
    # Further single rows the details page reads beside its fields (joined with the row).
    details_loads: tuple[str, ...] = ()

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

    def _unscoped_query(self):
        """Flask-Admin's query of the whole table, for a caller that narrows it itself."""
        return super().get_query()

    def _visible_query(self):
        """The rows the user may see, archived ones included."""
        return self._unscoped_query().filter(where_visible(self.model, current_user))

    def _scoped(self, query):
        query = query.filter(where_visible(self.model, current_user))
        if issubclass(self.model, ArchivedMixin) and not self._showing_archive():
            query = query.filter(self.model.archived_at.is_(None))
        return query

    def get_query(self):
        return self._scoped(super().get_query())

    def get_count_query(self):
        return self._scoped(super().get_count_query())

    def get_one(self, id):
        """Scoped: a row the user may not see is the same as no row (404), and so is an
        id no row can have (not a number, or beyond the integer range)."""
        pk = inspect(self.model).primary_key[0]
        key = parse_id(str(id), MAX_BIG_ID if isinstance(pk.type, BigInteger) else MAX_ID)
        if key is None:
            abort(404)
        # The rows the details page names (its family, applicant, lead worker…) come with
        # the row: one query, not one each as the page reads them.
        shown = (*(getattr(self, "column_details_list", None) or ()), *self.details_loads)
        query = self._visible_query().options(*paging.eager_options(self.model, shown))
        row = query.filter(pk == key).one_or_none()
        if row is None:
            abort(404)
        if self.audit_opening and request.method == "GET":
            record_opening(row)
        return row

    def _scope_pickers(self, form):
        """Offer only rows the user may see in the form's relation selects."""
        for rel in inspect(self.model).relationships:
            field = getattr(form, rel.key, None)
            if isinstance(field, (QuerySelectField, QuerySelectMultipleField)):
                field.query = pickable(rel.mapper.class_)
            if isinstance(field, QuerySelectField) and field.allow_blank:
                field.blank_text = NOT_CHOSEN  # WTForms would show the blank's value, «__None»
        return form

    def create_form(self, obj=None):
        form = self._scope_pickers(super().create_form(obj))
        if request.method == "GET":
            self._prefill_relations(form)
        return form

    def edit_form(self, obj=None):
        return self._scope_pickers(super().edit_form(obj))

    def _prefill_relations(self, form) -> None:
        """`/person/new/?family=12` opens the form with the family chosen (if it may be
        chosen: visible and active for new work)."""
        for rel in inspect(self.model).relationships:
            key = parse_id(request.args.get(rel.key))
            field = getattr(form, rel.key, None)
            if key is None or field is None or rel.uselist:
                continue
            target = rel.mapper.class_
            field.data = pickable(target).filter(target.id == key).one_or_none()
