"""The family's file: attach a document, find the ones a user may see, archive and restore.

An upload is streamed through a private spool file of the store a chunk at a time
(never read whole into memory): its size is counted (refused past
`DOCUMENT_MAX_BYTES`), its sha256 computed and its type read from its first bytes
(`filetype`) — PDF, JPEG, PNG, or a zip holding `word/document.xml` (DOCX); the name a
browser sent is checked, never used as a path. A refused upload leaves nothing: no
row, no stored file (the spool is removed; a file kept for a row that then failed is
removed by the caller through `Upload.stored`).

Who sees a document is the row scope of `workflows.scope.where_visible(Document, …)`:
the family, member or case it is attached to must be visible, and the МСЭ
certificate and the ИПРА (health data) only to roles whose policy reads health.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

import filetype
from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session, joinedload

from models import Case, Consent, Document, Family, Person, RequiredDocument, User
from models.documents import CONTENT_TYPE, DOCUMENT_TYPE, HEALTH_DOCUMENT_TYPES
from models.guards import case_refusal
from models.live import new_work_refusal
from models.roles import reads_health
from models.terms import DOCUMENT_MAX_BYTES, DOCUMENT_MAX_IN_WORDS

from .errors import WorkflowError
from .scope import where_visible
from .storage import CHUNK, DocumentStore, new_key

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# How much of the file's head the type is read from.
SNIFF_BYTES = 8192

EMPTY = "Файл пустой: выберите файл с содержимым."
NO_FILE = "Выберите файл."
TOO_LARGE = f"Файл больше {DOCUMENT_MAX_IN_WORDS}: отсканируйте с меньшим разрешением или разделите на части и приложите ещё раз."
WRONG_TYPE = "Принимаются только файлы ПДФ, фотографии, изображения и документы Ворда; этот файл — другого вида, какое бы имя у него ни было."
PATH_IN_NAME = "Имя файла не должно содержать папок (знаков «/» и «\\»): переименуйте файл."
BAD_NAME = "Имя файла пустое или содержит служебные символы: переименуйте файл."
LONG_NAME = "Имя файла длиннее 255 знаков: переименуйте файл."
HEALTH_TYPE = "Этот вид документа вашей роли недоступен."
UNKNOWN_TYPE = "Выберите вид документа из списка."
ARCHIVED_PLACE = "Запись в архиве: документы к ней не прикладываются."
IN_ARCHIVE = (
    "Этот файл уже приложен сюда и лежит в архиве документов: восстановить его может администратор."
)
NOT_FOUND = "Документ не найден."
ALREADY_ARCHIVED = "Документ уже в архиве."
NOT_ARCHIVED = "Документ не в архиве."

PLACES: dict[str, type[Family] | type[Person] | type[Case]] = {
    "family": Family,
    "person": Person,
    "case": Case,
}


@dataclass
class Upload:
    """What an upload brings: the file as a stream and the name its browser gave. `stored`
    collects the keys kept in the store, for the caller to remove if the change fails."""

    stream: IO[bytes]
    file_name: str | None
    stored: list[str] = field(default_factory=list)


def checked_file_name(raw: str | None) -> str:
    """The original name as a name only: no folder, no control character, not too long."""
    if raw is None or not raw.strip():
        raise WorkflowError(NO_FILE, "file")
    name = unicodedata.normalize("NFC", raw.strip())
    # A folder: «/», «\\» or a drive («C:», left when a parser unquotes «C:\\…»).
    if "/" in name or "\\" in name or (len(name) > 1 and name[1] == ":" and name[0].isascii()):
        raise WorkflowError(PATH_IN_NAME, "file")
    if name in {".", ".."} or any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in name):
        raise WorkflowError(BAD_NAME, "file")
    if len(name) > 255:
        raise WorkflowError(LONG_NAME, "file")
    return name


def sniff(spooled: IO[bytes]) -> str | None:
    """The file's type read from its content: one of CONTENT_TYPE's codes, or None."""
    spooled.seek(0)
    head = spooled.read(SNIFF_BYTES)
    kind = filetype.guess(head)
    if kind is None:
        return None
    if kind.mime in {"application/pdf", "image/jpeg", "image/png"}:
        return str(kind.mime)
    if kind.mime in {"application/zip", DOCX}:
        spooled.seek(0)
        try:
            with zipfile.ZipFile(spooled) as archive:  # reads the directory, not the data
                return DOCX if "word/document.xml" in archive.namelist() else None
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
    return None


def _spool(upload: Upload, spooled: IO[bytes]) -> tuple[int, str]:
    """Copy the upload into the spool a chunk at a time: (size, sha256 hex)."""
    digest, size = hashlib.sha256(), 0
    while chunk := upload.stream.read(CHUNK):
        size += len(chunk)
        if size > DOCUMENT_MAX_BYTES:
            raise WorkflowError(TOO_LARGE, "file")
        digest.update(chunk)
        spooled.write(chunk)
    spooled.flush()
    if size == 0:
        raise WorkflowError(EMPTY, "file")
    return size, digest.hexdigest()


def visible_place(session: Session, user: User, kind: str, row_id: int) -> Family | Person | Case:
    """The family, member or case a document is to be attached to, if `user` sees it."""
    model = PLACES.get(kind)
    row: Family | Person | Case | None = None
    if model is not None:
        row = session.scalar(select(model).where(model.id == row_id, where_visible(model, user)))  # type: ignore[assignment]
    if row is None:
        raise WorkflowError(NOT_FOUND)
    return row


def _place_column(kind: str) -> Any:
    return {"family": Document.family_id, "person": Document.person_id, "case": Document.case_id}[
        kind
    ]


def document_types_for(user: User) -> list[tuple[str, str]]:
    """The document types `user` may attach (and so read): health ones only with the right."""
    return [
        (code, label)
        for code, label in DOCUMENT_TYPE.pairs()
        if code not in HEALTH_DOCUMENT_TYPES or reads_health(user.role)
    ]


def add_document(
    session: Session,
    user: User,
    store: DocumentStore,
    *,
    place: str,
    place_id: int,
    doc_type: str | None,
    doc_date: dt.date | None,
    upload: Upload,
    today: dt.date,
    consent_id: int | None = None,
) -> tuple[Document, bool]:
    """Attach the uploaded file to a family, a member or a case: (the document, whether it
    is new). The same file already attached there is that document, not a second one.
    A signed consent's scan may name its consent (`consent_id`, of the same family)."""
    row = visible_place(session, user, place, place_id)
    consent = _signed_consent(session, user, row, consent_id, doc_type)
    session.refresh(row, with_for_update=True)  # two uploads of one file there queue here
    if new_work_refusal(row) is not None:  # archived, or a member of an archived family
        raise WorkflowError(ARCHIVED_PLACE)
    if isinstance(row, Case):
        reason = case_refusal(row)
        if reason:
            raise WorkflowError(reason)
    if doc_type not in DOCUMENT_TYPE.codes:
        raise WorkflowError(UNKNOWN_TYPE, "doc_type")
    if doc_type in HEALTH_DOCUMENT_TYPES and not reads_health(user.role):
        raise WorkflowError(HEALTH_TYPE, "doc_type")
    if doc_date is not None and doc_date > today:
        raise WorkflowError("Дата документа не может быть позже сегодняшней.", "doc_date")
    name = checked_file_name(upload.file_name)
    with store.spool() as spooled:
        size, sha256 = _spool(upload, spooled)
        content_type = sniff(spooled)
        if content_type is None:
            raise WorkflowError(WRONG_TYPE, "file")
        column = _place_column(place)
        same = session.scalar(select(Document).where(column == place_id, Document.sha256 == sha256))
        if same is not None:
            if same.archived_at is not None:
                raise WorkflowError(IN_ARCHIVE, "file")
            return same, False
        key = new_key()
        store.keep(spooled, key)
        upload.stored.append(key)
    document = Document(
        doc_type=doc_type,
        doc_date=doc_date,
        file_name=name,
        content_type=content_type,
        size=size,
        sha256=sha256,
        storage_key=key,
        added_by_id=user.id,
        consent_id=consent.id if consent is not None else None,
        **{f"{place}_id": place_id},
    )
    session.add(document)
    session.flush()
    return document, True


NOT_A_SIGNED_CONSENT = "К согласию прикладывается только его подписанный экземпляр."


def _signed_consent(
    session: Session,
    user: User,
    place: Family | Person | Case,
    consent_id: int | None,
    doc_type: str | None,
) -> Consent | None:
    """The consent a signed copy is attached for: visible to `user` and of the place's family."""
    if consent_id is None:
        return None
    if doc_type != "signed_consent":
        raise WorkflowError(NOT_A_SIGNED_CONSENT, "doc_type")
    family_id = place.id if isinstance(place, Family) else place.family_id
    consent = session.scalar(
        select(Consent).where(Consent.id == consent_id, where_visible(Consent, user))
    )
    if consent is None or consent.family_id != family_id:
        raise WorkflowError(NOT_FOUND)
    return consent


def signed_copies(
    session: Session, user: User, *, case: Case | None = None, consent: Consent | None = None
) -> list[Document]:
    """The signed scans `user` may see of a case's contract («договор подписанный» attached
    to the case) or of a consent («согласие подписанное» naming it), newest first."""
    query = select(Document).where(Document.archived_at.is_(None), where_visible(Document, user))
    if case is not None:
        query = query.where(Document.case_id == case.id, Document.doc_type == "signed_contract")
    elif consent is not None:
        query = query.where(Document.consent_id == consent.id)
    else:
        return []
    return list(session.scalars(query.order_by(Document.added_at.desc(), Document.id.desc())))


def visible_document(session: Session, user: User, document_id: int) -> Document | None:
    """The document if `user` may see it (scope and health right); None as if it did not exist."""
    return session.scalar(
        select(Document).where(Document.id == document_id, where_visible(Document, user))
    )


def _locked_document(session: Session, user: User, document_id: int) -> Document:
    document = session.scalar(
        select(Document)
        .where(Document.id == document_id, where_visible(Document, user))
        .with_for_update()
    )
    if document is None:
        raise WorkflowError(NOT_FOUND)
    return document


def archive_document(session: Session, user: User, document_id: int, now: dt.datetime) -> Document:
    """Put the document in the archive: it leaves the lists, its file stays."""
    document = _locked_document(session, user, document_id)
    if document.archived_at is not None:
        raise WorkflowError(ALREADY_ARCHIVED)
    document.archived_at = now
    session.flush()
    return document


def restore_document(session: Session, user: User, document_id: int) -> Document:
    """Bring the document back from the archive."""
    document = _locked_document(session, user, document_id)
    if document.archived_at is None:
        raise WorkflowError(NOT_ARCHIVED)
    document.archived_at = None
    session.flush()
    return document


@dataclass(frozen=True)
class DocumentRow:
    """One line of a documents list, as plain data."""

    id: int
    doc_type: str
    type_label: str
    doc_date: dt.date | None
    file_name: str
    content_label: str
    size: int
    place: str
    family_id: int | None
    case_id: int | None
    added_by: str
    added_at: dt.datetime
    archived: bool


def _place_words(document: Document) -> str:
    if document.case_id is not None:
        return f"случай № {document.case_id}"
    if document.person is not None:
        person = document.person
        return " ".join(p for p in (person.last_name, person.first_name) if p)
    return "семья"


def _who(user: User | None) -> str:
    """Who added a document, as people name a colleague: the staff member's name."""
    if user is None:
        return ""
    return user.staff.full_name if user.staff is not None else user.username


def _rows(session: Session, query: Any) -> list[DocumentRow]:
    documents = session.scalars(
        query.options(
            joinedload(Document.person),
            joinedload(Document.added_by).joinedload(User.staff),
        )
    ).all()
    rows = []
    for d in documents:
        family_id = d.family_id
        if family_id is None and d.person is not None:
            family_id = d.person.family_id
        rows.append(
            DocumentRow(
                id=d.id,
                doc_type=d.doc_type,
                type_label=DOCUMENT_TYPE.label(d.doc_type),
                doc_date=d.doc_date,
                file_name=d.file_name,
                content_label=CONTENT_TYPE.label(d.content_type),
                size=d.size,
                place=_place_words(d),
                family_id=family_id,
                case_id=d.case_id,
                added_by=_who(d.added_by),
                added_at=d.added_at,
                archived=d.archived_at is not None,
            )
        )
    return rows


def _listed(user: User, archived: bool) -> Any:
    state = Document.archived_at.is_not(None) if archived else Document.archived_at.is_(None)
    return (
        select(Document)
        .where(where_visible(Document, user), state)
        .order_by(Document.added_at.desc(), Document.id.desc())
    )


def documents_of_family(
    session: Session, user: User, family_id: int, archived: bool = False
) -> list[DocumentRow]:
    """The family's file: documents of the family, of its members and of its cases."""
    members = select(Person.id).where(Person.family_id == family_id)
    cases = select(Case.id).where(Case.family_id == family_id)
    query = _listed(user, archived).where(
        or_(
            Document.family_id == family_id,
            Document.person_id.in_(members),
            Document.case_id.in_(cases),
        )
    )
    return _rows(session, query)


def documents_of_case(
    session: Session, user: User, case: Case, archived: bool = False
) -> list[DocumentRow]:
    """The case's package: its own documents and those of its family and its members."""
    members = select(Person.id).where(Person.family_id == case.family_id)
    query = _listed(user, archived).where(
        or_(
            Document.case_id == case.id,
            Document.family_id == case.family_id,
            Document.person_id.in_(members),
        )
    )
    return _rows(session, query)


def document_list(
    session: Session, user: User, *, archived: bool = False, limit: int = 200, offset: int = 0
) -> list[DocumentRow]:
    """Every document `user` may see, newest first, a page at a time."""
    return _rows(session, _listed(user, archived).limit(limit).offset(offset))


def members_of(session: Session, user: User, family_id: int) -> list[Person]:
    """The family's members a document may be attached to."""
    return list(
        session.scalars(
            select(Person)
            .where(
                Person.family_id == family_id,
                Person.archived_at.is_(None),
                where_visible(Person, user),
            )
            .order_by(Person.id)
        )
    )


# --- the single package (seed 004): the documents an application requires ------------------


PACKAGE_INCOMPLETE = (
    "Договор не заключается без документов пакета: {missing}. "
    "Приложите их в разделе «Документы» на странице случая."
)


def _present_types(session: Session, case: Case, visible: Any) -> set[str]:
    """The types among the live documents of the case, its family and its members."""
    members = select(Person.id).where(Person.family_id == case.family_id)
    return set(
        session.scalars(
            select(Document.doc_type).where(
                visible,
                Document.archived_at.is_(None),
                or_(
                    Document.case_id == case.id,
                    Document.family_id == case.family_id,
                    Document.person_id.in_(members),
                ),
            )
        )
    )


def _required(session: Session) -> list[RequiredDocument]:
    return list(
        session.scalars(
            select(RequiredDocument)
            .where(RequiredDocument.archived_at.is_(None))
            .order_by(RequiredDocument.id)
        )
    )


def check_package(session: Session, case: Case) -> None:
    """Refuse the contract while a required document that blocks it is missing (whoever
    signs: the rule is the centre's, not the role's)."""
    present = _present_types(session, case, true())
    missing = [
        DOCUMENT_TYPE.label(r.doc_type)
        for r in _required(session)
        if r.blocks_contract and r.doc_type not in present
    ]
    if missing:
        raise WorkflowError(PACKAGE_INCOMPLETE.format(missing=", ".join(missing)))


@dataclass(frozen=True)
class PackageItem:
    """One required document type of a case's package: present among its documents or not."""

    doc_type: str
    label: str
    present: bool
    blocks_contract: bool
    note: str


def package_checklist(session: Session, user: User, case: Case) -> list[PackageItem]:
    """The centre's required document types, each present or missing among the live documents
    of the case, its family and its members; the МСЭ certificate and the ИПРА only for a
    role that reads health (for another, whether a family has one is itself health data)."""
    present = _present_types(session, case, where_visible(Document, user))
    return [
        PackageItem(
            doc_type=r.doc_type,
            label=DOCUMENT_TYPE.label(r.doc_type),
            present=r.doc_type in present,
            blocks_contract=r.blocks_contract,
            note=r.note or "",
        )
        for r in _required(session)
        if r.doc_type not in HEALTH_DOCUMENT_TYPES or reads_health(user.role)
    ]


def missing_for_contract(session: Session, user: User, case: Case) -> tuple[list[str], list[str]]:
    """(the missing types that block the contract, the other missing ones), as labels."""
    items = [item for item in package_checklist(session, user, case) if not item.present]
    return (
        [item.label for item in items if item.blocks_contract],
        [item.label for item in items if not item.blocks_contract],
    )
