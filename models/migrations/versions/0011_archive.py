"""Nothing is lost: archived_at on every table whose rows the panel used to delete

Revision ID: 0011_archive
Revises: 0010_audit_chain

The panel's «Удалить» archives these rows now instead of deleting them, so
each table gets `archived_at` (indexed, as on families and cases). Three
unique rules become partial unique indexes over the live rows, under the
same names: a cancelled (archived) appointment frees its slot, and an
archived assessment or programme enrolment does not stop a corrected one
being entered. Downgrading fails if archived rows duplicate live ones.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_archive"
down_revision = "0010_audit_chain"
branch_labels = None
depends_on = None

TABLES = (
    "consent",
    "programme_enrolment",
    "assessment",
    "visit",
    "appointment",
    "equipment_type",
    "equipment_unit",
    "department",
    "district",
    "staff",
    "service",
    "programme",
    "partner",
    "council_meeting",
    "event",
)
LIVE = "archived_at IS NULL"
# (name, table, columns) of the unique rules that now hold among live rows only.
LIVE_UNIQUE = (
    ("uq_programme_enrolment_programme_id_family_id_enrolled_on", "programme_enrolment",
     ["programme_id", "family_id", "enrolled_on"]),
    ("uq_assessment_case_id_domain", "assessment", ["case_id", "domain"]),
    ("uq_appointment_specialist_id_starts_at", "appointment", ["specialist_id", "starts_at"]),
)  # fmt: skip


def upgrade():
    unique = {table: name for name, table, _columns in LIVE_UNIQUE}
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
            batch_op.create_index(f"ix_{table}_archived_at", ["archived_at"], unique=False)
            if table in unique:
                batch_op.drop_constraint(unique[table], type_="unique")
    for name, table, columns in LIVE_UNIQUE:
        op.create_index(
            name,
            table,
            columns,
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )


def downgrade():
    for name, table, _columns in LIVE_UNIQUE:
        op.drop_index(name, table_name=table)
    live_unique = {table: (name, columns) for name, table, columns in LIVE_UNIQUE}
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch_op:
            if table in live_unique:
                batch_op.create_unique_constraint(*live_unique[table])
            batch_op.drop_index(f"ix_{table}_archived_at")
            batch_op.drop_column("archived_at")
