"""The audit table is append-only on PostgreSQL

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from models.audit import APPEND_ONLY_SQL, DROP_APPEND_ONLY_SQL

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in APPEND_ONLY_SQL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in DROP_APPEND_ONLY_SQL:
            op.execute(statement)
