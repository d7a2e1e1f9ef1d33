"""The child's ИПРА: the programme, its measures and ТСР; the «вне гарантированного перечня» flag

Revision ID: 0017_ipra
Revises: 0016_search

`rehab_programme` holds a child's ИПРА (number, dates with valid_until > issued_on, the
МСЭ bureau), `rehab_measure` its recommended measures by kind (and the ИПСС activity
confirmed for one), `rehab_tsr` the ТСР it lists (provided by the Social Fund or not,
the rental point's type, the queue place confirmed for one). An equipment type gains
«вне гарантированного перечня» (false for every type recorded before). The outbox
learns two events: an ИПРА ending and an МСЭ re-examination ahead — the message's
CHECK of event kinds is rebuilt (a batch copy on SQLite, which keeps the table's
partial indexes).
Frozen: the code lists are copied here, not imported.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_ipra"
down_revision = "0016_search"
branch_labels = None
depends_on = None

MEASURE_KIND = ("medical", "psych_ped", "social", "tsr")
OLD_EVENTS = ("offer", "appointment", "appointment_eve", "loan_due", "loan_overdue")
NEW_EVENTS = (*OLD_EVENTS, "ipra_end", "mse_review")
LIVE = "archived_at IS NULL"


def _enum(codes, name):
    return sa.Enum(
        *codes,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(code) for code in codes),
    )


def _events_check(codes):
    listed = ", ".join(f"'{code}'" for code in codes)
    name = op.f("ck_message_message_event")
    with op.batch_alter_table("message") as batch_op:
        batch_op.drop_constraint(name, type_="check")
        batch_op.create_check_constraint(name, sa.text(f"event_kind IN ({listed})"))


def upgrade():
    op.add_column(
        "equipment_type",
        sa.Column("outside_guaranteed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )

    op.create_table(
        "rehab_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("bureau_id", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("valid_until > issued_on", name="valid_order"),
        sa.ForeignKeyConstraint(
            ["bureau_id"],
            ["partner.id"],
            name="fk_rehab_programme_bureau_id_partner",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["person.id"],
            name="fk_rehab_programme_child_id_person",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rehab_programme"),
    )
    with op.batch_alter_table("rehab_programme") as batch_op:
        batch_op.create_index("ix_rehab_programme_archived_at", ["archived_at"])
        batch_op.create_index("ix_rehab_programme_bureau_id", ["bureau_id"])
        batch_op.create_index("ix_rehab_programme_child_id", ["child_id"])
        batch_op.create_index(
            "uq_rehab_programme_number",
            ["number"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )
        batch_op.create_index(
            "ix_rehab_programme_valid_until",
            ["valid_until"],
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )

    op.create_table(
        "rehab_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(MEASURE_KIND, "rehab_measure_kind"), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["plan_activity.id"],
            name="fk_rehab_measure_activity_id_plan_activity",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["rehab_programme.id"],
            name="fk_rehab_measure_programme_id_rehab_programme",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rehab_measure"),
        sa.UniqueConstraint("activity_id", name="uq_rehab_measure_activity_id"),
    )
    with op.batch_alter_table("rehab_measure") as batch_op:
        batch_op.create_index("ix_rehab_measure_archived_at", ["archived_at"])
        batch_op.create_index("ix_rehab_measure_programme_id", ["programme_id"])

    op.create_table(
        "rehab_tsr",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("by_fund", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("equipment_type_id", sa.Integer(), nullable=True),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "reservation_id IS NULL OR (NOT by_fund AND equipment_type_id IS NOT NULL)",
            name="queue_needs_rental",
        ),
        sa.ForeignKeyConstraint(
            ["equipment_type_id"],
            ["equipment_type.id"],
            name="fk_rehab_tsr_equipment_type_id_equipment_type",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["rehab_programme.id"],
            name="fk_rehab_tsr_programme_id_rehab_programme",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservation.id"],
            name="fk_rehab_tsr_reservation_id_reservation",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rehab_tsr"),
        sa.UniqueConstraint("reservation_id", name="uq_rehab_tsr_reservation_id"),
    )
    with op.batch_alter_table("rehab_tsr") as batch_op:
        batch_op.create_index("ix_rehab_tsr_archived_at", ["archived_at"])
        batch_op.create_index("ix_rehab_tsr_programme_id", ["programme_id"])

    _events_check(NEW_EVENTS)


def downgrade():
    op.execute("DELETE FROM message WHERE event_kind IN ('ipra_end', 'mse_review')")
    op.execute("DELETE FROM message_template WHERE code IN ('ipra_end', 'mse_review')")
    _events_check(OLD_EVENTS)
    op.drop_table("rehab_tsr")
    op.drop_table("rehab_measure")
    op.drop_table("rehab_programme")
    with op.batch_alter_table("equipment_type") as batch_op:
        batch_op.drop_column("outside_guaranteed")
