"""Kept district figures for the reports; indexes for the board, the home page and the reports

Revision ID: 0008_figures
Revises: 0007_scale
"""

import sqlalchemy as sa
from alembic import op

from models.cases import ACTIVE_CASE_ROWS, OPEN_TASK_ROWS
from models.figures import FIGURES, drop_triggers, triggers
from models.people import CHILD_ROWS

revision = "0008_figures"
down_revision = "0007_scale"
branch_labels = None
depends_on = None

PARTIAL_INDEXES = (
    ("ix_person_child_family", "person", ["family_id", "birth_date", "disability_status"],
     CHILD_ROWS),
    ("ix_task_new_role_due", "task", ["role", "due_date", "id"], "status = 'new'"),
    ("ix_task_open_assignee", "task", ["assignee_id", "due_date"], OPEN_TASK_ROWS),
    ("ix_support_case_active_end", "support_case", ["planned_end_date", "id"], ACTIVE_CASE_ROWS),
    ("ix_task_done_closed", "task", ["closed_at", "assignee_id"], "status = 'done'"),
    ("ix_support_case_live_applied", "support_case", ["application_date"], "archived_at IS NULL"),
    ("ix_support_case_live_closed", "support_case", ["closed_on", "closure_reason"],
     "archived_at IS NULL"),
    ("ix_family_live_status", "family", ["status"], "archived_at IS NULL"),
)  # fmt: skip
PLAIN_INDEXES = (
    ("ix_plan_activity_planned", "plan_activity",
     ["planned_date", "service_id", "specialist_id", "status"]),
    ("ix_review_held_on", "review", ["held_on"]),
)  # fmt: skip


def upgrade():
    op.create_table(
        "district_tally",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name="fk_district_tally_district_id_district",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("district_id", name="pk_district_tally"),
    )
    op.create_table(
        "district_figures",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name="fk_district_figures_district_id_district",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("district_id", "on_date", name="pk_district_figures"),
    )
    for name, table, columns, where in PARTIAL_INDEXES:
        op.create_index(
            name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
        )
    for name, table, columns in PLAIN_INDEXES:
        op.create_index(name, table, columns)
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    for name, table, *_definition in (*PARTIAL_INDEXES, *PLAIN_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("district_figures")
    op.drop_table("district_tally")
