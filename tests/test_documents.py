"""The family's file: uploads, one document per file and place, refusals that leave nothing,
the file route's row scope, health right, audit and headers, archive and restore, and the
backup's round trip with the files — on both databases and on both stores (a local
directory, and S3 through moto's server started here on port 0)."""

from __future__ import annotations

import hashlib
import html
import io
import os
import stat
import zipfile

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from sqlalchemy import func, select

import workflows.documents as wf
from models import AuditRecord, Document, db
from workflows.storage import LocalStore, S3Store

PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
    + b"0" * 3000
    + b"\n%%EOF\n"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x11" * 2000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 2000
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 2000


def docx_bytes(name: str = "word/document.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, text in (
            ("[Content_Types].xml", "<Types/>"),
            ("_rels/.rels", "<Relationships/>"),
            (name, "<w:document/>"),
        ):  # fixed dates: the same bytes every time
            archive.writestr(zipfile.ZipInfo(member, date_time=(2025, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


# --- the two stores -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_store(endpoint: str, bucket: str) -> S3Store:
    store = S3Store.from_settings(
        {
            "OPORA_S3_ENDPOINT": endpoint,
            "OPORA_S3_BUCKET": bucket,
            "OPORA_S3_ACCESS_KEY": "testing",
            "OPORA_S3_SECRET_KEY": "testing",
        }
    )
    store.client.create_bucket(Bucket=bucket)
    return store


@pytest.fixture(params=["local", "s3"])
def store(request, app, tmp_path):
    """The app's document store for one test: a fresh directory, or a fresh S3 bucket."""
    if request.param == "local":
        chosen = LocalStore(tmp_path / "documents")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        chosen = s3_store(endpoint, f"opora-{os.getpid()}-{f.seq()}")
    before = app.extensions["document_store"]
    app.extensions["document_store"] = chosen
    yield chosen
    app.extensions["document_store"] = before


def stored_files(store) -> list[str]:
    """Every file the store holds, the spool included (a refused upload leaves none)."""
    if isinstance(store, LocalStore):
        if not store.root.exists():
            return []
        return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())
    answer = store.client.list_objects_v2(Bucket=store.bucket)
    return sorted(item["Key"] for item in answer.get("Contents", []))


def stored_bytes(store, key: str) -> bytes:
    with store.open(key) as file:
        return file.read()


# --- the world: a family in each of two districts, and who works with the first ----------


@pytest.fixture
def world(app):
    with app.app_context():
        north, south = f.district(name="Северный"), f.district(name="Южный")
        family, mother, child = f.family_with_members(district_row=north, surname="Орловы")
        other, other_mother, _ = f.family_with_members(district_row=south, surname="Зуевы")
        case = f.case(family, mother)
        other_case = f.case(other, other_mother)
        make_user("district_worker", "north_worker", districts=[north.id])
        make_user("district_worker", "south_worker", districts=[south.id])
        make_user("coordinator")
        make_user("admin")
        lawyer = make_user("lawyer")
        f.task(family, case, title="Консультация юриста", assignee=lawyer.staff, status="assigned")
        make_user("rental_clerk")
        f.loan(f.equipment_unit(), family, child)
        db.session.commit()
        return {
            "family": family.id,
            "case": case.id,
            "mother": mother.id,
            "child": child.id,
            "other_family": other.id,
            "other_case": other_case.id,
        }


def upload(client, place: str, place_id: int, content: bytes, name: str = "скан.pdf", **fields):
    url = f"/documents/upload/?{place}={place_id}"
    data = {
        "csrf_token": csrf_token(client),
        "doc_type": fields.pop("doc_type", "passport"),
        "doc_date": fields.pop("doc_date", "2025-03-01"),
        "person": fields.pop("person", ""),
        "file": (io.BytesIO(content), name),
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def documents(app) -> list[Document]:
    with app.app_context():
        rows = db.session.scalars(select(Document).order_by(Document.id)).all()
        db.session.expunge_all()
        return list(rows)


def add_directly(app, store, place: str, place_id: int, content: bytes, doc_type: str, name: str):
    """A document attached through the workflow, as the coordinator."""
    with app.app_context():
        from models import User

        user = db.session.scalar(select(User).where(User.username == "coordinator"))
        document, _new = wf.add_document(
            db.session,
            user,
            store,
            place=place,
            place_id=place_id,
            doc_type=doc_type,
            doc_date=None,
            upload=wf.Upload(io.BytesIO(content), name),
            today=f.dt.date.today(),
        )
        db.session.commit()
        return document.id


# --- uploads ------------------------------------------------------------------------------


def test_upload_keeps_the_file_and_its_row(app, world, store):
    """Does an upload to a family store the bytes under a key of the store, with a row that
    names the family, the type read from the content, size, sha256 and who added it?"""
    client = signed_in(app, "north_worker")
    response = upload(client, "family", world["family"], PDF, name="Паспорт матери.PDF")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (document,) = documents(app)
    assert document.family_id == world["family"] and document.case_id is None
    assert document.content_type == "application/pdf"
    assert document.file_name == "Паспорт матери.PDF"
    assert document.size == len(PDF) and document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert document.doc_date == f.dt.date(2025, 3, 1)
    assert stored_bytes(store, document.storage_key) == PDF
    assert stored_files(store) == [document.storage_key]
    if isinstance(store, LocalStore):
        assert stat.S_IMODE(store.path(document.storage_key).stat().st_mode) == 0o600
    page = client.get(f"/family/details/?id={world['family']}").get_data(as_text=True)
    assert "Документы" in page and "Паспорт матери.PDF" in page
    with app.app_context():
        added = db.session.scalar(select(AuditRecord).where(AuditRecord.table_name == "document"))
        assert added is not None and added.action == "insert"


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        (JPEG, "фото.jpg", "image/jpeg"),
        (PNG, "скан.png", "image/png"),
        (docx_bytes(), "заявление.docx", wf.DOCX),
        (PDF, "без-расширения", "application/pdf"),  # the content decides, not the name
    ],
)
def test_each_accepted_kind_is_read_from_the_content(app, world, store, content, name, kind):
    client = signed_in(app, "north_worker")
    assert upload(client, "case", world["case"], content, name=name).status_code == 302
    (document,) = documents(app)
    assert document.content_type == kind and document.case_id == world["case"]


def test_the_same_file_twice_in_one_place_is_one_document(app, world, store):
    """Does a second upload of the same bytes to the same place make no second row or file,
    while the same file attached to another place (the case) is a document of its own?"""
    client = signed_in(app, "north_worker")
    assert upload(client, "family", world["family"], PDF).status_code == 302
    again = upload(client, "family", world["family"], PDF, name="другое имя.pdf")
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "уже приложен сюда" in page
    assert len(documents(app)) == 1 and len(stored_files(store)) == 1
    assert upload(client, "case", world["case"], PDF).status_code == 302
    assert len(documents(app)) == 2 and len(stored_files(store)) == 2


def test_the_database_holds_one_document_per_file_and_place(app, world, store):
    """Is the rule the database's too (a unique constraint per place), past the workflow?"""
    add_directly(app, store, "family", world["family"], PDF, "passport", "a.pdf")
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        first = db.session.scalar(select(Document))
        twin = Document(
            family_id=first.family_id,
            doc_type="other",
            file_name="b.pdf",
            content_type=first.content_type,
            size=first.size,
            sha256=first.sha256,
            storage_key="ab/" + "0" * 32,
        )
        db.session.add(twin)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        nowhere = Document(
            doc_type="other",
            file_name="c.pdf",
            content_type="application/pdf",
            size=1,
            sha256="1" * 64,
            storage_key="cd/" + "1" * 32,
        )
        db.session.add(nowhere)
        with pytest.raises(IntegrityError):  # attached to nothing: the CHECK one_place
            db.session.flush()
        db.session.rollback()


BAD_UPLOADS = [
    pytest.param(b"", "пусто.pdf", wf.EMPTY, id="empty"),
    pytest.param(EXE, "скан.pdf", wf.WRONG_TYPE, id="a program named .pdf"),
    pytest.param(docx_bytes("other.xml"), "заявление.docx", wf.WRONG_TYPE, id="a zip, no docx"),
    pytest.param(b"just text, no magic" * 50, "текст.pdf", wf.WRONG_TYPE, id="plain text"),
    pytest.param(PDF, "../../etc/passwd.pdf", wf.PATH_IN_NAME, id="a path"),
    pytest.param(PDF, "C:\\Users\\scan.pdf", wf.PATH_IN_NAME, id="a windows path"),
]


@pytest.mark.parametrize(("content", "name", "message"), BAD_UPLOADS)
def test_a_bad_upload_is_refused_in_russian_and_leaves_nothing(
    app, world, store, content, name, message
):
    client = signed_in(app, "north_worker")
    response = upload(client, "family", world["family"], content, name=name)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    field = page.split('id="field-file"', 1)[1].split('id="document-upload-submit"', 1)[0]
    assert html.escape(message, quote=False) in field  # under the file field
    assert documents(app) == [] and stored_files(store) == []


def test_a_file_over_the_limit_is_refused_and_leaves_nothing(app, world, store, monkeypatch):
    monkeypatch.setattr(wf, "DOCUMENT_MAX_BYTES", 4096)
    client = signed_in(app, "north_worker")
    response = upload(client, "family", world["family"], PDF + b"0" * 5000)
    assert response.status_code == 200
    assert "Файл больше 20 МБ" in response.get_data(as_text=True)
    assert documents(app) == [] and stored_files(store) == []


def test_a_request_far_over_the_limit_is_a_russian_413(app, world, store, monkeypatch):
    import admin_views.documents as views

    monkeypatch.setattr(views, "DOCUMENT_MAX_BYTES", 1024)
    monkeypatch.setattr(views, "UPLOAD_OVERHEAD", 1024)
    client = signed_in(app, "north_worker")
    response = upload(client, "family", world["family"], PDF * 3)
    assert response.status_code == 413
    assert "Файл больше 20 МБ, он не принят" in response.get_data(as_text=True)
    assert documents(app) == [] and stored_files(store) == []


def test_a_row_refused_after_the_file_was_kept_leaves_no_file(app, world, store, monkeypatch):
    """Does the page remove the stored file when the row's write fails after `keep`?"""
    original = wf.add_document

    def failing(*args, **kwargs):
        original(*args, **kwargs)
        raise wf.WorkflowError("Отказ после записи файла.")

    import admin_views.documents as views

    monkeypatch.setattr(views.wf, "add_document", failing)
    client = signed_in(app, "north_worker")
    response = upload(client, "family", world["family"], PDF)
    assert response.status_code == 200 and "Отказ после записи файла." in response.get_data(
        as_text=True
    )
    assert documents(app) == [] and stored_files(store) == []


def test_a_health_type_is_not_offered_to_a_role_without_the_right(app, world, store):
    page = signed_in(app, "north_worker").get(f"/family/details/?id={world['family']}")
    assert "справка МСЭ" in page.get_data(as_text=True)
    client = signed_in(app, "coordinator")
    assert "справка МСЭ" in client.get(f"/case/details/?id={world['case']}").get_data(as_text=True)
    admin = signed_in(app, "admin")
    page = admin.get(f"/documents/upload/?family={world['family']}").get_data(as_text=True)
    assert "справка МСЭ" not in page and "ИПРА" not in page
    response = upload(admin, "family", world["family"], PDF, doc_type="mse_certificate")
    assert response.status_code == 200 and documents(app) == []


# --- the file route ------------------------------------------------------------------------


def test_the_file_route_streams_with_safe_headers_and_is_audited(app, world, store):
    pdf = add_directly(app, store, "family", world["family"], PDF, "passport", "паспорт.pdf")
    docx = add_directly(app, store, "case", world["case"], docx_bytes(), "other", "план.docx")
    client = signed_in(app, "north_worker")
    response = client.get(f"/documents/file/?id={pdf}")
    assert response.is_streamed  # a chunk at a time, not one body read whole
    assert response.status_code == 200 and response.get_data() == PDF
    assert response.headers["Content-Length"] == str(len(PDF))
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    response = client.get(f"/documents/file/?id={docx}")
    assert response.status_code == 200 and response.get_data() == docx_bytes()
    assert response.headers["Content-Disposition"].startswith("attachment")
    with app.app_context():
        openings = db.session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "view", AuditRecord.table_name == "document"
            )
        ).all()
        assert sorted(r.row_id for r in openings) == sorted([str(pdf), str(docx)])
        assert {r.username for r in openings} == {"north_worker"}
        assert {r.changes["page"] for r in openings} == {"documents.file"}


def test_another_districts_worker_gets_404(app, world, store):
    on_family = add_directly(app, store, "family", world["family"], PDF, "passport", "p.pdf")
    on_child = add_directly(app, store, "person", world["child"], PNG, "birth_certificate", "c.png")
    on_case = add_directly(app, store, "case", world["case"], JPEG, "application", "з.jpg")
    client = signed_in(app, "south_worker")
    for document_id in (on_family, on_child, on_case):
        assert client.get(f"/documents/file/?id={document_id}").status_code == 404
    assert "p.pdf" not in client.get("/documents/").get_data(as_text=True)
    assert upload(client, "family", world["family"], PNG).status_code == 404
    assert upload(client, "case", world["case"], PNG).status_code == 404
    form = {"csrf_token": csrf_token(client)}
    assert client.post("/documents/archive/", data={**form, "id": on_family}).status_code in (
        403,
        404,
    )
    own = signed_in(app, "north_worker")
    for document_id in (on_family, on_child, on_case):
        assert own.get(f"/documents/file/?id={document_id}").status_code == 200
    listed = own.get("/documents/").get_data(as_text=True)
    assert "p.pdf" in listed and "c.png" in listed and "з.jpg" in listed


@pytest.mark.parametrize("role", ["lawyer", "rental_clerk"])
def test_an_mse_document_is_404_for_a_role_without_the_health_right(app, world, store, role):
    """The lawyer (on the case by a task) and the rental clerk (the family has a loan) open
    the family's passport, but its МСЭ certificate and ИПРА do not exist for them."""
    passport = add_directly(app, store, "family", world["family"], PDF, "passport", "p.pdf")
    mse = add_directly(app, store, "person", world["child"], PNG, "mse_certificate", "мсэ.png")
    ipra = add_directly(app, store, "family", world["family"], JPEG, "ipra", "ипра.jpg")
    client = signed_in(app, role)
    assert client.get(f"/documents/file/?id={passport}").status_code == 200
    assert client.get(f"/documents/file/?id={mse}").status_code == 404
    assert client.get(f"/documents/file/?id={ipra}").status_code == 404
    listed = client.get("/documents/").get_data(as_text=True)
    assert "p.pdf" in listed and "мсэ.png" not in listed and "справка МСЭ" not in listed
    page = client.get(f"/family/details/?id={world['family']}").get_data(as_text=True)
    assert "мсэ.png" not in page and "ипра.jpg" not in page
    coordinator = signed_in(app, "coordinator")
    assert coordinator.get(f"/documents/file/?id={mse}").status_code == 200


def test_a_viewer_has_no_documents(app, world, store):
    passport = add_directly(app, store, "family", world["family"], PDF, "passport", "p.pdf")
    with app.app_context():
        make_user("viewer")
    client = signed_in(app, "viewer")
    assert client.get("/documents/").status_code == 403
    assert client.get(f"/documents/file/?id={passport}").status_code == 403


# --- archive and restore --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("archived", "place", "key"),
    [("family", "family", "family"), ("family", "person", "mother"), ("case", "case", "case")],
)
def test_nothing_is_attached_to_an_archived_place(app, world, store, archived, place, key):
    """Is an upload to an archived family, to a member of an archived family and to an
    archived case refused (the one rule of models/live.py), leaving no row and no file?"""
    model = {"family": f.Family, "case": f.Case}[archived]
    with app.app_context():
        db.session.get(model, world[archived]).archived_at = f.dt.datetime.now(f.dt.UTC)
        db.session.commit()
    with pytest.raises(wf.WorkflowError, match="в архиве"):
        add_directly(app, store, place, world[key], PNG, "passport", "паспорт.png")
    assert documents(app) == []
    assert stored_files(store) == []


def test_archive_keeps_the_file_and_only_the_admin_restores(app, world, store):
    document_id = add_directly(app, store, "family", world["family"], PDF, "passport", "p.pdf")
    worker = signed_in(app, "north_worker")  # attaches, but does not archive
    form = {"csrf_token": csrf_token(worker)}
    assert worker.post("/documents/archive/", data={**form, "id": document_id}).status_code == 403
    coordinator = signed_in(app, "coordinator")
    form = {"csrf_token": csrf_token(coordinator)}
    response = coordinator.post("/documents/archive/", data={**form, "id": document_id})
    assert response.status_code == 302
    (document,) = documents(app)
    assert document.archived_at is not None
    assert stored_bytes(store, document.storage_key) == PDF  # the file stays
    assert "p.pdf" not in coordinator.get("/documents/").get_data(as_text=True)
    assert "p.pdf" in coordinator.get("/documents/?archive=1").get_data(as_text=True)
    page = coordinator.get(f"/family/details/?id={world['family']}").get_data(as_text=True)
    assert "p.pdf" not in page
    # the same file again to the same place: it is in the archive, not a second document
    again = upload(worker, "family", world["family"], PDF)
    assert again.status_code == 200 and "в архиве" in again.get_data(as_text=True)
    assert (
        coordinator.post("/documents/restore/", data={**form, "id": document_id}).status_code == 403
    )
    admin = signed_in(app, "admin")
    form = {"csrf_token": csrf_token(admin)}
    assert admin.post("/documents/restore/", data={**form, "id": document_id}).status_code == 302
    (document,) = documents(app)
    assert document.archived_at is None
    with app.app_context():
        changes = db.session.scalars(
            select(AuditRecord.action).where(
                AuditRecord.table_name == "document", AuditRecord.action == "update"
            )
        ).all()
        assert len(changes) == 2  # archived, restored: both in the audit trail


# --- backup and restore ---------------------------------------------------------------------


def test_backup_and_restore_bring_back_the_rows_and_the_files(app, world, runner, tmp_path):
    """Does `flask backup` write the local store's files beside the database (0600), and
    `flask restore` bring back both — a file added since is gone, one lost is back?"""
    store = LocalStore(tmp_path / "documents")
    before_store = app.extensions["document_store"]
    app.extensions["document_store"] = store
    try:
        kept = add_directly(app, store, "family", world["family"], PDF, "passport", "p.pdf")
        path = tmp_path / "opora.backup"
        result = runner.invoke(args=["backup", str(path)])
        assert result.exit_code == 0, result.output
        archive = tmp_path / "opora.backup.documents.tar"
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        (document,) = documents(app)
        store.remove(document.storage_key)  # the file lost
        add_directly(app, store, "case", world["case"], PNG, "other", "later.png")
        assert len(documents(app)) == 2
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert result.exit_code == 0, result.output
        (restored,) = documents(app)
        assert restored.id == kept
        assert stored_bytes(store, restored.storage_key) == PDF
        assert stored_files(store) == [restored.storage_key]
        assert stat.S_IMODE(store.path(restored.storage_key).stat().st_mode) == 0o600
        safety = list(tmp_path.glob("opora.before-restore-*.documents.tar"))
        assert len(safety) == 1  # what the restore replaced (later.png) is kept there
        client = signed_in(app, "north_worker")
        assert client.get(f"/documents/file/?id={kept}").get_data() == PDF
    finally:
        app.extensions["document_store"] = before_store


def test_restore_takes_only_the_stores_own_names(tmp_path):
    """A tar with a path outside the store (or any other name) adds nothing but its files."""
    import tarfile

    from workflows.backup import restore_documents

    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        for name in ("../escaped", "ab/" + "c" * 32, "/etc/x"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    store = LocalStore(tmp_path / "store")
    assert restore_documents(store, archive, tmp_path / "safety.tar") == 1
    assert list(store.stored_keys()) == ["ab/" + "c" * 32]
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("name", ["a/b.pdf", "a\\b.pdf", "C:scan.pdf", "..", "скан\x00.pdf", " "])
def test_a_file_name_is_a_name_only(name):
    with pytest.raises(wf.WorkflowError) as refused:
        wf.checked_file_name(name)
    assert refused.value.field == "file"


def test_store_keys_are_its_own(tmp_path):
    store = LocalStore(tmp_path)
    for key in ("../x", "ab/../../x", "/etc/passwd", "AB/" + "0" * 32):
        with pytest.raises(ValueError):
            store.path(key)


def test_count_helper_sees_no_documents_without_a_world(app):
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0


# --- the single package (seed 004) ----------------------------------------------------------


def require(app, *types, blocking=()):
    with app.app_context():
        for doc_type in types:
            f.required_document(doc_type=doc_type, blocks_contract=doc_type in blocking)
        db.session.commit()


def package_items(page: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'data-type="(\w+)" data-present="(yes|no)"', page))


def test_the_case_page_shows_the_package_present_and_missing(app, world, store):
    """Does the case's page say which required documents of the package are there (the
    family's, a member's or the case's own) and which are missing — the МСЭ certificate
    only to a role that reads health?"""
    require(app, "application", "passport", "snils", "mse_certificate", blocking=("passport",))
    add_directly(app, store, "case", world["case"], PDF, "application", "заявление.pdf")
    add_directly(app, store, "person", world["mother"], PNG, "passport", "паспорт.png")
    archived = add_directly(app, store, "family", world["family"], JPEG, "snils", "снилс.jpg")
    with app.app_context():
        db.session.get(Document, archived).archived_at = f.dt.datetime.now(f.dt.UTC)
        db.session.commit()
    page = signed_in(app, "coordinator").get(f"/case/details/?id={world['case']}")
    text = page.get_data(as_text=True)
    assert package_items(text) == {
        "application": "yes",
        "passport": "yes",
        "snils": "no",  # an archived document is not in the package
        "mse_certificate": "no",
    }
    assert "Пакет документов: есть 2 из 4." in text
    lawyer = signed_in(app, "lawyer").get(f"/case/details/?id={world['case']}")
    assert package_items(lawyer.get_data(as_text=True)) == {
        "application": "yes",
        "passport": "yes",
        "snils": "no",
    }


def test_a_missing_blocking_document_stops_the_contract(app, world, store):
    """Is the contract refused (in Russian, nothing signed) while a document that blocks it
    is missing, named on the decision page with the others missing, and signed once it is
    attached?"""
    require(app, "application", "signed_consent", blocking=("application",))
    with app.app_context():
        from models import Case

        case = db.session.get(Case, world["case"])
        case.status, case.contract_number, case.contract_date = "assessment", None, None
        case.decision_date = case.start_date = case.planned_end_date = None
        worker = db.session.scalar(
            select(f.Staff)
            .join(f.User, f.User.staff_id == f.Staff.id)
            .where(f.User.username == "north_worker")
        )
        db.session.commit()
        worker_id = worker.id
    client = signed_in(app, "coordinator")
    url = f"/case_flow/{world['case']}/decision"
    page = client.get(url).get_data(as_text=True)
    assert 'id="package-blocking"' in page and "заявление" in page.split('id="package-blocking"')[1]
    assert "согласие подписанное" in page.split('id="package-missing"')[1]
    today = f.dt.date.today()
    form = {
        "csrf_token": csrf_token(client, url),
        "decision_date": today.isoformat(),
        "contract_number": "Д-пакет-1",
        "contract_date": today.isoformat(),
        "start_date": today.isoformat(),
        "planned_end_date": "",
        "lead_worker": worker_id,
    }
    refused = client.post(url, data=form)
    assert refused.status_code == 200
    assert "Договор не заключается без документов пакета: заявление" in refused.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(Case, world["case"]).status == "assessment"
    add_directly(app, store, "case", world["case"], PDF, "application", "заявление.pdf")
    signed = client.post(url, data={**form, "csrf_token": csrf_token(client, url)})
    assert signed.status_code == 302, signed.get_data(as_text=True)[-1500:]
    with app.app_context():
        assert db.session.get(Case, world["case"]).status == "active"


def test_only_the_admin_sets_the_package(app, world):
    """Is «Пакет документов» the administrator's to write, one live requirement per type?"""
    admin = signed_in(app, "admin")
    url = "/required_document/new/"
    form = {"csrf_token": csrf_token(admin, url), "doc_type": "passport", "note": "матери"}
    assert admin.post(url, data=form).status_code == 302
    again = admin.post(url, data={**form, "csrf_token": csrf_token(admin, url)})
    assert again.status_code == 200 and "уже есть в пакете" in again.get_data(as_text=True)
    coordinator = signed_in(app, "coordinator")
    assert coordinator.get("/required_document/").status_code == 200
    assert coordinator.get(url).status_code in (302, 403)
