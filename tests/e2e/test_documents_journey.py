"""The family's file as a district worker sees it: attach a scan on the family's page, see the
case's package fill, open the file — in headless Chromium, real clicks and a real file."""

from __future__ import annotations

import factories as f
import pytest
from conftest import make_user
from playwright.sync_api import expect

from models import db

from .browser import english_on_screen, go, sign_in

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 2000 + b"\n%%EOF\n"


def test_worker_attaches_a_passport_and_the_package_shows_it(app, page, screenshot, tmp_path):
    with app.app_context():
        district = f.district(name="Северный")
        family, mother, _child = f.family_with_members(district_row=district, surname="Орловы")
        case = f.case(family, mother)
        f.required_document(doc_type="passport", blocks_contract=True)
        f.required_document(doc_type="snils")
        make_user("district_worker", "docs_worker", districts=[district.id])
        db.session.commit()
        family_id, case_id = family.id, case.id
    scan = tmp_path / "Паспорт матери"  # no Latin extension: the type is read from the bytes
    scan.write_bytes(PDF)

    sign_in(page, "docs_worker")
    page.goto(f"/family/details/?id={family_id}")
    form = page.locator("#document-upload")
    form.locator("select[name=doc_type]").select_option("passport")
    form.locator("select[name=person]").select_option(label="Смирнова Елена Викторовна")
    form.locator("input[name=file]").set_input_files(str(scan))
    go(page, page.locator("#document-upload-submit"))
    expect(page.locator(".alert-success")).to_contain_text("Документ приложен")
    row = page.locator("#documents-table tbody tr").first
    expect(row).to_contain_text("паспорт")
    expect(row).to_contain_text("ПДФ")
    expect(row).to_contain_text("Смирнова Елена")
    screenshot(page, "documents-01-family")
    problems = english_on_screen(page, "family page with a document")

    page.goto(f"/case/details/?id={case_id}")
    expect(page.locator("#package-checklist")).to_contain_text("есть 1 из 2")
    expect(page.locator('.package-item[data-type="passport"]')).to_contain_text("есть")
    expect(page.locator('.package-item[data-type="snils"]')).to_contain_text("нет")
    screenshot(page, "documents-02-case-package")
    problems += english_on_screen(page, "case page with the package")

    # The link's file, fetched with the page's session (a PDF tab of its own would ask for
    # a favicon the panel does not have).
    href = page.locator("a.document-file").first.get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200 and response.body() == PDF
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "application/pdf"
    assert not problems, problems
