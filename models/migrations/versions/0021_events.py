"""Events with their participants, the volunteers' register, the project's budget

Revision ID: 0021_events
Revises: 0020_channels

An event gains the campaign's channel, print run and reach (CHECKs: a campaign item
has a channel and nothing else has; the numbers are not negative; an existing
campaign item gets the channel «другое»). Who took part: staff and volunteers
(event_staff, event_volunteer), families with their children (event_attendance, one
row per family, and event_attendance_child). The families already saved in
event_family move to event_attendance, one row each, and come back on downgrade.
The volunteers' register (volunteer) and the pilot's complex of measures with its
money by funding source (project_measure, Numeric, CHECKs ≥ 0) are new tables.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_events"
down_revision = "0020_channels"
branch_labels = None
depends_on = None

CHANNELS = ("booklet", "advertising", "media", "website", "other")
SOURCES = ("fund_grant", "regional_budget", "other")
LIVE = "archived_at IS NULL"


def _enum(codes, name):
    return sa.Enum(*codes, name=name, native_enum=False, create_constraint=True,
                   length=max(len(c) for c in codes))  # fmt: skip


def upgrade():
    # The families saved on events so far, read before the event table is rebuilt (on
    # SQLite the rebuild drops the old table, and event_family's cascading key would take
    # its rows with it); they come back as attendance rows below, nothing lost.
    attended = op.get_bind().execute(
        sa.text("SELECT event_id, family_id FROM event_family ORDER BY event_id, family_id")
    ).all()
    with op.batch_alter_table("event") as batch_op:
        batch_op.add_column(sa.Column("channel", _enum(CHANNELS, "campaign_channel"), nullable=True))
        batch_op.add_column(sa.Column("print_run", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reach", sa.Integer(), nullable=True))
    # A campaign item saved before the channel existed keeps its place: «другое».
    op.execute("UPDATE event SET channel = 'other' WHERE kind = 'info_campaign'")
    with op.batch_alter_table("event") as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_event_campaign_has_channel"), "(kind = 'info_campaign') = (channel IS NOT NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_event_reach_of_campaign_only"),
            "kind = 'info_campaign' OR (print_run IS NULL AND reach IS NULL)",
        )
        batch_op.create_check_constraint(
            op.f("ck_event_print_run_nonnegative"), "print_run IS NULL OR print_run >= 0"
        )
        batch_op.create_check_constraint(
            op.f("ck_event_reach_nonnegative"), "reach IS NULL OR reach >= 0"
        )

    op.create_table(
        "volunteer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_name", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=64), nullable=False),
        sa.Column("middle_name", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["partner.id"],
                                name=op.f("fk_volunteer_group_id_partner"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer")),
    )  # fmt: skip
    op.create_index("ix_volunteer_archived_at", "volunteer", ["archived_at"])
    op.create_index("ix_volunteer_group_id", "volunteer", ["group_id"])
    op.create_index("ix_volunteer_last_name", "volunteer", ["last_name"])

    op.create_table(
        "event_staff",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"],
                                name=op.f("fk_event_staff_event_id_event"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"],
                                name=op.f("fk_event_staff_staff_id_staff"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("event_id", "staff_id", name=op.f("pk_event_staff")),
    )  # fmt: skip
    op.create_index("ix_event_staff_staff_id", "event_staff", ["staff_id"])

    op.create_table(
        "event_volunteer",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"],
                                name=op.f("fk_event_volunteer_event_id_event"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"],
                                name=op.f("fk_event_volunteer_volunteer_id_volunteer"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("event_id", "volunteer_id", name=op.f("pk_event_volunteer")),
    )  # fmt: skip
    op.create_index("ix_event_volunteer_volunteer_id", "event_volunteer", ["volunteer_id"])

    op.create_table(
        "event_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"],
                                name=op.f("fk_event_attendance_event_id_event"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["family_id"], ["family.id"],
                                name=op.f("fk_event_attendance_family_id_family"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_attendance")),
    )  # fmt: skip
    op.create_index("ix_event_attendance_archived_at", "event_attendance", ["archived_at"])
    op.create_index("ix_event_attendance_event_id", "event_attendance", ["event_id"])
    op.create_index("ix_event_attendance_family_id", "event_attendance", ["family_id"])
    op.create_index(
        "uq_event_attendance_event_id_family_id", "event_attendance", ["event_id", "family_id"],
        unique=True, sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE),
    )  # fmt: skip

    op.create_table(
        "event_attendance_child",
        sa.Column("attendance_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["attendance_id"], ["event_attendance.id"],
                                name=op.f("fk_event_attendance_child_attendance_id_event_attendance"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_event_attendance_child_person_id_person"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("attendance_id", "person_id",
                                name=op.f("pk_event_attendance_child")),
    )  # fmt: skip
    op.create_index(
        "ix_event_attendance_child_person_id", "event_attendance_child", ["person_id"]
    )

    if attended:
        op.get_bind().execute(
            sa.text("INSERT INTO event_attendance (event_id, family_id) VALUES (:e, :f)"),
            [{"e": event_id, "f": family_id} for event_id, family_id in attended],
        )
    with op.batch_alter_table("event_family") as batch_op:
        batch_op.drop_index("ix_event_family_family_id")
    op.drop_table("event_family")

    op.create_table(
        "project_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("funding_source", _enum(SOURCES, "funding_source"), nullable=False),
        sa.Column("planned", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("spent", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("planned >= 0", name=op.f("ck_project_measure_planned_nonnegative")),
        sa.CheckConstraint("spent >= 0", name=op.f("ck_project_measure_spent_nonnegative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_measure")),
        sa.UniqueConstraint("name", "funding_source",
                            name=op.f("uq_project_measure_name_funding_source")),
    )  # fmt: skip
    op.create_index("ix_project_measure_archived_at", "project_measure", ["archived_at"])


def downgrade():
    op.drop_index("ix_project_measure_archived_at", table_name="project_measure")
    op.drop_table("project_measure")
    # The families of the events, read before the event table is rebuilt (on SQLite the
    # rebuild drops the old table, and a cascading key would take their rows with it).
    attended = op.get_bind().execute(
        sa.text(f"SELECT DISTINCT event_id, family_id FROM event_attendance WHERE {LIVE}")
    ).all()
    op.drop_index("ix_event_attendance_child_person_id", table_name="event_attendance_child")
    op.drop_table("event_attendance_child")
    for index in ("uq_event_attendance_event_id_family_id", "ix_event_attendance_family_id",
                  "ix_event_attendance_event_id", "ix_event_attendance_archived_at"):  # fmt: skip
        op.drop_index(index, table_name="event_attendance")
    op.drop_table("event_attendance")
    op.drop_index("ix_event_volunteer_volunteer_id", table_name="event_volunteer")
    op.drop_table("event_volunteer")
    op.drop_index("ix_event_staff_staff_id", table_name="event_staff")
    op.drop_table("event_staff")
    for index in ("ix_volunteer_last_name", "ix_volunteer_group_id", "ix_volunteer_archived_at"):
        op.drop_index(index, table_name="volunteer")
    op.drop_table("volunteer")
    with op.batch_alter_table("event") as batch_op:
        for name in ("reach_nonnegative", "print_run_nonnegative", "reach_of_campaign_only",
                     "campaign_has_channel", "campaign_channel"):  # fmt: skip
            batch_op.drop_constraint(op.f(f"ck_event_{name}"), type_="check")
        batch_op.drop_column("reach")
        batch_op.drop_column("print_run")
        batch_op.drop_column("channel")
    op.create_table(
        "event_family",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"],
                                name=op.f("fk_event_family_event_id_event"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["family_id"], ["family.id"],
                                name=op.f("fk_event_family_family_id_family"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id", "family_id", name=op.f("pk_event_family")),
    )  # fmt: skip
    op.create_index("ix_event_family_family_id", "event_family", ["family_id"])
    if attended:
        op.get_bind().execute(
            sa.text("INSERT INTO event_family (event_id, family_id) VALUES (:e, :f)"),
            [{"e": event_id, "f": family_id} for event_id, family_id in attended],
        )
