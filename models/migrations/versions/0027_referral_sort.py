"""The referrals' list sorted by an index: referral (prepared_on, id) of the live rows

Revision ID: 0027_referral_sort
Revises: 0026_pages

The list of referrals opens newest prepared first (`column_default_sort`, the id breaking
ties); with no index of that order PostgreSQL joined and sorted every live referral for
each page (33,000 at 1,000,000 families: 100 ms). `ix_referral_prepared_id` holds the
live rows, as the registers' sort indexes do (0024_perf). SQLite's statistics are
refreshed (ANALYZE), so its planner knows the new index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_referral_sort"
down_revision = "0026_pages"
branch_labels = None
depends_on = None

LIVE = sa.text("archived_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_referral_prepared_id",
        "referral",
        ["prepared_on", "id"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE referral")


def downgrade() -> None:
    op.drop_index("ix_referral_prepared_id", table_name="referral")
