"""The rental point's history: one table of events per unit, loan, reservation and family

Revision ID: 0005_rental
Revises: 0004_tasks
"""

import sqlalchemy as sa
from alembic import op


revision = "0005_rental"
down_revision = "0004_tasks"
branch_labels = None
depends_on = None

# The rental event codes as they were when this migration was written.
RENTAL_EVENT_CODES = (
    "received",
    "queued",
    "reprioritised",
    "offered",
    "offer_declined",
    "offer_expired",
    "queue_cancelled",
    "issued",
    "extended",
    "returned",
    "sanitised",
    "repaired",
    "written_off",
    "overdue",
)
EVENTS_WITH_REASON = ("reprioritised", "offer_declined", "queue_cancelled", "sanitised", "written_off")


def upgrade():
    reasons = ", ".join(f"'{k}'" for k in EVENTS_WITH_REASON)
    op.create_table(
        "rental_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *RENTAL_EVENT_CODES,
                name="rental_event_kind",
                native_enum=False,
                create_constraint=True,
                length=15,
            ),
            nullable=False,
        ),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            f"kind NOT IN ({reasons}) OR details IS NOT NULL",
            name=op.f("ck_rental_event_reason_given"),
        ),
        sa.CheckConstraint(
            "kind <> 'overdue' OR task_id IS NOT NULL",
            name=op.f("ck_rental_event_overdue_has_task"),
        ),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_rental_event_family_id_family"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.id"], name=op.f("fk_rental_event_loan_id_loan"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"], ["reservation.id"],
            name=op.f("fk_rental_event_reservation_id_reservation"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_rental_event_staff_id_staff"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_rental_event_task_id_task"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["equipment_unit.id"],
            name=op.f("fk_rental_event_unit_id_equipment_unit"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rental_event")),
    )
    for name in ("family_id", "loan_id", "reservation_id", "unit_id"):
        op.create_index(f"ix_rental_event_{name}", "rental_event", [name], unique=False)
    op.create_index(
        "uq_rental_event_overdue_loan",
        "rental_event",
        ["loan_id", "occurred_on"],
        unique=True,
        sqlite_where=sa.text("kind = 'overdue'"),
        postgresql_where=sa.text("kind = 'overdue'"),
    )


def downgrade():
    op.drop_table("rental_event")
