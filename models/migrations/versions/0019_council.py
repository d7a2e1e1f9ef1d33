"""The coordination council as work: agenda cases, decisions, partners' people; staff notices

Revision ID: 0019_council
Revises: 0017_ipra

A council meeting keeps its row, its district, its agenda text, its staff and partner
institutions (council_meeting_staff, council_meeting_partner) and its free-text
decisions (now «Решения (текстом)»): nothing of an existing meeting is moved or lost.
It gains who recorded it, its partners' contact persons (council_meeting_contact),
the cases on its agenda (council_agenda_item) and its decisions (council_decision: a
case of the agenda, who does what by when, the task or the referral it became; a
CHECK holds the executor's kind and its work). A referral gains who prepared it; the
bell gains its stored notices (staff_notice).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_council"
down_revision = "0017_ipra"
branch_labels = None
depends_on = None

EXECUTORS = ("staff", "partner")
MESSAGE_CHECK = "ck_message_message_event"
EVENTS_BEFORE = (
    "offer", "appointment", "appointment_eve", "loan_due", "loan_overdue", "ipra_end", "mse_review"
)  # fmt: skip
EVENTS_AFTER = (*EVENTS_BEFORE, "staff_digest")
NOTICE_KINDS = ("referral_answer", "council_decision", "referral_overdue")
EXECUTOR_WORK = (
    "(executor = 'staff' AND staff_id IS NOT NULL AND task_id IS NOT NULL "
    "AND partner_id IS NULL AND contact_id IS NULL AND referral_id IS NULL) OR "
    "(executor = 'partner' AND partner_id IS NOT NULL AND referral_id IS NOT NULL "
    "AND staff_id IS NULL AND task_id IS NULL)"
)


def _enum(codes, name):
    return sa.Enum(*codes, name=name, native_enum=False, create_constraint=True,
                   length=max(len(c) for c in codes))  # fmt: skip


def _message_events(kinds) -> None:
    listed = ", ".join(f"'{k}'" for k in kinds)
    with op.batch_alter_table("message") as batch_op:
        batch_op.drop_constraint(op.f(MESSAGE_CHECK), type_="check")
        batch_op.create_check_constraint(op.f(MESSAGE_CHECK), f"event_kind IN ({listed})")


def upgrade():
    # The daily e-mail digest of the bell: a member of staff opts in; a message kind.
    with op.batch_alter_table("staff") as batch_op:
        batch_op.add_column(
            sa.Column("notice_digest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    _message_events(EVENTS_AFTER)
    with op.batch_alter_table("council_meeting") as batch_op:
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_council_meeting_recorded_by_id_staff"),
            "staff",
            ["recorded_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_index("ix_council_meeting_recorded_by_id", ["recorded_by_id"])
    with op.batch_alter_table("referral") as batch_op:
        batch_op.add_column(sa.Column("prepared_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_referral_prepared_by_id_staff"),
            "staff",
            ["prepared_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_index("ix_referral_prepared_by_id", ["prepared_by_id"])
    # Who prepared the referrals made so far: the one who handled them is the best guess.
    op.execute("UPDATE referral SET prepared_by_id = handled_by_id")

    op.create_table(
        "council_meeting_contact",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["partner_contact.id"],
            name=op.f("fk_council_meeting_contact_contact_id_partner_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["council_meeting.id"],
            name=op.f("fk_council_meeting_contact_meeting_id_council_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", "contact_id", name=op.f("pk_council_meeting_contact")),
    )  # fmt: skip
    op.create_index(
        "ix_council_meeting_contact_contact_id", "council_meeting_contact", ["contact_id"]
    )

    op.create_table(
        "council_agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_case.id"],
            name=op.f("fk_council_agenda_item_case_id_support_case"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["council_meeting.id"],
            name=op.f("fk_council_agenda_item_meeting_id_council_meeting"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_agenda_item")),
        sa.UniqueConstraint(
            "meeting_id", "case_id", name=op.f("uq_council_agenda_item_meeting_id_case_id")
        ),
    )  # fmt: skip
    op.create_index("ix_council_agenda_item_case_id", "council_agenda_item", ["case_id"])

    op.create_table(
        "council_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("executor", _enum(EXECUTORS, "decision_executor"), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(EXECUTOR_WORK, name=op.f("ck_council_decision_executor_work")),
        sa.ForeignKeyConstraint(
            ["meeting_id", "case_id"],
            ["council_agenda_item.meeting_id", "council_agenda_item.case_id"],
            name="fk_council_decision_agenda_case", ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id", "partner_id"], ["partner_contact.id", "partner_contact.partner_id"],
            name="fk_council_decision_contact_of_partner", ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["council_meeting.id"],
            name=op.f("fk_council_decision_meeting_id_council_meeting"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"],
            name=op.f("fk_council_decision_partner_id_partner"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"],
            name=op.f("fk_council_decision_referral_id_referral"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"],
            name=op.f("fk_council_decision_staff_id_staff"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"],
            name=op.f("fk_council_decision_task_id_task"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_decision")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_council_decision_referral_id")),
        sa.UniqueConstraint("task_id", name=op.f("uq_council_decision_task_id")),
    )  # fmt: skip
    for column in ("case_id", "contact_id", "meeting_id", "partner_id", "staff_id"):
        op.create_index(f"ix_council_decision_{column}", "council_decision", [column])

    op.create_table(
        "staff_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(NOTICE_KINDS, "notice_kind"), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["council_meeting.id"],
            name=op.f("fk_staff_notice_meeting_id_council_meeting"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"],
            name=op.f("fk_staff_notice_referral_id_referral"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"],
            name=op.f("fk_staff_notice_staff_id_staff"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notice")),
        sa.UniqueConstraint("source_key", name=op.f("uq_staff_notice_source_key")),
    )  # fmt: skip
    op.create_index("ix_staff_notice_meeting_id", "staff_notice", ["meeting_id"])
    op.create_index("ix_staff_notice_referral_id", "staff_notice", ["referral_id"])
    op.create_index("ix_staff_notice_staff_created", "staff_notice", ["staff_id", "created_at"])


def downgrade():
    # Drops the agendas, decisions and notices recorded since: back up first.
    op.drop_table("staff_notice")
    op.drop_table("council_decision")
    op.drop_table("council_agenda_item")
    op.drop_table("council_meeting_contact")
    with op.batch_alter_table("referral") as batch_op:
        batch_op.drop_index("ix_referral_prepared_by_id")
        batch_op.drop_constraint(op.f("fk_referral_prepared_by_id_staff"), type_="foreignkey")
        batch_op.drop_column("prepared_by_id")
    # Fails while a digest message is kept: the outbox loses no row silently.
    _message_events(EVENTS_BEFORE)
    with op.batch_alter_table("staff") as batch_op:
        batch_op.drop_column("notice_digest")
    with op.batch_alter_table("council_meeting") as batch_op:
        batch_op.drop_index("ix_council_meeting_recorded_by_id")
        batch_op.drop_constraint(
            op.f("fk_council_meeting_recorded_by_id_staff"), type_="foreignkey"
        )
        batch_op.drop_column("recorded_by_id")
