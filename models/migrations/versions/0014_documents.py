"""Documents: the family's file — scans and files attached to a family, a person or a case

Revision ID: 0014_documents
Revises: 0013_referrals

One row a stored file: where it is attached (exactly one of family, person, case),
its type, its date, the sanitised original name, the type read from its content,
size, sha256 and the key in the document store. The same file (sha256) in the same
place is one document (a unique constraint for each place). Archived, never deleted.
required_document: the document types the centre requires in an application's package
(set by the administrator), and whether a missing one blocks the contract.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_documents"
down_revision = "0013_referrals"
branch_labels = None
depends_on = None

DOCUMENT_TYPES = (
    "application",
    "passport",
    "snils",
    "birth_certificate",
    "mse_certificate",
    "ipra",
    "signed_contract",
    "signed_consent",
    "other",
)
CONTENT_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
ONE_PLACE = (
    "(CASE WHEN family_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN person_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN case_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def _choices(codes, name):
    return sa.Enum(
        *codes,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(code) for code in codes),
    )


def upgrade():
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("doc_type", _choices(DOCUMENT_TYPES, "document_type"), nullable=False),
        sa.Column("doc_date", sa.Date(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column(
            "content_type", _choices(CONTENT_TYPES, "document_content_type"), nullable=False
        ),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=128), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(ONE_PLACE, name=op.f("ck_document_one_place")),
        sa.CheckConstraint("size > 0", name=op.f("ck_document_size_positive")),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_document_sha256_length")),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name="fk_document_family_id_family", ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name="fk_document_person_id_person", ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["support_case.id"],
            name="fk_document_case_id_support_case",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["user_account.id"],
            name="fk_document_added_by_id_user_account",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_document"),
        sa.UniqueConstraint("family_id", "sha256", name="uq_document_family_id_sha256"),
        sa.UniqueConstraint("person_id", "sha256", name="uq_document_person_id_sha256"),
        sa.UniqueConstraint("case_id", "sha256", name="uq_document_case_id_sha256"),
        sa.UniqueConstraint("storage_key", name="uq_document_storage_key"),
    )
    for column in ("family_id", "person_id", "case_id", "added_by_id", "archived_at"):
        op.create_index(f"ix_document_{column}", "document", [column])

    op.create_table(
        "required_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_type", _choices(DOCUMENT_TYPES, "document_type"), nullable=False),
        sa.Column("blocks_contract", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_required_document"),
    )
    op.create_index("ix_required_document_archived_at", "required_document", ["archived_at"])
    op.create_index(
        "uq_required_document_doc_type",
        "required_document",
        ["doc_type"],
        unique=True,
        sqlite_where=sa.text("archived_at IS NULL"),
        postgresql_where=sa.text("archived_at IS NULL"),
    )


def downgrade():
    op.drop_index("uq_required_document_doc_type", table_name="required_document")
    op.drop_index("ix_required_document_archived_at", table_name="required_document")
    op.drop_table("required_document")
    for column in ("family_id", "person_id", "case_id", "added_by_id", "archived_at"):
        op.drop_index(f"ix_document_{column}", table_name="document")
    op.drop_table("document")
