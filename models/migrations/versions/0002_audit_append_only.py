"""The audit table is append-only on PostgreSQL

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The statements as they were written (models/audit.py runs the same for create_all).
APPEND_ONLY_SQL = (
    """
    CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit_record is append-only';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_record_append_only
    BEFORE UPDATE OR DELETE ON audit_record
    FOR EACH ROW EXECUTE FUNCTION audit_record_append_only()
    """,
)
DROP_APPEND_ONLY_SQL = (
    "DROP TRIGGER IF EXISTS audit_record_append_only ON audit_record",
    "DROP FUNCTION IF EXISTS audit_record_append_only()",
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in APPEND_ONLY_SQL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in DROP_APPEND_ONLY_SQL:
            op.execute(statement)
