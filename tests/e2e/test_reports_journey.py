"""The coordinator's morning: the dashboard, a report, two downloads — in Chromium.

The CSP forbids inline scripts; the page fixture fails on any console error,
so the charts and pages are checked against it too. The downloads are real
browser downloads: the Russian file name must arrive intact.
"""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from test_reports import world  # noqa: F401 - the hand-built data set, as a fixture

from workflows.dates import centre_today

from .browser import fill_date, go, sign_in

pytestmark = pytest.mark.e2e


def test_dashboard_report_and_downloads(app, page, screenshot, world, tmp_path):  # noqa: F811
    """Does the coordinator see the dashboard with charts, open a report with parameters,
    and download it and a filtered list with Russian file names?"""
    sign_in(page, "coordinator")
    page.goto("/")
    expect(page.locator(".opora-figure")).to_have_count(7)
    expect(page.locator("svg.opora-chart")).to_have_count(2)
    expect(page.get_by_text("Статистика по участкам")).to_be_visible()
    screenshot(page, "20-dashboard-coordinator")

    go(page, page.get_by_role("link", name="Статистика по участкам"))
    fill_date(page, "#date_to", dt.date(2025, 12, 31))
    go(page, page.get_by_role("button", name="Показать"))
    expect(page.locator("tfoot")).to_contain_text("Итого")
    screenshot(page, "21-report-regional")
    with page.expect_download() as caught:
        page.get_by_role("link", name="Скачать таблицу").click()
    download = caught.value
    today = centre_today().strftime("%d.%m.%Y")
    assert download.suggested_filename == "Статистика по участкам на 31.12.2025.xlsx"
    path = tmp_path / "report.xlsx"
    download.save_as(path)
    assert load_workbook(path).active["A5"].value == "Участок Б"

    page.goto("/family/?search=Б")
    with page.expect_download() as caught:
        page.get_by_role("link", name="Выгрузить таблицу").click()
    assert caught.value.suggested_filename == f"Семьи {today}.xlsx"
    path = tmp_path / "families.xlsx"
    caught.value.save_as(path)
    names = [r[0] for r in load_workbook(path).active.iter_rows(min_row=4, values_only=True)]
    assert sorted(names) == ["Белые", "Борисовы"]


def test_viewer_dashboard(app, page, screenshot, world):  # noqa: F811
    """Does the viewer see the aggregates and the reports, with no links into personal data?"""
    sign_in(page, "viewer")
    page.goto("/")
    expect(page.locator(".opora-figure")).to_have_count(5)
    expect(page.locator(".opora-figure a")).to_have_count(0)
    screenshot(page, "22-dashboard-viewer")
