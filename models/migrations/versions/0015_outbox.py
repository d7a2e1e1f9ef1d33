"""The outbox: messages to families, their templates, the family's choice of channel

Revision ID: 0015_outbox
Revises: 0014_documents

`message` holds one row per message (to a family or a staff member), made by the
event it is about and delivered later by the worker; a partial unique index per
kind of recipient makes one message per event. `message_template` holds the
administrator's texts (the built-in ones are used where a code has no row). A
family gains its e-mail and its chosen channel (none by default: nobody is
written to who has not chosen to be), a consent its «consent to notifications»
(false for every consent recorded before). An account gains the moment its
holder last marked the panel's notices (the bell) read.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_outbox"
down_revision = "0014_documents"
branch_labels = None
depends_on = None

CONTACT_CHANNEL = ("none", "sms", "email", "call")
MESSAGE_CHANNEL = ("email", "sms", "call")
MESSAGE_STATE = ("pending", "sent", "failed", "given_up")
MESSAGE_EVENT = ("offer", "appointment", "appointment_eve", "loan_due", "loan_overdue")
OPEN = "state IN ('pending', 'failed')"


def _enum(codes, name):
    return sa.Enum(
        *codes,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(code) for code in codes),
    )


def upgrade():
    # Added in place, not by a batch copy: SQLite's copy of `family` would drop the
    # tally triggers on it (0008). Both databases take a named CHECK in ADD COLUMN.
    op.add_column("family", sa.Column("email", sa.String(length=254), nullable=True))
    codes = ", ".join(f"'{code}'" for code in CONTACT_CHANNEL)
    op.execute(
        "ALTER TABLE family ADD COLUMN contact_channel VARCHAR(5) DEFAULT 'none' NOT NULL "
        f"CONSTRAINT ck_family_contact_channel CHECK (contact_channel IN ({codes}))"
    )
    with op.batch_alter_table("consent") as batch_op:
        batch_op.add_column(
            sa.Column("notifications", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # The bell of staff notices: what is older than this moment has been read.
    op.add_column(
        "user_account", sa.Column("notices_read_at", sa.DateTime(timezone=True), nullable=True)
    )

    op.create_table(
        "message_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_template"),
        sa.UniqueConstraint("code", name="uq_message_template_code"),
    )

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("channel", _enum(MESSAGE_CHANNEL, "message_channel"), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("template_code", sa.String(length=64), nullable=False),
        sa.Column("event_kind", _enum(MESSAGE_EVENT, "message_event"), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("event_on", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", _enum(MESSAGE_STATE, "message_state"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_answer", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("called_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("(family_id IS NULL) <> (user_id IS NULL)", name="one_recipient"),
        sa.CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        sa.CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
        sa.CheckConstraint(
            "state IN ('sent', 'given_up') OR next_attempt_at IS NOT NULL", name="next_attempt"
        ),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name="fk_message_family_id_family", ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_message_user_id_user_account",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["called_by_id"], ["staff.id"], name="fk_message_called_by_id_staff", ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_message"),
    )
    op.create_index("ix_message_family_id", "message", ["family_id"])
    op.create_index("ix_message_state", "message", ["state"])
    op.create_index("ix_message_event", "message", ["event_kind", "event_id"])
    op.create_index(
        "ix_message_due",
        "message",
        ["next_attempt_at"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    for recipient in ("family", "user"):
        where = sa.text(f"{recipient}_id IS NOT NULL")
        op.create_index(
            f"uq_message_{recipient}_event",
            "message",
            ["event_kind", "event_id", "event_on", f"{recipient}_id", "channel"],
            unique=True,
            sqlite_where=where,
            postgresql_where=where,
        )


def downgrade():
    op.drop_table("message")
    op.drop_table("message_template")
    op.drop_column("user_account", "notices_read_at")
    with op.batch_alter_table("consent") as batch_op:
        batch_op.drop_column("notifications")
    # In place again: the CHECK is the column's own, so it goes with it.
    op.drop_column("family", "contact_channel")
    op.drop_column("family", "email")
