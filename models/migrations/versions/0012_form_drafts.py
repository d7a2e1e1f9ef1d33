"""Form drafts: what a user typed after their session ended, kept until they sign in

Revision ID: 0012_form_drafts
Revises: 0011_archive

One row a form sent with an ended session: the hash of the browser's key, the
user, the page to fill in again, the fields as JSON and when the draft expires
(24 hours; the tick deletes it then). Drafts are the user's unsaved typing, not
a person's record: they are deleted, never archived.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_form_drafts"
down_revision = "0011_archive"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_form_draft_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_form_draft"),
        sa.UniqueConstraint("token_hash", name="uq_form_draft_token_hash"),
    )
    op.create_index("ix_form_draft_user_id", "form_draft", ["user_id"])
    op.create_index("ix_form_draft_expires_at", "form_draft", ["expires_at"])


def downgrade():
    op.drop_index("ix_form_draft_expires_at", table_name="form_draft")
    op.drop_index("ix_form_draft_user_id", table_name="form_draft")
    op.drop_table("form_draft")
