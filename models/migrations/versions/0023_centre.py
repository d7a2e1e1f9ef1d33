"""Centre settings, passports for the printed documents, a signed consent's scan

Revision ID: 0023_centre
Revises: 0022_screens

centre_settings: the one row (id = 1) of the centre's requisites — full and short name,
address, ИНН, ОГРН, КПП, phone, e-mail, the director and the basis, the bank — and its
working hours with the lunch break (the reception day view keeps to them). The row is
made by the app from the environment's OPORA_CENTRE_* the first time it is read.
person: the passport (series and number; by whom and when issued), printed in the
contract and the consent. document: a signed consent's scan names its consent.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_centre"
down_revision = "0022_screens"
branch_labels = None
depends_on = None

LUNCH = (
    "(lunch_starts_at IS NULL AND lunch_ends_at IS NULL) OR "
    "(lunch_starts_at IS NOT NULL AND lunch_ends_at IS NOT NULL"
    " AND opens_at < lunch_starts_at AND lunch_starts_at < lunch_ends_at"
    " AND lunch_ends_at < closes_at)"
)


def upgrade():
    op.create_table(
        "centre_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=500), nullable=False),
        sa.Column("short_name", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("inn", sa.String(length=10), nullable=True),
        sa.Column("ogrn", sa.String(length=13), nullable=True),
        sa.Column("kpp", sa.String(length=9), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("director_last_name", sa.String(length=64), nullable=True),
        sa.Column("director_first_name", sa.String(length=64), nullable=True),
        sa.Column("director_middle_name", sa.String(length=64), nullable=True),
        sa.Column("director_position", sa.String(length=128), nullable=False),
        sa.Column("basis", sa.String(length=255), nullable=False),
        sa.Column("bank_name", sa.String(length=255), nullable=True),
        sa.Column("bank_bik", sa.String(length=9), nullable=True),
        sa.Column("bank_account", sa.String(length=20), nullable=True),
        sa.Column("bank_corr_account", sa.String(length=20), nullable=True),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.Column("lunch_starts_at", sa.Time(), nullable=True),
        sa.Column("lunch_ends_at", sa.Time(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_centre_settings_one_row")),
        sa.CheckConstraint("opens_at < closes_at", name=op.f("ck_centre_settings_hours_order")),
        sa.CheckConstraint(LUNCH, name=op.f("ck_centre_settings_lunch_within_hours")),
        sa.CheckConstraint(
            "inn IS NULL OR length(inn) = 10", name=op.f("ck_centre_settings_inn_length")
        ),
        sa.CheckConstraint(
            "ogrn IS NULL OR length(ogrn) = 13", name=op.f("ck_centre_settings_ogrn_length")
        ),
        sa.CheckConstraint(
            "kpp IS NULL OR length(kpp) = 9", name=op.f("ck_centre_settings_kpp_length")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_centre_settings"),
    )
    # Plain added columns: person keeps its SQLite search triggers (no table rebuild).
    op.add_column("person", sa.Column("passport", sa.String(length=32), nullable=True))
    op.add_column("person", sa.Column("passport_issued", sa.String(length=255), nullable=True))
    with op.batch_alter_table("document") as batch_op:
        batch_op.add_column(sa.Column("consent_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_document_consent_id_consent", "consent", ["consent_id"], ["id"], ondelete="RESTRICT"
        )
        batch_op.create_check_constraint(
            op.f("ck_document_consent_signed_only"),
            "consent_id IS NULL OR doc_type = 'signed_consent'",
        )
        batch_op.create_index("ix_document_consent_id", ["consent_id"])


def downgrade():
    with op.batch_alter_table("document") as batch_op:
        batch_op.drop_index("ix_document_consent_id")
        batch_op.drop_constraint(op.f("ck_document_consent_signed_only"), type_="check")
        batch_op.drop_constraint("fk_document_consent_id_consent", type_="foreignkey")
        batch_op.drop_column("consent_id")
    op.drop_column("person", "passport_issued")
    op.drop_column("person", "passport")
    op.drop_table("centre_settings")
