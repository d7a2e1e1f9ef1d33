"""Server-side sessions, an atomic sign-in throttle, temporary passwords

Revision ID: 0009_sessions
Revises: 0008_figures

Sessions move from a per-user epoch in the cookie to one row a session
(user_session), so sign-out, a password change and disabling end a session on
every server. The throttle counts attempts in one row a login or address
(login_throttle) instead of one row a failure (login_attempt). Every session
open before the upgrade ends with it: its cookie names no user_session row.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_sessions"
down_revision = "0008_figures"
branch_labels = None
depends_on = None

SESSION_END = ("logout", "password_changed", "disabled")


def upgrade():
    op.create_table(
        "user_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "revoke_reason",
            sa.Enum(
                *SESSION_END,
                name="session_end",
                native_enum=False,
                create_constraint=True,
                length=max(len(code) for code in SESSION_END),
            ),
            nullable=True,
        ),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_user_session_user_id_user_account",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_session"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
    )
    op.create_index("ix_login_throttle_window_start", "login_throttle", ["window_start"])
    # Failed attempts of the last 15 minutes are forgotten: a throttle at most
    # that old lifts a little early, once.
    for column in ("username", "ip", "at"):
        op.drop_index(f"ix_login_attempt_{column}", table_name="login_attempt")
    op.drop_table("login_attempt")

    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.drop_column("session_epoch")


def downgrade():
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.drop_column("must_change_password")

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempt"),
    )
    for column in ("at", "ip", "username"):
        op.create_index(f"ix_login_attempt_{column}", "login_attempt", [column])
    op.drop_index("ix_login_throttle_window_start", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
