"""Fixtures for the end-to-end tests: the session app served on a real port and
Debian's headless Chromium driven by Playwright's sync API.

Every page is watched: a console error (a CSP violation is one) or an uncaught
script error fails the test that caused it. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

# One folder per database: CI runs the SQLite and the PostgreSQL suites side by side.
ARTIFACTS = (
    Path(__file__).resolve().parent
    / "artifacts"
    / ("postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgresql") else "sqlite")
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=ru-RU",  # date inputs show дд.мм.гггг, as in the clerks' browsers
]
# One generous limit for every wait (an action, a navigation, an expectation): on a
# loaded 2-core CI machine a page can take seconds, and a wait ends as soon as its
# condition holds, so a long limit costs nothing when all is well.
TIMEOUT_MS = 30_000
NONCE = re.compile(r"'nonce-[^']*'")


def pytest_collection_modifyitems(items):
    """Every test in this folder is an e2e test."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _unavailable(reason: str):
    """Skip where Chromium is missing, but never silently in CI."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"e2e tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(app):
    """The session app on 127.0.0.1 on a free port, served from a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


# One browser for the end-to-end tests, closed after the last of them (this package), not
# at the end of the whole session: an idle headless Chromium kept a third of a core busy
# while the other 1,500 tests ran.
@pytest.fixture(scope="package")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    executable = shutil.which("chromium")
    if not executable:
        _unavailable("Debian's Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)  # its own default is 5 s
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        yield browser
        browser.close()


class ConsoleWatch:
    """Console errors and uncaught exceptions seen by one page."""

    def __init__(self):
        self.errors: list[str] = []

    def on_console(self, message):
        if message.type == "error":
            text = NONCE.sub("'nonce-…'", message.text).split(" Either the ")[0]
            where = (message.location or {}).get("url", "").split("?")[0]
            entry = f"{text} (at {where})"
            if entry not in self.errors:
                self.errors.append(entry)

    def on_page_error(self, error):
        self.errors.append(f"uncaught script error: {error}")


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context in Russian; fails the test on any console error."""
    from playwright.sync_api import Error as PlaywrightError

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=live_server, locale="ru-RU", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = ConsoleWatch()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    try:
        yield page
    finally:
        outcome = getattr(request.node, "rep_call", None)
        if outcome is not None and outcome.failed:
            with contextlib.suppress(PlaywrightError):  # the picture is only a diagnosis
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"))
        context.close()
    if watch.errors:
        pytest.fail("browser console errors:\n" + "\n".join(watch.errors), pytrace=False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so `page` can screenshot a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def screenshot():
    """screenshot(page, name) saves a full-page PNG to tests/e2e/artifacts/<name>.png."""

    def _shot(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_load_state("load")
        page.evaluate("document.fonts.ready.then(() => true)")  # icons are a web font
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
