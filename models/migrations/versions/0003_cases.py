"""Case lifecycle rules: an active case has a contract; one open case per family

Revision ID: 0003_cases
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_cases"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN = "status <> 'closed' AND archived_at IS NULL"


def upgrade():
    with op.batch_alter_table("support_case", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_support_case_active_has_contract"),
            "status IN ('application', 'assessment') OR (contract_number IS NOT NULL "
            "AND contract_date IS NOT NULL AND planned_end_date IS NOT NULL)",
        )
        batch_op.create_index(
            "uq_support_case_open_family",
            ["family_id"],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )


def downgrade():
    with op.batch_alter_table("support_case", schema=None) as batch_op:
        batch_op.drop_index("uq_support_case_open_family")
        batch_op.drop_constraint(op.f("ck_support_case_active_has_contract"), type_="check")
