"""Printed documents: each is one template shown as an A4 print page and rendered on the
server as a PDF by WeasyPrint — the same HTML, the style sheet inlined, the fonts the
project ships (static/fonts, DejaVu Serif) embedded, so a PDF is the same on every
machine whatever fonts it has. The renderer fetches nothing from the network: its
url_fetcher serves only the shipped fonts and refuses every other address.

A PDF route is the page's own function under a second URL ending in `.pdf`: the same
row scope, the same health right, the same audit of the opening, plus one
«pdf» line in the audit trail; the file comes with a Russian name.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from flask import Response, request, url_for
from flask_login import current_user

from models import db
from models.audit import record_event
from models.declension import sex_of
from workflows.centre import centre_settings, requisites_lines
from workflows.export import content_disposition

from .permissions import allowed

STATIC = Path(__file__).resolve().parent.parent / "static"
FONTS = STATIC / "fonts"
STYLE_SHEET = STATIC / "print-contract.css"
IPSS_STYLE_SHEET = STATIC / "print.css"
PDF_MIMETYPE = "application/pdf"


class RefusedFetch(ValueError):
    """The renderer asked for something other than a shipped font."""


def shipped_fonts_only(url: str, timeout: int = 10, ssl_context=None) -> dict:
    """WeasyPrint's url_fetcher: a file under static/fonts, nothing else (no network)."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise RefusedFetch(f"refused to fetch {parsed.scheme}: URL")
    path = Path(unquote(parsed.path)).resolve()
    if not path.is_relative_to(FONTS) or not path.is_file():
        raise RefusedFetch("refused to read a file outside the shipped fonts")
    return {"file_obj": path.open("rb"), "mime_type": "font/ttf", "redirected_url": url}


def wants_pdf() -> bool:
    return request.path.endswith(".pdf")


def pdf_bytes(html: str) -> bytes:
    """The PDF of a printed page's HTML (its CSS inline, fonts from static/fonts)."""
    from weasyprint import HTML  # imported on first use: pango loads once, when needed

    document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=shipped_fonts_only)
    return document.write_pdf()


def day(value) -> str:
    """A date as дд.мм.гггг, or a line to fill in by hand."""
    return value.strftime("%d.%m.%Y") if value else "______________"


def initials(last: str | None, first: str | None, middle: str | None) -> str:
    """«Емельянова А. А.» for a signature line; empty when there is no surname."""
    if not last:
        return ""
    return " ".join([last, *(f"{part[:1]}." for part in (first, middle) if part)])


def centre_context() -> dict:
    """What every document prints of the centre: the settings row, its requisite lines,
    the director's sex (for «действующего/действующей») and initials for the signature."""
    centre = centre_settings(db.session)
    return {
        "centre": centre,
        "requisites": requisites_lines(centre),
        "director_sex": sex_of(None, centre.director_first_name, centre.director_middle_name),
        "director_short": initials(
            centre.director_last_name, centre.director_first_name, centre.director_middle_name
        ),
    }


def signed_upload_url(**place) -> str | None:
    """Where to attach a signed copy (?case=ID&type=signed_contract or ?consent=ID), for a
    user who may attach documents; None otherwise."""
    if not allowed(current_user.role, "documents", "create"):
        return None
    return url_for("documents.upload", **place)


def printed(
    view,
    template: str,
    file_names: tuple[str, str],
    audited: tuple[str, object],
    style_sheet: Path = STYLE_SHEET,
    **context,
) -> Response | str:
    """The print page, or (at the `.pdf` URL) its PDF: `file_names` is (the Russian file
    name «Договор № 5.pdf», its Latin fallback «contract-5.pdf»), `audited` the (table,
    id) the rendering is recorded under in the audit trail."""
    context = {"d": day, **centre_context(), **context}
    if not wants_pdf():
        return view.render(template, pdf=False, **context)
    file_name, fallback = file_names
    table, row_id = audited
    html = view.render(template, pdf=True, style_sheet=style_sheet.read_text(), **context)
    body = pdf_bytes(html)
    record_event(
        db.session,
        "view",
        table,
        row_id,
        changes={"page": request.endpoint, "pdf": file_name},
    )
    db.session.commit()
    response = Response(body, mimetype=PDF_MIMETYPE)
    response.headers["Content-Disposition"] = content_disposition(file_name, fallback).replace(
        "attachment;", "inline;", 1
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
