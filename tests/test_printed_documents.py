"""The printed documents: the contract, the consent, the act at issue and at return, the
referral letter and the ИПСС — each an A4 print page and a PDF rendered on the server
(WeasyPrint, fonts shipped and embedded), read back with poppler: one or two A4 pages,
the expected words, names declined; the PDF routes keep the page's scope (404) and are
audited. Also the centre's settings page (Russian validation) and the signed copies.

Set OPORA_KEEP_PRINTS=<dir> to keep the PDFs and their PNG pages for a look.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import factories as f
import pytest
from conftest import csrf_token, make_user, signed_in
from sqlalchemy import select

from admin_views.printing import RefusedFetch, shipped_fonts_only
from models import AuditRecord, CentreSettings, Document, Family, Person, RentalEvent, db
from models.requisites import inn_problem, ogrn_problem
from workflows.centre import centre_settings

POPPLER = all(shutil.which(tool) for tool in ("pdftoppm", "pdfinfo", "pdftotext", "pdffonts"))
needs_poppler = pytest.mark.skipif(
    not POPPLER and not os.environ.get("CI"), reason="poppler-utils is not installed"
)
A4_POINTS = (595.28, 841.89)
DESK = {"act", "return act"}  # the rental desk's documents: the clerk prints them
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF_SCAN = b"%PDF-1.4\n% a signed scan\n%%EOF\n"


@pytest.fixture
def world(app):
    """A centre with its requisites and director; district A with its worker, district B
    with another; the family of Емельянова Алёна Алексеевна (passport, SNILS) with a son;
    a case with its contract and an ИПСС, a consent, a loan issued and returned, a
    referral to a school."""
    with app.app_context():
        row = centre_settings(db.session)
        row.full_name = "Государственное бюджетное учреждение «Комплексный центр социального обслуживания населения Новгородского района»"
        row.short_name = "ГБУ «КЦСОН Новгородского района»"
        row.address = "173000, Великий Новгород, ул. Большая Московская, д. 10"
        row.inn, row.kpp, row.ogrn = "5321047553", "532101001", "1025300786610"
        row.phone = "8 (8162) 77-00-00"
        row.director_last_name = "Константинова"
        row.director_first_name = "Ирина"
        row.director_middle_name = "Петровна"
        row.director_position = "директор"
        row.basis = "Устава"
        db.session.commit()
        area, other = f.district(), f.district()
        worker = make_user("district_worker", "worker_a", districts=[area.id])
        make_user("district_worker", "worker_b", districts=[other.id])
        make_user("coordinator", "boss")
        make_user("admin", "root")
        clerk = make_user(
            "rental_clerk", "clerk", last_name="Петров", first_name="Олег", middle_name="Иванович"
        )
        fam = f.family(
            district_row=area,
            surname="Емельяновы",
            address="Великий Новгород, ул. Ломоносова, д. 5, кв. 12",
        )
        mother = f.person(
            fam,
            "mother",
            last_name="Емельянова",
            first_name="Алёна",
            middle_name="Алексеевна",
            passport="49 12 345678",
            passport_issued="УМВД России по Новгородской области 12.03.2012",
        )
        child = f.person(
            fam, "child", last_name="Емельянов", first_name="Павел", middle_name="Сергеевич"
        )
        consent = f.consent(fam, mother, notifications=True)
        case = f.case(
            db.session.get(Family, fam.id),
            db.session.get(Person, mother.id),
            lead_worker_id=worker.staff_id,
            contract_number="СС-7/2026",
        )
        plan = f.support_plan(case, goal="Социальная адаптация ребёнка")
        f.plan_activity(plan)
        unit = f.equipment_unit(inventory_number="ТСР-00077", size="38 см")
        loan = f.loan(
            unit,
            fam,
            child,
            issued_by_id=clerk.staff_id,
            returned_on=dt.date(2025, 4, 20),
            condition_on_return="fair",
        )
        db.session.add(  # as the desk's return records it (workflows/rental.py)
            RentalEvent(
                kind="returned",
                occurred_on=loan.returned_on,
                unit_id=unit.id,
                loan_id=loan.id,
                family_id=fam.id,
                staff_id=clerk.staff_id,
            )
        )
        referral = f.referral(case, f.partner(name="Школа № 3", kind="school"))
        db.session.commit()
        return {
            "case": case.id,
            "consent": consent.id,
            "loan": loan.id,
            "referral": referral.id,
            "family": fam.id,
        }


def documents(w) -> dict[str, tuple[str, str, int, list[str]]]:
    """name → (page URL, its PDF URL, the most pages, words the PDF must hold)."""
    centre = ["ГБУ «КЦСОН Новгородского района»"]
    return {
        "contract": (
            f"/case_flow/{w['case']}/contract",
            f"/case_flow/{w['case']}/contract.pdf",
            2,
            [
                "ДОГОВОР № СС-7/2026",
                "в лице директора Константиновой Ирины Петровны, действующей на основании Устава",
                "ИНН 5321047553",
                "ОГРН 1025300786610",
                "Емельянова Алёна Алексеевна",
                "Емельянова Павла Сергеевича",
                "семьи Емельяновых",
                "49 12 345678",
                "бесплатно",
                "не более шести месяцев",
                "в двух экземплярах",
                "Приложение № 1",
                "Константинова И. П.",
                "Емельянова А. А.",
            ],
        ),
        "consent": (
            f"/consent/print/{w['consent']}/",
            f"/consent/print/{w['consent']}.pdf",
            2,
            [
                "СОГЛАСИЕ",
                "Емельянова Алёна Алексеевна",
                "паспорт 49 12 345678",
                "УМВД России по Новгородской области",
                "Емельянова Павла Сергеевича",
                "ул. Большая Московская",
                "Цель обработки",
                "Перечень персональных данных",
                "Действия с персональными данными",
                "Срок действия и отзыв",
                "152-ФЗ",
            ],
        ),
        "act": (
            f"/rental_desk/loan/{w['loan']}/act/",
            f"/rental_desk/loan/{w['loan']}/act.pdf",
            1,
            [
                *centre,
                f"АКТ ПРИЁМА-ПЕРЕДАЧИ № {w['loan']}",
                "в лице сотрудника пункта проката Петрова Олега Ивановича",
                "в лице Емельяновой Алёны Алексеевны",
                "для ребёнка Емельянова Павла Сергеевича",
                "ТСР-00077",
                "Плата за пользование не взимается",
            ],
        ),
        "return act": (
            f"/rental_desk/loan/{w['loan']}/return-act/",
            f"/rental_desk/loan/{w['loan']}/return-act.pdf",
            1,
            [
                *centre,
                "при возврате",
                "в лице Емельяновой Алёны Алексеевны (мать) передаёт",
                "в лице сотрудника пункта проката Петрова Олега Ивановича принимает",
                "выданное семье Емельяновым",
                "Дата возврата 20.04.2025",
                "Состояние при возврате",
            ],
        ),
        "ipss": (
            f"/ipss/{w['case']}/print",
            f"/ipss/{w['case']}/print.pdf",
            2,
            [
                "Комплексный центр социального обслуживания населения Новгородского района",
                "Индивидуальная программа социального сопровождения",
                "Социальная адаптация ребёнка",
                "Емельянов Павел Сергеевич",
            ],
        ),
        "referral letter": (
            f"/referrals/{w['referral']}/print",
            f"/referrals/{w['referral']}/print.pdf",
            1,
            [
                *centre,
                "ИНН 5321047553",
                "Школа № 3",
                "семьи Емельяновых",
                "Константинова И. П.",
            ],
        ),
    }


def words_of(pdf: Path) -> str:
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout
    return " ".join(text.decode().split())


def pages_of(pdf: Path) -> tuple[int, tuple[float, float]]:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True).stdout.decode()
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    return pages, (float(size.group(1)), float(size.group(2)))


@needs_poppler
def test_each_document_is_an_a4_pdf_with_its_words_and_names_declined(app, world, tmp_path):
    """Is each printed document a PDF of one or two A4 pages, its fonts embedded, holding
    the centre's requisites and the names in their cases; do its pages turn into PNGs;
    and does the print page link to it?"""
    keep = os.environ.get("OPORA_KEEP_PRINTS")
    clients = {}
    for name, (page_url, pdf_url, most_pages, expected) in documents(world).items():
        who = "clerk" if name in DESK else "boss"
        client = clients.get(who) or clients.setdefault(who, signed_in(app, who))
        page = client.get(page_url)
        assert page.status_code == 200, (name, page.status_code)
        assert 'id="pdf"' in page.get_data(as_text=True), name
        answer = client.get(pdf_url)
        assert answer.status_code == 200, (name, answer.get_data(as_text=True)[:500])
        assert answer.mimetype == "application/pdf"
        disposition = answer.headers["Content-Disposition"]
        assert disposition.startswith("inline;") and "filename*=UTF-8''" in disposition, name
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(answer.data)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(pdf, Path(keep) / pdf.name)
        pages, size = pages_of(pdf)
        assert 1 <= pages <= most_pages, (name, pages)
        assert size == pytest.approx(A4_POINTS, abs=1), (name, size)
        fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True).stdout
        font_lines = fonts.decode().splitlines()[2:]
        assert font_lines and all(" yes " in line for line in font_lines), (name, fonts)
        assert all("DejaVu-Serif" in line for line in font_lines), (name, fonts)
        text = words_of(pdf)
        for words in expected:
            assert words in text, (name, words, text)
        stem = tmp_path / name.replace(" ", "-")
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(stem)], check=True)
        pngs = sorted(tmp_path.glob(f"{stem.name}-*.png"))
        assert len(pngs) == pages and all(p.read_bytes()[:8] == PNG[:8] for p in pngs)
        if keep:
            for png in pngs:
                shutil.copy(png, Path(keep) / png.name)


def test_a_pdf_route_is_404_out_of_scope_and_its_rendering_is_audited(app, world):
    """Does another district's worker get 404 for each PDF (as for its page), while the
    family's worker gets it and the audit trail records who rendered what?"""
    stranger = signed_in(app, "worker_b")
    for name, (page_url, pdf_url, _pages, _words) in documents(world).items():
        if name in DESK:
            continue  # the desk: the rental clerk's; tested below
        assert stranger.get(page_url).status_code == 404, name
        assert stranger.get(pdf_url).status_code == 404, name
    own = signed_in(app, "worker_a")
    assert own.get(f"/case_flow/{world['case']}/contract.pdf").status_code == 200
    with app.app_context():
        records = db.session.scalars(
            select(AuditRecord).where(
                AuditRecord.table_name == "support_case", AuditRecord.username == "worker_a"
            )
        ).all()
        assert any((r.changes or {}).get("pdf") == "Договор № СС-7/2026.pdf" for r in records)


def test_the_act_pdfs_keep_the_desks_scope(app, world):
    """Is a loan's act (at issue and at return) 404 for a clerk-less stranger's district
    worker, and the return act 404 while the unit is still out?"""
    stranger = signed_in(app, "worker_b")
    for url in (
        f"/rental_desk/loan/{world['loan']}/act.pdf",
        f"/rental_desk/loan/{world['loan']}/return-act.pdf",
    ):
        assert stranger.get(url).status_code == 404, url
    with app.app_context():
        fam = db.session.get(Family, world["family"])
        child = db.session.scalar(
            select(Person).where(Person.family_id == fam.id, Person.relation == "child")
        )
        open_loan = f.loan(f.equipment_unit(), fam, child)
        db.session.commit()
        open_id = open_loan.id
    clerk = signed_in(app, "clerk")
    assert clerk.get(f"/rental_desk/loan/{open_id}/return-act/").status_code == 404
    assert clerk.get(f"/rental_desk/loan/{open_id}/act/").status_code == 200
    loan_page = clerk.get(f"/rental_desk/loan/{world['loan']}/").get_data(as_text=True)
    assert 'id="print-return-act"' in loan_page and 'id="return-act-pdf"' in loan_page


def test_the_renderer_reads_only_the_shipped_fonts():
    """Does the PDF renderer refuse the network and any file but the shipped fonts?"""
    for url in ("https://example.org/x.css", "http://127.0.0.1/x.png", "file:///etc/passwd"):
        with pytest.raises(RefusedFetch):
            shipped_fonts_only(url)
    fonts = Path(__file__).resolve().parent.parent / "static" / "fonts"
    fetched = shipped_fonts_only((fonts / "DejaVuSerif.ttf").as_uri())
    fetched["file_obj"].close()


def test_the_signed_contract_and_consent_are_attached_back(app, world):
    """Does a signed scan uploaded from the contract (type «договор подписанный») and from
    the consent («согласие подписанное», naming the consent) show on the contract, the
    consent and the case page as «подписанный экземпляр загружен»?"""
    worker = signed_in(app, "worker_a")
    case_id, consent_id = world["case"], world["consent"]
    contract = worker.get(f"/case_flow/{case_id}/contract").get_data(as_text=True)
    assert "Подписанный экземпляр не загружен" in contract and 'id="upload-signed"' in contract
    url = f"/documents/upload/?case={case_id}&type=signed_contract"
    form = worker.get(url).get_data(as_text=True)
    assert re.search(r'<option selected value="signed_contract">', form)
    answer = worker.post(
        url,
        data={
            "csrf_token": csrf_token(worker, url),
            "doc_type": "signed_contract",
            "doc_date": "2025-01-31",
            "person": "",
            "file": (io.BytesIO(PDF_SCAN), "договор.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[-800:]
    for page_url in (f"/case_flow/{case_id}/contract", f"/case/details/?id={case_id}"):
        page = worker.get(page_url).get_data(as_text=True)
        assert "Подписанный экземпляр загружен" in page, page_url

    url = f"/documents/upload/?consent={consent_id}"
    answer = worker.post(
        url,
        data={
            "csrf_token": csrf_token(worker, url),
            "doc_type": "signed_consent",
            "doc_date": "2025-01-15",
            "person": "",
            "file": (io.BytesIO(PNG), "согласие.png"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[-800:]
    assert answer.headers["Location"].endswith(f"/consent/details/?id={consent_id}")
    for page_url in (f"/consent/print/{consent_id}/", f"/consent/details/?id={consent_id}"):
        page = worker.get(page_url).get_data(as_text=True)
        assert "Подписанный экземпляр загружен" in page and "согласие.png" in page, page_url
    with app.app_context():
        scan = db.session.scalar(select(Document).where(Document.consent_id == consent_id))
        assert scan.doc_type == "signed_consent" and scan.family_id == world["family"]
    stranger = signed_in(app, "worker_b")
    assert stranger.get(f"/documents/upload/?consent={consent_id}").status_code == 404


# --- the settings page -------------------------------------------------------------------


def test_requisites_are_checked_by_their_control_digits():
    """Are a good ИНН and ОГРН taken, and a wrong length or control digit named in Russian?"""
    assert inn_problem("5321047553") is None and ogrn_problem("1025300786610") is None
    assert "контрольная цифра" in inn_problem("5321047554")
    assert "10 цифр" in inn_problem("53210475")
    assert "контрольная цифра" in ogrn_problem("1025300786611")
    assert "13 цифр" in ogrn_problem("10253007866")


def settings_form(client) -> dict:
    page = client.get("/centre_settings/edit/?id=1").get_data(as_text=True)
    assert 'name="full_name"' in page
    with client.application.app_context():
        row = db.session.get(CentreSettings, 1)
        return {
            "csrf_token": csrf_token(client, "/centre_settings/edit/?id=1"),
            "seen_version": str(row.version),
            "full_name": row.full_name,
            "short_name": row.short_name or "",
            "address": row.address or "",
            "inn": row.inn or "",
            "kpp": row.kpp or "",
            "ogrn": row.ogrn or "",
            "director_position": row.director_position,
            "basis": row.basis,
            "director_last_name": row.director_last_name or "",
            "director_first_name": row.director_first_name or "",
            "director_middle_name": row.director_middle_name or "",
            "opens_at": f"{row.opens_at:%H:%M}",
            "closes_at": f"{row.closes_at:%H:%M}",
            "lunch_starts_at": f"{row.lunch_starts_at:%H:%M}" if row.lunch_starts_at else "",
            "lunch_ends_at": f"{row.lunch_ends_at:%H:%M}" if row.lunch_ends_at else "",
        }


def test_the_admin_keeps_the_settings_with_russian_messages_by_the_field(app, world):
    """Does the administrator's «Реквизиты центра» open the one row's form, refuse a bad
    ИНН and a lunch outside the day next to their fields (nothing saved), save good values
    with an audit line, and is it closed to everyone else?"""
    root = signed_in(app, "root")
    listed = root.get("/centre_settings/").get_data(as_text=True)
    assert "/centre_settings/edit/?id=1" in listed and "5321047553" in listed
    data = settings_form(root)
    bad = root.post("/centre_settings/edit/?id=1", data={**data, "inn": "5321047554"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "Неверный ИНН: не сходится контрольная цифра." in page
    lunch = root.post(
        "/centre_settings/edit/?id=1",
        data={**data, "lunch_starts_at": "19:00", "lunch_ends_at": "19:30"},
    )
    assert "Обеденный перерыв должен лежать внутри рабочего дня." in lunch.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CentreSettings, 1).inn == "5321047553"
    good = root.post(
        "/centre_settings/edit/?id=1",
        data={**data, "ogrn": "1025300786610", "basis": "Положения", "opens_at": "08:30"},
    )
    assert good.status_code == 302, good.get_data(as_text=True)[-1500:]
    with app.app_context():
        row = db.session.get(CentreSettings, 1)
        assert row.basis == "Положения" and row.opens_at == dt.time(8, 30)
        audit = db.session.scalars(
            select(AuditRecord).where(AuditRecord.table_name == "centre_settings")
        ).all()
        assert any("basis" in (r.changes or {}) for r in audit)
    boss = signed_in(app, "boss")
    assert boss.get("/centre_settings/edit/?id=1").status_code == 403
    contract = boss.get(f"/case_flow/{world['case']}/contract").get_data(as_text=True)
    assert "действующей на основании Положения" in " ".join(contract.split())


def test_the_first_reading_takes_the_environment(app, monkeypatch):
    """Is the settings row, when it does not exist yet, made from OPORA_CENTRE_*?"""
    monkeypatch.setitem(app.config, "CENTRE_NAME", "ГБУ «КЦСОН Тестового района»")
    monkeypatch.setitem(app.config, "CENTRE_HEAD", "Емельянова Алёна Алексеевна")
    with app.app_context():
        row = centre_settings(db.session)
        assert row.full_name == "ГБУ «КЦСОН Тестового района»"
        assert row.director_last_name == "Емельянова" and row.director_middle_name == "Алексеевна"
        assert (row.opens_at, row.lunch_starts_at) == (dt.time(9, 0), dt.time(13, 0))


def test_a_documents_link_opens_its_print_page_and_its_pdf_is_beside_it(app):
    """Does url_for of every printed document give its print page (the links on the case,
    the loan, the consent), the PDF being the same address with `.pdf` — not the PDF
    itself, which a browser would open in its viewer instead of the page?"""
    from flask import url_for

    printed_endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.rule.endswith(".pdf")}
    assert len(printed_endpoints) >= 6
    with app.test_request_context():
        for endpoint in printed_endpoints:
            rule = next(r for r in app.url_map.iter_rules(endpoint) if r.rule.endswith(".pdf"))
            url = url_for(endpoint, **dict.fromkeys(rule.arguments, 1))
            assert not url.endswith(".pdf"), (endpoint, url)
