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


MEETING_LINKS = ("council_meeting_staff", "council_meeting_partner")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _keeping(links, change) -> None:
    """`change` (SQLite's copy-and-drop of a table) with the rows of `links` kept: dropping
    the table deletes its links (ON DELETE CASCADE, foreign keys on); they are put back."""
    for link in links:
        op.execute(f'CREATE TEMP TABLE "kept_{link}" AS SELECT * FROM "{link}"')
    change()
    for link in links:
        op.execute(f'INSERT OR IGNORE INTO "{link}" SELECT * FROM "kept_{link}"')
        op.execute(f'DROP TABLE "kept_{link}"')


def _add_staff_reference(table: str, column: str, links=()) -> None:
    """A nullable column naming a member of staff, with its named foreign key."""
    name = op.f(f"fk_{table}_{column}_staff")
    if not _sqlite():
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, "staff", [column], ["id"], ondelete="RESTRICT")
        return

    def copy() -> None:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(name, "staff", [column], ["id"], ondelete="RESTRICT")

    _keeping(links, copy)


def _drop_staff_reference(table: str, column: str, links=()) -> None:
    name = op.f(f"fk_{table}_{column}_staff")
    if not _sqlite():
        op.drop_constraint(name, table, type_="foreignkey")
        op.drop_column(table, column)
        return

    def copy() -> None:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_="foreignkey")
            batch_op.drop_column(column)

    _keeping(links, copy)


def upgrade():
    # `staff` gets its column in place (ALTER TABLE … ADD COLUMN): SQLite's copy-and-drop
    # of a batch would take its links (staff_district, ON DELETE CASCADE) with it; so
    # would the meeting's copy its staff and partners, which `_keeping` puts back.
    # The daily e-mail digest of the bell: a member of staff opts in; a message kind.
    op.add_column(
        "staff",
        sa.Column("notice_digest", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    _message_events(EVENTS_AFTER)  # nothing refers to a message: its copy loses nothing
    _add_staff_reference("council_meeting", "recorded_by_id", MEETING_LINKS)
    op.create_index("ix_council_meeting_recorded_by_id", "council_meeting", ["recorded_by_id"])
    _add_staff_reference("referral", "prepared_by_id")
    op.create_index("ix_referral_prepared_by_id", "referral", ["prepared_by_id"])
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
    # Fails while a digest message is kept: the outbox loses no row silently.
    _message_events(EVENTS_BEFORE)
    op.drop_index("ix_referral_prepared_by_id", table_name="referral")
    op.drop_index("ix_council_meeting_recorded_by_id", table_name="council_meeting")
    _drop_staff_reference("referral", "prepared_by_id")
    _drop_staff_reference("council_meeting", "recorded_by_id", MEETING_LINKS)
    op.drop_column("staff", "notice_digest")
