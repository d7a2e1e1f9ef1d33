"""Indexes for large lists: sorts with a tie-breaking id, district filters, trigram search

Revision ID: 0007_scale
Revises: 0006_reports
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_scale"
down_revision = "0006_reports"
branch_labels = None
depends_on = None

CREATE_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
# The columns searched by substring when this migration was written (PostgreSQL only).
TRIGRAM_COLUMNS = {
    "family": ("surname", "address", "phone"),
    "person": ("last_name", "first_name", "middle_name", "snils"),
    "support_case": ("contract_number",),
}


def trigram_index_name(table: str, column: str) -> str:
    return f"ix_{table}_{column}_trgm"

INDEXES = (
    ("ix_family_surname_id", "family", ["surname", "id"]),
    ("ix_family_district_surname", "family", ["district_id", "surname", "id"]),
    ("ix_person_name_id", "person", ["last_name", "first_name", "id"]),
    ("ix_person_family_name", "person", ["family_id", "last_name", "first_name"]),
    ("ix_support_case_applied_id", "support_case", ["application_date", "id"]),
    ("ix_loan_issued_id", "loan", ["issued_on", "id"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite searches without an index
    op.execute(CREATE_EXTENSION)
    for table, columns in TRIGRAM_COLUMNS.items():
        for column in columns:
            op.create_index(
                trigram_index_name(table, column),
                table,
                [sa.text(f"{column} gin_trgm_ops")],
                postgresql_using="gin",
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in TRIGRAM_COLUMNS.items():
            for column in columns:
                op.drop_index(trigram_index_name(table, column), table_name=table)
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
