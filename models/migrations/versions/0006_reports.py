"""Exports are audited: the audit trail's actions gain «export»

Revision ID: 0006_reports
Revises: 0005_rental
"""

from alembic import op

revision = "0006_reports"
down_revision = "0005_rental"
branch_labels = None
depends_on = None

CONSTRAINT = "ck_audit_record_audit_action"
BEFORE = ("insert", "update", "delete", "view", "login", "login_failed", "logout")
AFTER = (*BEFORE, "export")


def _allow(actions) -> None:
    listed = ", ".join(f"'{a}'" for a in actions)
    with op.batch_alter_table("audit_record") as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.create_check_constraint(op.f(CONSTRAINT), f"action IN ({listed})")


def upgrade():
    _allow(AFTER)


def downgrade():
    # The trail is append-only: with exports recorded, the old rule cannot return.
    _allow(BEFORE)
