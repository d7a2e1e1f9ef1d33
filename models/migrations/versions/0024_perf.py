"""The archived_at indexes hold the archived rows only; the registers' sorts the live ones

Revision ID: 0024_perf
Revises: 0023_centre

Every archiving table's `ix_<table>_archived_at` indexed every row, nearly all of them
NULL (live). SQLite's statistics give `archived_at = ?` a few hundred rows, so its
planner answered the live person list (`archived_at IS NULL ORDER BY last_name,
first_name, id LIMIT 25`) by reading all 239,000 persons through that index and sorting
them, instead of walking `ix_person_name_id`. The same name now indexes `archived_at`
WHERE `archived_at IS NOT NULL`: the «Архив» lists keep an index, the live lists are
left to their sort's index. Those sort indexes of the two registers
(`ix_person_name_id`, `ix_family_surname_id`) now hold the live rows only (WHERE
`archived_at IS NULL`, the lists' own WHERE): a numbered page far down skips index
entries without reading each row's archived_at. SQLite's statistics are refreshed
(ANALYZE).
Frozen: the table names are listed here, not read from the models.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_perf"
down_revision = "0023_centre"
branch_labels = None
depends_on = None

TABLES = (
    "appointment",
    "assessment",
    "consent",
    "council_meeting",
    "department",
    "district",
    "document",
    "equipment_type",
    "equipment_unit",
    "event",
    "family",
    "loan",
    "partner",
    "partner_agreement",
    "partner_contact",
    "person",
    "programme",
    "programme_enrolment",
    "referral",
    "required_document",
    "service",
    "staff",
    "support_case",
    "visit",
)
ARCHIVED = sa.text("archived_at IS NOT NULL")
LIVE = sa.text("archived_at IS NULL")
SORTS = (
    ("ix_person_name_id", "person", ["last_name", "first_name", "id"]),
    ("ix_family_surname_id", "family", ["surname", "id"]),
)


def upgrade() -> None:
    for table in TABLES:
        name = f"ix_{table}_archived_at"
        op.drop_index(name, table_name=table)
        op.create_index(
            name, table, ["archived_at"], sqlite_where=ARCHIVED, postgresql_where=ARCHIVED
        )
    for name, table, columns in SORTS:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, sqlite_where=LIVE, postgresql_where=LIVE)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE")


def downgrade() -> None:
    for table in TABLES:
        name = f"ix_{table}_archived_at"
        op.drop_index(name, table_name=table)
        op.create_index(name, table, ["archived_at"])
    for name, table, columns in SORTS:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
