"""Indexes that serve the panel's lists: its sorts, filters and substring search.

The search is `column ILIKE '%word%'`. On PostgreSQL a GIN trigram index
(pg_trgm) serves it; SQLite has no such index and scans, which is fine for
one centre's file. The trigram indexes join the metadata only when the app
runs on PostgreSQL (`use_trigram_indexes`), so the models and the migrated
schema agree on both databases.
"""

from __future__ import annotations

from sqlalchemy import DDL, Index, event

from .base import db
from .cases import Case
from .people import Family, Person
from .rental import Loan

# The searchable text columns of the large tables (column_searchable_list of their views).
TRIGRAM_COLUMNS: dict[str, tuple[str, ...]] = {
    "family": ("surname", "address", "phone"),
    "person": ("last_name", "first_name", "middle_name", "snils"),
    "support_case": ("contract_number",),
}

# Composite indexes matching the lists' default sorts with the id that breaks ties
# (keyset «Далее»), and the district filter / district worker's scope with that sort.
Index("ix_family_surname_id", Family.surname, Family.id)
Index("ix_family_district_surname", Family.district_id, Family.surname, Family.id)
Index("ix_person_name_id", Person.last_name, Person.first_name, Person.id)
Index("ix_person_family_name", Person.family_id, Person.last_name, Person.first_name)
Index("ix_support_case_applied_id", Case.application_date, Case.id)
Index("ix_loan_issued_id", Loan.issued_on, Loan.id)

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
