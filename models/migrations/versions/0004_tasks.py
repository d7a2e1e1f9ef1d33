"""Tasks remember what made the scheduler create them; one open review per case

Revision ID: 0004_tasks
Revises: 0003_cases
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_tasks"
down_revision = "0003_cases"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_task_source_key", ["source_key"])
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index(
            "uq_review_open_case",
            ["case_id"],
            unique=True,
            sqlite_where=sa.text("held_on IS NULL"),
            postgresql_where=sa.text("held_on IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_review_open_case",
            sqlite_where=sa.text("held_on IS NULL"),
            postgresql_where=sa.text("held_on IS NULL"),
        )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_constraint("uq_task_source_key", type_="unique")
        batch_op.drop_column("source_key")
