"""«Документы»: the family's file — the list, the upload form, the file route, the archive.

Access comes from the permission matrix (endpoint `documents`): L the list and the
sections on the family's and the case's pages, D open a file, C attach one, X (delete)
archive it, E restore it from the archive. Which documents: `where_visible(Document, …)`
(the place's row scope and, for the МСЭ certificate and the ИПРА, the health right), so
a document out of reach answers 404 everywhere, the file route included.

The file route streams the stored file (send_file over the store's file object, a chunk
at a time), with `Content-Disposition: attachment` — inline for PDF and images — and
`X-Content-Type-Options: nosniff`; the opening is recorded in the audit trail. There is
no public URL of a file: only this route, after those checks.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import SelectField
from wtforms.validators import Optional

from models import Case, Consent, Family, db
from models.base import utcnow
from models.declension import plural
from models.documents import DOCUMENT_TYPE, INLINE_CONTENT_TYPES
from models.guards import case_refusal
from models.live import new_work_refusal
from models.terms import DOCUMENT_MAX_BYTES, DOCUMENT_MAX_IN_WORDS
from workflows import documents as wf
from workflows.dates import centre_today
from workflows.storage import DocumentStore

from .base import OporaModelView
from .forms import PageForm, date_field, parse_id, required
from .openings import record_opening
from .pages import PageView

# What an upload request may carry besides the file (its other fields, the multipart
# framing); a larger request is refused before it is read (413, in Russian).
UPLOAD_OVERHEAD = 1024 * 1024
UPLOAD_ENDPOINT = "documents.upload"
FILE_TOO_LARGE = (
    "Файл слишком большой",
    f"Файл больше {DOCUMENT_MAX_IN_WORDS}, он не принят. Отсканируйте с меньшим разрешением "
    "или разделите на части, вернитесь назад и приложите ещё раз.",
)
UPLOADED = "Документ приложен: {name}."
ALREADY_THERE = "Этот файл уже приложен сюда ({name}): второй копии не сделано."
ARCHIVED = "Документ перенесён в архив."
RESTORED = "Документ восстановлен из архива."


def store() -> DocumentStore:
    return current_app.extensions["document_store"]


def allow_uploads(app: Flask) -> None:
    """Let the upload route's request be as large as a document (the app's limit is
    smaller); registered before CSRFProtect, whose check reads the form first."""

    @app.before_request
    def _upload_allowance() -> None:
        if request.endpoint == UPLOAD_ENDPOINT:
            request.max_content_length = DOCUMENT_MAX_BYTES + UPLOAD_OVERHEAD


class UploadForm(PageForm):
    doc_type = SelectField("Вид документа", validators=[required()])
    doc_date = date_field("Дата документа", past_only=True)
    person = SelectField("Чей документ", validators=[Optional()])
    file = FileField(
        "Файл",
        description=f"ПДФ, фотография, изображение или документ Ворда, не больше {DOCUMENT_MAX_IN_WORDS}.",
    )


def upload_form(place: str, row) -> UploadForm:
    """The upload form for a family's or a case's page (and its own page); on a POST it
    reads the request's fields and file."""
    form = UploadForm()
    form.doc_type.choices = [("", "— выберите —"), *wf.document_types_for(current_user)]
    family_id = row.id if place == "family" else row.family_id
    members = wf.members_of(db.session, current_user, family_id)
    whole = "вся семья" if place == "family" else "случай (вся семья)"
    form.person.choices = [("", whole), *((str(p.id), p.full_name) for p in members)]
    return form


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} МБ".replace(".", ",")
    return f"{max(1, round(size / 1024))} КБ"


class DocumentsView(PageView):
    """The documents list, the upload form, the file route, archive and restore."""

    @expose("/")
    def index(self):
        self.require("list")
        archived = request.args.get("archive") == "1"
        page = max(1, parse_id(request.args.get("page")) or 1)
        rows = wf.document_list(
            db.session, current_user, archived=archived, limit=100, offset=(page - 1) * 100
        )
        return self.render(
            "admin/documents/list.html",
            rows=rows,
            archived=archived,
            page=page,
            human_size=human_size,
            may=self.may,
            heading=plural(len(rows), "документ", "документа", "документов"),
        )

    def _consent(self) -> Consent | None:
        """The consent a signed copy is uploaded for (?consent=ID), if visible."""
        raw = request.args.get("consent")
        return None if raw is None else self.visible_or_404(Consent, parse_id(raw))

    def _place(self):
        """The family or the case of the upload (?family=ID or ?case=ID, or the family of
        ?consent=ID), if visible."""
        consent = self._consent()
        if consent is not None:
            return "family", self.visible_or_404(Family, consent.family_id)
        for place, model in (("family", Family), ("case", Case)):
            raw = request.args.get(place)
            if raw is not None:
                return place, self.visible_or_404(model, parse_id(raw))
        abort(404)

    def _back(self, place: str, row) -> str:
        consent = self._consent()
        if consent is not None:
            return url_for("consent.details_view", id=consent.id)
        endpoint = "family.details_view" if place == "family" else "case.details_view"
        return url_for(endpoint, id=row.id)

    @expose("/upload/", methods=("GET", "POST"))
    def upload(self):
        self.require("create")
        place, row = self._place()
        form = upload_form(place, row)
        consent = self._consent()
        if consent is not None:  # the signed copy of that consent, kept in the family's file
            form.doc_type.choices = [("signed_consent", DOCUMENT_TYPE.label("signed_consent"))]
            form.person.choices = [("", "вся семья")]
        elif request.method == "GET" and request.args.get("type") in dict(form.doc_type.choices):
            form.doc_type.data = request.args["type"]  # «договор подписанный» from the contract
        if form.validate_on_submit():
            target, target_id = place, row.id
            person_id = parse_id(form.person.data) if form.person.data else None
            if person_id is not None:
                target, target_id = "person", person_id
            incoming = form.file.data
            upload = wf.Upload(
                stream=incoming.stream if incoming else _Empty(),
                file_name=incoming.filename if incoming else None,
            )
            outcome = self.run(
                lambda: wf.add_document(
                    db.session,
                    current_user,
                    store(),
                    place=target,
                    place_id=target_id,
                    doc_type=form.doc_type.data,
                    doc_date=form.doc_date.data,
                    upload=upload,
                    today=centre_today(),
                    consent_id=consent.id if consent is not None else None,
                ),
                form=form,
            )
            if outcome.ok:
                document, new = outcome.value
                message = UPLOADED if new else ALREADY_THERE
                flash(message.format(name=document.file_name), "success" if new else "info")
                return redirect(self._back(place, row))
            for key in upload.stored:  # kept in the store for a row that was not written
                store().remove(key)
        return self.render(
            "admin/documents/upload.html",
            form=form,
            place=place,
            row=row,
            back=self._back(place, row),
        )

    @expose("/file/")
    def file(self):
        """The file itself (?id=ID), after the row scope and the health right; audited."""
        self.require("details")
        document_id = parse_id(request.args.get("id"))
        document = None
        if document_id is not None:
            document = wf.visible_document(db.session, current_user, document_id)
        if document is None:
            abort(404)
        record_opening(document)
        document = wf.visible_document(db.session, current_user, document_id)
        if document is None:  # gone between the two reads
            abort(404)
        try:
            stream = store().open(document.storage_key)
        except Exception:  # the store lost it or does not answer: no such file to give
            current_app.logger.exception("document file unavailable")
            abort(404)
        inline = document.content_type in INLINE_CONTENT_TYPES
        response = send_file(
            stream,
            mimetype=document.content_type,
            as_attachment=not inline,
            download_name=document.file_name,
            conditional=False,
            etag=False,
            max_age=0,
        )
        response.content_length = document.size
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"
        return response

    def _posted_id(self) -> int:
        document_id = parse_id(request.form.get("id"))
        if document_id is None:
            abort(404)
        return document_id

    @expose("/archive/", methods=("POST",))
    def archive(self):
        self.require("delete")
        document_id = self._posted_id()
        outcome = self.run(
            lambda: wf.archive_document(db.session, current_user, document_id, utcnow())
        )
        if outcome.refusal is not None and str(outcome.refusal) == wf.NOT_FOUND:
            abort(404)
        self.tell(outcome, ARCHIVED)
        return redirect(_safe_next() or url_for(".index"))

    @expose("/restore/", methods=("POST",))
    def restore(self):
        self.require("edit")
        document_id = self._posted_id()
        outcome = self.run(lambda: wf.restore_document(db.session, current_user, document_id))
        if outcome.refusal is not None and str(outcome.refusal) == wf.NOT_FOUND:
            abort(404)
        self.tell(outcome, RESTORED)
        return redirect(_safe_next() or url_for(".index", archive="1"))


class _Empty:
    """No file chosen: an empty stream, which the workflow refuses in Russian."""

    def read(self, _size: int = -1) -> bytes:
        return b""


def _safe_next() -> str | None:
    """Where to go back to: a path of this site only."""
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def section(place: str, row, role_may) -> dict | None:
    """The «Документы» section of a family's or a case's page: its rows and upload form."""
    if not role_may("list"):
        return None
    if place == "family":
        rows = wf.documents_of_family(db.session, current_user, row.id)
    else:
        rows = wf.documents_of_case(db.session, current_user, row)
    # The workflow's own refusals (models/live.py, the closed-case guard), asked ahead.
    refused = new_work_refusal(row) or (isinstance(row, Case) and case_refusal(row))
    may_upload = role_may("create") and not refused
    package = wf.package_checklist(db.session, current_user, row) if place == "case" else []
    return {
        "package": package,
        "package_present": sum(1 for item in package if item.present),
        "rows": rows,
        "form": upload_form(place, row) if may_upload else None,
        "upload_url": url_for("documents.upload", **{place: row.id}),
        "may_open": role_may("details"),
        "may_archive": role_may("delete"),
        "human_size": human_size,
        "next": request.full_path,
    }


class RequiredDocumentView(OporaModelView):
    """«Пакет документов»: the types an application requires, set by the administrator."""

    column_list = ("doc_type", "blocks_contract", "note")
    column_default_sort = "id"
    form_columns = ("doc_type", "blocks_contract", "note")
