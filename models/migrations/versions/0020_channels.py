"""Identification channels: incoming referrals, social raids, a family's partner or raid

Revision ID: 0020_channels
Revises: 0019_council

A partner's incoming referral of a family (`incoming_referral`: who, when, why,
received by whom; taken with the family it led to, or declined with the reason) and
the social raid (`social_raid`, its team of staff and partners' people). A family
gains the partner that referred it and the raid that found it, each named exactly
when its «как выявлена» says so (CHECKs). A family recorded before as «направление
партнёра» or «социальный рейд» has neither: it is moved to «обратилась сама» and the
words it had are kept in its notes, so nothing is lost and the CHECK holds.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_channels"
down_revision = "0019_council"
branch_labels = None
depends_on = None

INCOMING_STATUS = ("received", "taken", "declined")
LEGACY = {
    "partner": "направление партнёра (партнёр не был записан)",
    "raid": "социальный рейд (рейд не был записан)",
}


CHANNEL_COLUMNS = (
    ("identified_partner_id", "partner", "partner", "partner_channel"),
    ("social_raid_id", "social_raid", "raid", "raid_channel"),
)


def _fk(column, table):
    return f"fk_family_{column}_{table}"


def _sqlite_foreign_keys(add):
    """SQLite's ADD COLUMN takes a foreign key only unnamed (and so unlike the models'): the
    named table constraints are written into the stored CREATE TABLE instead, the way
    SQLite's ALTER TABLE page describes for constraint changes that leave the stored rows
    as they are (the new columns are all NULL), then checked."""
    bind = op.get_bind()
    clauses = [
        f", CONSTRAINT {_fk(column, table)} FOREIGN KEY({column}) "
        f"REFERENCES {table} (id) ON DELETE RESTRICT"
        for column, table, _channel, _check in CHANNEL_COLUMNS
    ]
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'family'"
    ).scalar_one()
    if add:
        end = sql.rindex(")")
        sql = sql[:end] + "".join(clauses) + sql[end:]
    else:
        for clause in clauses:
            sql = sql.replace(clause, "")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'family'", (sql,)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    assert bind.exec_driver_sql("PRAGMA foreign_key_check(family)").first() is None


def _created_at():
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _raids():
    op.create_table(
        "social_raid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=255), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name="fk_social_raid_district_id_district",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name="fk_social_raid_recorded_by_id_staff",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_social_raid"),
    )  # fmt: skip
    for column in ("archived_at", "district_id", "held_on", "recorded_by_id"):
        op.create_index(f"ix_social_raid_{column}", "social_raid", [column])
    for name, column, table in (
        ("contact", "contact_id", "partner_contact"),
        ("staff", "staff_id", "staff"),
    ):
        op.create_table(
            f"social_raid_{name}",
            sa.Column("raid_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["raid_id"], ["social_raid.id"],
                name=f"fk_social_raid_{name}_raid_id_social_raid", ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                [column], [f"{table}.id"],
                name=f"fk_social_raid_{name}_{column}_{table}", ondelete="RESTRICT",
            ),
            sa.PrimaryKeyConstraint("raid_id", column, name=f"pk_social_raid_{name}"),
        )  # fmt: skip
        op.create_index(f"ix_social_raid_{name}_{column}", f"social_raid_{name}", [column])


def _incoming():
    status = sa.Enum(
        *INCOMING_STATUS, name="incoming_status", native_enum=False, create_constraint=True,
        length=max(len(c) for c in INCOMING_STATUS),
    )  # fmt: skip
    op.create_table(
        "incoming_referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("person_name", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=False),
        sa.Column("status", status, nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _created_at(),
        sa.CheckConstraint("received_on >= referred_on", name=op.f("ck_incoming_referral_received_order")),
        sa.CheckConstraint(
            "decided_on IS NULL OR decided_on >= received_on",
            name=op.f("ck_incoming_referral_decided_order"),
        ),
        sa.CheckConstraint(
            "(status = 'taken') = (family_id IS NOT NULL)",
            name=op.f("ck_incoming_referral_taken_has_family"),
        ),
        sa.CheckConstraint(
            "(status = 'declined') = (decline_reason IS NOT NULL)",
            name=op.f("ck_incoming_referral_declined_has_reason"),
        ),
        sa.CheckConstraint(
            "(status = 'received') = (decided_on IS NULL)",
            name=op.f("ck_incoming_referral_decided_when_final"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id", "partner_id"], ["partner_contact.id", "partner_contact.partner_id"],
            name="fk_incoming_referral_contact_of_partner", ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name="fk_incoming_referral_district_id_district",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name="fk_incoming_referral_family_id_family",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name="fk_incoming_referral_partner_id_partner",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["received_by_id"], ["staff.id"], name="fk_incoming_referral_received_by_id_staff",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incoming_referral"),
    )  # fmt: skip
    for column in ("archived_at", "contact_id", "family_id", "received_by_id"):
        op.create_index(f"ix_incoming_referral_{column}", "incoming_referral", [column])
    op.create_index(
        "ix_incoming_referral_district_status", "incoming_referral", ["district_id", "status"]
    )
    op.create_index(
        "ix_incoming_referral_partner_received", "incoming_referral", ["partner_id", "received_on"]
    )


def upgrade():
    _raids()
    _incoming()
    # What a family recorded before without its partner or raid: into the notes, then «сама».
    for code, words in LEGACY.items():
        note = f"Как выявлена (до учёта партнёров и рейдов): {words}."
        op.execute(
            sa.text(
                "UPDATE family SET identified_by = 'self', notes = CASE WHEN notes IS NULL "
                "THEN :note ELSE notes || :sep || :note END WHERE identified_by = :code"
            ).bindparams(note=note, sep="\n", code=code)
        )
    # Added in place, not by a batch copy: SQLite's copy of `family` would drop the
    # tally and search-key triggers on it (0008, 0016). The CHECKs are the columns' own.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, table, channel, check in CHANNEL_COLUMNS:
        reference = (
            ""
            if sqlite
            else f"CONSTRAINT {_fk(column, table)} REFERENCES {table} (id) ON DELETE RESTRICT "
        )
        op.execute(
            f"ALTER TABLE family ADD COLUMN {column} INTEGER {reference}"
            f"CONSTRAINT ck_family_{check} "
            f"CHECK ((identified_by = '{channel}') = ({column} IS NOT NULL))"
        )
        op.create_index(f"ix_family_{column}", "family", [column])
    if sqlite:
        _sqlite_foreign_keys(add=True)


def downgrade():
    for column in ("social_raid_id", "identified_partner_id"):
        op.drop_index(f"ix_family_{column}", "family")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_foreign_keys(add=False)  # SQLite drops no column a foreign key names
    # In place again: the constraints are the columns' own, so they go with them.
    op.drop_column("family", "social_raid_id")
    op.drop_column("family", "identified_partner_id")
    op.drop_table("incoming_referral")
    op.drop_table("social_raid_staff")
    op.drop_table("social_raid_contact")
    op.drop_table("social_raid")
