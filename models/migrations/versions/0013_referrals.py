"""Partners' people and outgoing referrals: partner_contact, referral; two partner kinds

Revision ID: 0013_referrals
Revises: 0012_form_drafts

A partner gains its contact persons (reference data, archived, never deleted) and
the kinds «бюро МСЭ» and «ПМПК». A case gains its outgoing referrals
(направление, межведомственный запрос): the status CHECKs, the order of the dates,
the health columns a medical reason uses, one open referral per case, partner and
service (a partial unique index), and a contact that belongs to the referral's
partner (a foreign key on the pair).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_referrals"
down_revision = "0012_form_drafts"
branch_labels = None
depends_on = None

PARTNER_KIND = "ck_partner_partner_kind"
KINDS_BEFORE = ("school", "clinic", "police", "tos", "ngo", "volunteers", "authority", "other")
KINDS_AFTER = (
    "school", "clinic", "police", "tos", "ngo", "mse", "pmpk", "volunteers", "authority", "other",
)  # fmt: skip
REASONS = ("medical", "mse", "pmpk", "education", "social", "legal", "safety", "leisure", "other")
STATUSES = ("prepared", "sent", "accepted", "fulfilled", "refused", "no_answer")
OPEN_ROWS = "status IN ('prepared', 'sent', 'accepted') AND archived_at IS NULL"
HEALTH = "reason_kind IN ('medical', 'mse', 'pmpk')"


def _partner_kinds(kinds) -> None:
    listed = ", ".join(f"'{k}'" for k in kinds)
    with op.batch_alter_table("partner") as batch_op:
        batch_op.drop_constraint(op.f(PARTNER_KIND), type_="check")
        batch_op.create_check_constraint(op.f(PARTNER_KIND), f"kind IN ({listed})")


def _enum(codes, name):
    return sa.Enum(*codes, name=name, native_enum=False, create_constraint=True,
                   length=max(len(c) for c in codes))  # fmt: skip


def upgrade():
    _partner_kinds(KINDS_AFTER)
    op.create_table(
        "partner_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("last_name", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=64), nullable=False),
        sa.Column("middle_name", sa.String(length=64), nullable=True),
        sa.Column("position", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_partner_contact_partner_id_partner"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_contact")),
        sa.UniqueConstraint("id", "partner_id", name=op.f("uq_partner_contact_id_partner_id")),
    )
    op.create_index("ix_partner_contact_archived_at", "partner_contact", ["archived_at"])
    op.create_index("ix_partner_contact_partner_id", "partner_contact", ["partner_id"])

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("reason_kind", _enum(REASONS, "referral_reason"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("health_reason", sa.Text(), nullable=True),
        sa.Column("status", _enum(STATUSES, "referral_status"), nullable=False),
        sa.Column("prepared_on", sa.Date(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("answer_due", sa.Date(), nullable=True),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("health_answer", sa.Text(), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("sent_on IS NULL OR sent_on >= prepared_on", name=op.f("ck_referral_sent_order")),
        sa.CheckConstraint("answer_due IS NULL OR answer_due >= sent_on", name=op.f("ck_referral_due_order")),
        sa.CheckConstraint("accepted_on IS NULL OR accepted_on >= sent_on", name=op.f("ck_referral_accepted_order")),
        sa.CheckConstraint("answered_on IS NULL OR answered_on >= sent_on", name=op.f("ck_referral_answered_order")),
        sa.CheckConstraint(
            "answered_on IS NULL OR accepted_on IS NULL OR answered_on >= accepted_on",
            name=op.f("ck_referral_answered_after_accepted"),
        ),
        sa.CheckConstraint(
            "status = 'prepared' OR (sent_on IS NOT NULL AND answer_due IS NOT NULL)",
            name=op.f("ck_referral_sent_complete"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('accepted', 'fulfilled') OR accepted_on IS NOT NULL",
            name=op.f("ck_referral_accepted_complete"),
        ),
        sa.CheckConstraint(
            "(status IN ('fulfilled', 'refused')) = (answered_on IS NOT NULL)",
            name=op.f("ck_referral_answered_when_final"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('fulfilled', 'refused') "
            "OR answer IS NOT NULL OR health_answer IS NOT NULL",
            name=op.f("ck_referral_answer_given"),
        ),
        sa.CheckConstraint(
            f"CASE WHEN {HEALTH} THEN reason IS NULL AND answer IS NULL "
            "AND health_reason IS NOT NULL "
            "ELSE health_reason IS NULL AND health_answer IS NULL AND reason IS NOT NULL END",
            name=op.f("ck_referral_health_texts"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_case.id"],
            name=op.f("fk_referral_case_id_support_case"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id", "partner_id"], ["partner_contact.id", "partner_contact.partner_id"],
            name="fk_referral_contact_of_partner", ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"], ["staff.id"],
            name=op.f("fk_referral_handled_by_id_staff"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"],
            name=op.f("fk_referral_partner_id_partner"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"],
            name=op.f("fk_referral_service_id_service"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )  # fmt: skip
    for column in ("archived_at", "case_id", "contact_id", "handled_by_id", "service_id", "status"):
        op.create_index(f"ix_referral_{column}", "referral", [column])
    op.create_index("ix_referral_partner_sent", "referral", ["partner_id", "sent_on"])
    op.create_index(
        "ix_referral_sent_due",
        "referral",
        ["answer_due"],
        sqlite_where=sa.text("status = 'sent'"),
        postgresql_where=sa.text("status = 'sent'"),
    )
    op.create_index(
        "uq_referral_open_case_partner_service",
        "referral",
        ["case_id", "partner_id", "service_id"],
        unique=True,
        sqlite_where=sa.text(OPEN_ROWS),
        postgresql_where=sa.text(OPEN_ROWS),
    )


def downgrade():
    op.drop_table("referral")
    op.drop_table("partner_contact")
    # Fails while a partner of a new kind is left: give it another kind first.
    _partner_kinds(KINDS_BEFORE)
