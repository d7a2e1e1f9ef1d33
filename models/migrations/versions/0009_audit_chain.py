"""The audit trail's hash chain (audit_seal); TRUNCATE refused on the chain's tables

Revision ID: 0009_audit_chain
Revises: 0008_figures
"""

import sqlalchemy as sa
from alembic import op

from models.audit import CHAIN_SQL, DROP_CHAIN_SQL, DROP_SEAL_SQL, SEAL_SQL

revision = "0009_audit_chain"
down_revision = "0008_figures"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "audit_seal",
        sa.Column("audit_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("prev_id", BIG_ID, nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name="pk_audit_seal"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in (*CHAIN_SQL, *SEAL_SQL):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in DROP_SEAL_SQL:
            op.execute(statement)
    op.drop_table("audit_seal")
    if op.get_bind().dialect.name == "postgresql":
        for statement in DROP_CHAIN_SQL:
            op.execute(statement)
