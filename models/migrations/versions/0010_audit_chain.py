"""The audit trail's hash chain (audit_seal); TRUNCATE refused on the chain's tables

Revision ID: 0010_audit_chain
Revises: 0009_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_audit_chain"
down_revision = "0009_sessions"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The statements as they were written (models/audit.py runs the same for create_all);
# kept here so that later edits of the models cannot change what this migration does.
REFUSE_FUNCTION_SQL = """
    CREATE OR REPLACE FUNCTION audit_refuse() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' AND current_setting('is_superuser') = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
    END;
    $$ LANGUAGE plpgsql
"""
CHAIN_SQL = (
    """
    CREATE OR REPLACE FUNCTION audit_record_next_id() RETURNS bigint AS $$
    BEGIN
        PERFORM pg_current_xact_id();
        RETURN nextval('audit_record_id_seq');
    END;
    $$ LANGUAGE plpgsql
    """,
    "ALTER TABLE audit_record ALTER COLUMN id SET DEFAULT audit_record_next_id()",
    REFUSE_FUNCTION_SQL,
    """
    CREATE TRIGGER audit_record_no_truncate
    BEFORE TRUNCATE ON audit_record
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse()
    """,
)
DROP_CHAIN_SQL = (
    "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record",
    "ALTER TABLE audit_record ALTER COLUMN id SET DEFAULT nextval('audit_record_id_seq')",
    "DROP FUNCTION IF EXISTS audit_record_next_id()",
    "DROP FUNCTION IF EXISTS audit_refuse()",
)
SEAL_SQL = (
    REFUSE_FUNCTION_SQL,
    """
    CREATE TRIGGER audit_seal_append_only
    BEFORE UPDATE OR DELETE ON audit_seal
    FOR EACH ROW EXECUTE FUNCTION audit_refuse()
    """,
    """
    CREATE TRIGGER audit_seal_no_truncate
    BEFORE TRUNCATE ON audit_seal
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse()
    """,
)
DROP_SEAL_SQL = (
    "DROP TRIGGER IF EXISTS audit_seal_no_truncate ON audit_seal",
    "DROP TRIGGER IF EXISTS audit_seal_append_only ON audit_seal",
)


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
