"""Kept report parts: every table's changes counted, the parts kept with the counts they read

Revision ID: 0025_kept
Revises: 0024_perf

`figure_tally` counts the statements that change each table (PostgreSQL: a statement
trigger, its count spread over 16 rows by transaction id; SQLite: row triggers);
`kept_figures` holds a whole-centre report part with the counts of the tables it read
(models/figures.py, workflows/kept.py).
Frozen: the tables are listed here, not read from the models; a table added later is
counted from its own migration (until then a part that reads it is never kept).
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_kept"
down_revision = "0024_perf"
branch_labels = None
depends_on = None

TABLES = [
    "appointment",
    "assessment",
    "centre_settings",
    "consent",
    "council_agenda_item",
    "council_decision",
    "council_meeting",
    "council_meeting_contact",
    "council_meeting_partner",
    "council_meeting_staff",
    "department",
    "district",
    "district_tally",
    "document",
    "equipment_type",
    "equipment_unit",
    "event",
    "event_attendance",
    "event_attendance_child",
    "event_staff",
    "event_volunteer",
    "family",
    "incoming_referral",
    "loan",
    "loan_extension",
    "message_template",
    "partner",
    "partner_agreement",
    "partner_contact",
    "person",
    "plan_activity",
    "plan_revision",
    "programme",
    "programme_enrolment",
    "project_measure",
    "referral",
    "rehab_measure",
    "rehab_programme",
    "rehab_tsr",
    "rental_event",
    "required_document",
    "reservation",
    "review",
    "service",
    "social_raid",
    "social_raid_contact",
    "social_raid_staff",
    "staff",
    "staff_district",
    "support_case",
    "support_plan",
    "task",
    "task_assignment",
    "user_account",
    "visit",
    "volunteer",
]
SHARDS = 16
BUMP = (
    "INSERT INTO figure_tally (name, shard, version) VALUES ({name}, {shard}, 1) "
    "ON CONFLICT (name, shard) DO UPDATE SET version = figure_tally.version + 1"
)
EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        "figure_tally",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "shard", name="pk_figure_tally"),
    )
    op.create_table(
        "kept_figures",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_kept_figures"),
    )
    op.create_index("ix_kept_figures_counted_at", "kept_figures", ["counted_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION figure_tally_bump() RETURNS trigger AS $$
            BEGIN
                {BUMP.format(name="TG_TABLE_NAME", shard=f"mod(txid_current(), {SHARDS})")};
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for t in TABLES:
            op.execute(
                f"CREATE TRIGGER {t}_figure_tally AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {t} FOR EACH STATEMENT EXECUTE FUNCTION figure_tally_bump()"
            )
    else:
        for t in TABLES:
            for e in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {t}_figure_tally_{e} AFTER {e.upper()} ON {t} "
                    f"BEGIN {BUMP.format(name=repr(t), shard=0)}; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for t in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {t}_figure_tally ON {t}")
        op.execute("DROP FUNCTION IF EXISTS figure_tally_bump()")
    else:
        for t in TABLES:
            for e in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {t}_figure_tally_{e}")
    op.drop_table("kept_figures")
    op.drop_table("figure_tally")
