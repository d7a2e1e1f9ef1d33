"""The family's file (личное дело): scans and files attached to a family, a person or a case.

A row describes one stored file; the bytes live in the document store
(workflows/storage.py) under `storage_key`, never at a public URL. A document is
archived, never deleted. The same file (its sha256) attached twice to the same place is
one document: the unique constraints below hold it for each of the three places.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, relationship

from .base import ArchivedMixin, Choices, Model, column, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .cases import Case
    from .people import Consent, Family, Person

DOCUMENT_TYPE = Choices(
    "document_type",
    {
        "application": "заявление",
        "passport": "паспорт",
        "snils": "СНИЛС",
        "birth_certificate": "свидетельство о рождении",
        "mse_certificate": "справка МСЭ",
        "ipra": "ИПРА",
        "signed_contract": "договор подписанный",
        "signed_consent": "согласие подписанное",
        "other": "другое",
    },
)
# Health data (the МСЭ certificate and the child's ИПРА tell a disability and its
# measures): only roles whose policy reads health see such a document at all — in
# lists, on the family's and the case's pages and at the file route (404 otherwise).
HEALTH_DOCUMENT_TYPES = frozenset({"mse_certificate", "ipra"})

# The kinds of file accepted, read from the content (workflows/documents.py sniffs them).
CONTENT_TYPE = Choices(
    "document_content_type",
    {
        "application/pdf": "ПДФ",
        "image/jpeg": "фотография",
        "image/png": "изображение",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "документ Ворда",
    },
)
# Shown in the browser (PDF and images); any other kind is only downloaded.
INLINE_CONTENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
EXTENSION = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}

# Where a document is attached: exactly one of the three.
ONE_PLACE = (
    "(CASE WHEN family_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN person_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN case_id IS NULL THEN 0 ELSE 1 END) = 1"
)


class Document(ArchivedMixin, Model):
    """One file of a family's, a person's or a case's file."""

    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint(ONE_PLACE, name="one_place"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        UniqueConstraint("family_id", "sha256"),
        UniqueConstraint("person_id", "sha256"),
        UniqueConstraint("case_id", "sha256"),
        UniqueConstraint("storage_key"),
        # A signed consent's scan names the consent it signs; no other type names one.
        CheckConstraint(
            "consent_id IS NULL OR doc_type = 'signed_consent'", name="consent_signed_only"
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    family_id: Mapped[int | None] = column(
        ForeignKey("family.id", ondelete="RESTRICT"), label="Семья", index=True
    )
    person_id: Mapped[int | None] = column(
        ForeignKey("person.id", ondelete="RESTRICT"), label="Член семьи", index=True
    )
    case_id: Mapped[int | None] = column(
        ForeignKey("support_case.id", ondelete="RESTRICT"), label="Случай", index=True
    )
    consent_id: Mapped[int | None] = column(
        ForeignKey("consent.id", ondelete="RESTRICT"), label="Согласие", index=True
    )
    doc_type: Mapped[str] = DOCUMENT_TYPE.column(label="Вид документа", nullable=False)
    doc_date: Mapped[dt.date | None] = column(Date, label="Дата документа")
    file_name: Mapped[str] = column(String(255), label="Имя файла", nullable=False)
    content_type: Mapped[str] = CONTENT_TYPE.column(label="Формат", nullable=False)
    size: Mapped[int] = column(BigInteger, label="Размер, байт", nullable=False)
    sha256: Mapped[str] = column(String(64), label="SHA-256", nullable=False)
    storage_key: Mapped[str] = column(String(128), label="Ключ хранилища", nullable=False)
    added_by_id: Mapped[int | None] = column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), label="Добавил", index=True
    )
    added_at: Mapped[dt.datetime] = column(
        DateTime(timezone=True), label="Добавлен", nullable=False, default=utcnow
    )

    family: Mapped[Family | None] = relationship(info={"label": "Семья"})
    person: Mapped[Person | None] = relationship(info={"label": "Член семьи"})
    case: Mapped[Case | None] = relationship(info={"label": "Случай"})
    consent: Mapped[Consent | None] = relationship(info={"label": "Согласие"})
    added_by: Mapped[User | None] = relationship(info={"label": "Добавил"})

    @property
    def is_health(self) -> bool:
        return self.doc_type in HEALTH_DOCUMENT_TYPES

    def __str__(self) -> str:
        day = f" от {self.doc_date:%d.%m.%Y}" if self.doc_date else ""
        kind = DOCUMENT_TYPE.label(self.doc_type)
        return f"{kind[:1].upper()}{kind[1:]}{day}"


class RequiredDocument(ArchivedMixin, Model):
    """One document type the centre requires in an application's package (seed 004's
    «единый пакет документов»), set by the administrator; the case's page shows each as
    present or missing, and the contract step says which missing ones block it."""

    __tablename__ = "required_document"
    __table_args__ = (
        # One live requirement per type: an archived one is no obstacle to a new one.
        Index(
            "uq_required_document_doc_type",
            "doc_type",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[int] = column(Integer, label="№", primary_key=True)
    doc_type: Mapped[str] = DOCUMENT_TYPE.column(label="Вид документа", nullable=False)
    blocks_contract: Mapped[bool] = column(
        Boolean,
        label="Без него договор не заключается",
        nullable=False,
        default=False,
        server_default=text("false"),
    )
    note: Mapped[str | None] = column(String(255), label="Пояснение")

    def __str__(self) -> str:
        return DOCUMENT_TYPE.label(self.doc_type)
