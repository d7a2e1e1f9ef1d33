"""An index of assessment.case_id that holds every row, archived ones too

Revision ID: 0026_pages
Revises: 0024_perf

The only index leading with assessment.case_id was `uq_assessment_case_id_domain`,
partial (WHERE archived_at IS NULL): the family page's timeline, which counts a case's
assessments archived or not, could not use it and read the whole table (62,000 rows at
76,760 families, 8 ms on PostgreSQL). `ix_assessment_case_id` holds every row. SQLite's
statistics are refreshed (ANALYZE), so its planner knows the new index.
"""

from alembic import op

revision = "0026_pages"
down_revision = "0025_kept"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_assessment_case_id", "assessment", ["case_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE assessment")


def downgrade() -> None:
    op.drop_index("ix_assessment_case_id", table_name="assessment")
