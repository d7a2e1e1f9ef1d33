"""Lists that stay fast on large tables: a bounded count, keyset pages, eager loading.

- The count stops at `COUNT_CAP` rows: `SELECT count(*) FROM (… LIMIT cap + 1)` costs
  the same on a 100-row and on a 10-million-row table. Up to the cap the list has
  numbered pages; beyond it «Далее» / «Назад» (Flask-Admin's simple pager).
- «Далее» carries the last row's sort key (`after=`), so the next page is a range
  scan of an index instead of an OFFSET that reads and drops every earlier row.
- Relations shown in a list (and those a related row's name needs) are loaded
  with the page in the same query: no query per row.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

from sqlalchemy import Boolean, Date, DateTime, Integer, func, inspect, tuple_
from sqlalchemy.orm import ColumnProperty, joinedload

from models import EquipmentUnit, PlanActivity, Reservation, TaskAssignment

COUNT_CAP = 1_000
# A search matching up to this many rows is sorted from its matches (see get_list).
FENCE_CAP = 20_000

# Relations a model's __str__ reads: loaded together with the model in lists.
STR_RELATIONS: dict[type, tuple[str, ...]] = {
    EquipmentUnit: ("type",),
    Reservation: ("type",),
    PlanActivity: ("service",),
    TaskAssignment: ("staff",),
}


def bounded_count(session, query, pk, cap: int | None = None) -> int | None:
    """Rows of `query` if at most `cap` (COUNT_CAP), else None («more than the cap»)."""
    cap = COUNT_CAP if cap is None else cap
    limited = query.order_by(None).with_entities(pk).limit(cap + 1).subquery()
    count = session.query(func.count()).select_from(limited).scalar()
    return count if count <= cap else None


def eager_options(model, names):
    """joinedload options for the relationships among `names` and their names' relations."""
    relationships = inspect(model).relationships
    options = []
    for name in names:
        rel = relationships.get(name)
        if rel is None or rel.uselist:
            continue
        option = joinedload(getattr(model, name))
        target = rel.mapper.class_
        for inner in STR_RELATIONS.get(target, ()):
            options.append(option.joinedload(getattr(target, inner)))
        if not STR_RELATIONS.get(target):
            options.append(option)
    return options


def keyset_columns(model, fields) -> list | None:
    """The model's own non-null columns of a sort, plus the primary key; None if unsuited.

    `fields` is [(attribute, descending)]. Keyset paging needs plain columns that
    are never NULL (a NULL does not compare) and one direction for all of them.
    """
    if not fields or len({desc for _, desc in fields}) != 1:
        return None
    columns = []
    for attribute, _desc in fields:
        prop = getattr(attribute, "property", None)
        if not isinstance(prop, ColumnProperty) or getattr(attribute, "class_", None) is not model:
            return None
        column = prop.columns[0]
        if column.nullable or column.table is not inspect(model).local_table:
            return None
        columns.append(column)
    pk = inspect(model).primary_key[0]
    if pk not in columns:
        columns.append(pk)
    return columns


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _typed(column, value):
    if value is None:
        raise ValueError("null key")
    kind = column.type
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return dt.date.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, Integer):
        return int(value)
    return str(value)


def encode_cursor(signature: str, columns, row) -> str:
    values = [_plain(getattr(row, c.key)) for c in columns]
    raw = json.dumps([signature, values], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(signature: str, columns, cursor: str) -> list | None:
    """The key values in `cursor` if it was made for this sort; None otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, values = json.loads(raw)
        if made_for != signature or len(values) != len(columns):
            return None
        return [_typed(c, v) for c, v in zip(columns, values, strict=True)]
    except (ValueError, TypeError):
        return None


def after_clause(columns, values, descending: bool):
    """Rows strictly after `values` in the sort order (a row-value comparison)."""
    left, right = tuple_(*columns), tuple_(*values)
    return left < right if descending else left > right
