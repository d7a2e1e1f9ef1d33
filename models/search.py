"""Indexes that serve the panel's lists: its sorts, filters and searches.

Families, persons, contracts, equipment and partners are searched by their
generated keys (models/keys.py): a surname or a number by a prefix of its key —
a range scan of a btree index on both databases (the keys compare bytewise) — and
a family's address and phone anywhere within `family.text_key`: on PostgreSQL a
GIN trigram index (pg_trgm) serves `LIKE '%…%'`, on SQLite the key's btree index
is read whole instead of the table (a covering scan, no function per row).
The other tables' lists keep `column ILIKE '%word%'`, served on PostgreSQL by
trigram indexes. The trigram indexes join the metadata only when the app runs on
PostgreSQL (`use_trigram_indexes`), so the models and the migrated schema agree on
both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Index, event

from .base import ArchivedMixin, Model, db
from .cases import Case
from .keys import KEYS, install_sqlite_triggers
from .people import Family, Person
from .reference import Partner
from .referrals import Referral
from .rental import EquipmentUnit, Loan

# The searchable text columns of the large tables (column_searchable_list of their views).
TRIGRAM_COLUMNS: dict[str, tuple[str, ...]] = {
    "family": ("surname", "address", "phone"),
    "person": ("last_name", "first_name", "middle_name", "snils"),
    "support_case": ("contract_number",),
}
# Searched anywhere within on PostgreSQL (the generated key of models/keys.py).
TRIGRAM_COLUMNS["family"] += ("text_key",)


# Composite indexes matching the lists' default sorts with the id that breaks ties
# (keyset «Далее»), and the district filter / district worker's scope with that sort.
# The registers' and the referrals' default sorts hold the live rows only (`archived_at
# IS NULL`, the lists' WHERE): a numbered page far down skips index entries alone, never
# reading a row to learn whether it is archived (?page=3999 of persons on SQLite: 1.35 →
# 0.08 s).
def _live_rows_index(name: str, *columns: Any) -> Index:
    """An index of the live rows only (`archived_at IS NULL`, the lists' WHERE)."""
    live = columns[0].class_.archived_at.is_(None)
    return Index(name, *columns, sqlite_where=live, postgresql_where=live)


_live_rows_index("ix_family_surname_id", Family.surname, Family.id)
Index("ix_family_district_surname", Family.district_id, Family.surname, Family.id)
_live_rows_index("ix_person_name_id", Person.last_name, Person.first_name, Person.id)
Index("ix_person_family_name", Person.family_id, Person.last_name, Person.first_name)
Index("ix_support_case_applied_id", Case.application_date, Case.id)
Index("ix_loan_issued_id", Loan.issued_on, Loan.id)
# The referrals' list, newest prepared first: the page is the index's first entries, not a
# sort of every live referral (33,000 at 1,000,000 families, 100 ms).
_live_rows_index("ix_referral_prepared_id", Referral.prepared_on, Referral.id)

# The archived rows of every table that archives (the «Архив» lists): a partial index.
# The live lists (`archived_at IS NULL`, nearly every row) are served by their sort's
# index; an index of every row's archived_at drew SQLite's planner (its statistics give
# `archived_at = ?` a few hundred rows) to read 239,000 persons through it and sort them.
for _name, _archiving in sorted(db.metadata.tables.items()):
    _class = next((m.class_ for m in Model.registry.mappers if m.local_table is _archiving), None)
    if _class is not None and issubclass(_class, ArchivedMixin):
        _archived = _archiving.c.archived_at
        Index(
            f"ix_{_name}_archived_at",
            _archived,
            sqlite_where=_archived.is_not(None),
            postgresql_where=_archived.is_not(None),
        )

# The search keys: a prefix is a range of these indexes. On SQLite triggers keep them.
for _table in sorted({table for table, _key in KEYS}):
    install_sqlite_triggers(db.metadata.tables[_table])
Index("ix_family_search_key", Family.search_key)
Index("ix_family_text_key", Family.text_key)
# A person's key with what the list reads of each match: the name (its sort), the family
# (a district worker's scope) and whether archived, so that a common surname's thousands
# of matches are counted, scoped and sorted from the index alone (0027_lists).
Index(
    "ix_person_search_key",
    Person.search_key,
    Person.last_name,
    Person.first_name,
    Person.family_id,
    Person.archived_at,
    Person.id,
)
Index("ix_support_case_contract_key", Case.contract_key)
Index("ix_equipment_unit_inventory_key", EquipmentUnit.inventory_key)
Index("ix_partner_name_key", Partner.name_key)

CREATE_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"

event.listen(db.metadata, "before_create", DDL(CREATE_EXTENSION).execute_if(dialect="postgresql"))


def trigram_index_name(table: str, column: str) -> str:
    return f"ix_{table}_{column}_trgm"


def use_trigram_indexes() -> None:
    """Add the GIN trigram indexes to the metadata (once): the app runs on PostgreSQL."""
    for table_name, columns in TRIGRAM_COLUMNS.items():
        table = db.metadata.tables[table_name]
        existing = {index.name for index in table.indexes}
        for column in columns:
            name = trigram_index_name(table_name, column)
            if name not in existing:
                # An Index of a table's column attaches itself to that table.
                Index(
                    name,
                    table.c[column],
                    postgresql_using="gin",
                    postgresql_ops={column: "gin_trgm_ops"},
                )
