"""A pytest plugin: keep every log line of a whole run, and fail the run on personal data.

    OPORA_LOG_FILE=/tmp/opora-suite.jsonl python -m pytest -p tests.logscan

With OPORA_LOG_FILE set, every app the suite builds appends its JSON lines to that file
(admin_views/logs.py), and so do the servers the end-to-end tests start (they inherit the
variable). At the end of the run every line must be one JSON object, and none may hold a
SNILS, a query string of a search, or the surnames and streets that the factories and
the demo give people. The file is emptied when the run starts.
"""

from __future__ import annotations

import json
import os
import re

import pytest

LEAKS = {
    "SNILS": re.compile(r"\b\d{3}-\d{3}-\d{3}[ +-]?\d{2}\b"),
    "query string": re.compile(r"[?&](snils|surname|address|search|q)=", re.IGNORECASE),
    # tests/factories.py's family and people, and the demo's town (in every demo address).
    "surname or address": re.compile(r"Смирнов|Ломоносова|Судогд|ул\. "),
}
found: list[str] = []


def log_file() -> str | None:
    return os.environ.get("OPORA_LOG_FILE") or None


def scan(path: str) -> list[str]:
    """What is wrong with the lines of `path`: one description a line at fault."""
    problems = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError:
                problems.append(f"line {number} is not JSON: {line[:120]!r}")
                continue
            for what, pattern in LEAKS.items():
                if pattern.search(line):
                    problems.append(f"line {number} carries a {what}: {line[:300].rstrip()}")
    return problems


def pytest_configure(config) -> None:
    path = log_file()
    if path:
        with open(path, "w"):
            pass  # emptied: the lines of this run only


def pytest_sessionfinish(session, exitstatus) -> None:
    path = log_file()
    if not path or not os.path.exists(path):
        return
    found.extend(scan(path))
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    path = log_file()
    if not path:
        return
    if not found:
        terminalreporter.write_line(f"log scan: {path} holds no personal data")
        return
    terminalreporter.section("personal data in the logs", red=True)
    for problem in found[:50]:
        terminalreporter.write_line(problem)
    terminalreporter.write_line(f"{len(found)} lines at fault in {path}")
