"""Kept district figures for the reports; indexes for the board and the children counts

Revision ID: 0008_figures
Revises: 0007_scale
"""

import sqlalchemy as sa
from alembic import op

from models.figures import drop_triggers, triggers
from models.people import CHILD_ROWS

revision = "0008_figures"
down_revision = "0007_scale"
branch_labels = None
depends_on = None


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
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "families",
                "children",
                "low_income_children",
                "disabled_children",
                "ovz_children",
                "dangerous_minors",
            )
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name="fk_district_figures_district_id_district",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("district_id", "on_date", name="pk_district_figures"),
    )
    op.create_index(
        "ix_person_child_family",
        "person",
        ["family_id", "birth_date", "disability_status"],
        sqlite_where=sa.text(CHILD_ROWS),
        postgresql_where=sa.text(CHILD_ROWS),
    )
    op.create_index(
        "ix_task_new_role_due",
        "task",
        ["role", "due_date", "id"],
        sqlite_where=sa.text("status = 'new'"),
        postgresql_where=sa.text("status = 'new'"),
    )
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_task_new_role_due", table_name="task")
    op.drop_index("ix_person_child_family", table_name="person")
    op.drop_table("district_figures")
    op.drop_table("district_tally")
