"""Is each forked Flask-Admin template the installed upstream file plus only our recorded lines?

A template in admin_views/templates with the same path as one of Flask-Admin's
bootstrap4 templates replaces it. admin_views/templates/FORKS.md names each
fork and records, as a diff against the upstream file, the lines we changed.
Any other difference fails here: after an upgrade of Flask-Admin the failure
shows what upstream changed, to be carried into the fork (or the fork dropped).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import flask_admin
import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / "admin_views" / "templates"
MANIFEST = OURS / "FORKS.md"
UPSTREAM = Path(flask_admin.__file__).resolve().parent / "templates" / "bootstrap4"
# A fork's section: its path as a heading, then its recorded diff.
SECTION = re.compile(r"^## (?P<path>\S+)\n.*?^```diff\n(?P<diff>.*?)^```$", re.M | re.S)


def recorded() -> dict[str, list[str]]:
    """{fork path: its recorded diff lines} from FORKS.md."""
    text = MANIFEST.read_text(encoding="utf-8")
    return {m["path"]: m["diff"].splitlines() for m in SECTION.finditer(text)}


def forks() -> list[str]:
    """Our templates that replace an upstream one (the same path under bootstrap4/)."""
    return sorted(
        path.relative_to(OURS).as_posix()
        for path in OURS.rglob("*.html")
        if (UPSTREAM / path.relative_to(OURS)).is_file()
    )


def changes(path: str) -> list[str]:
    """The fork's difference from the installed upstream file: hunks without context."""
    upstream = (UPSTREAM / path).read_text(encoding="utf-8").splitlines()
    fork = (OURS / path).read_text(encoding="utf-8").splitlines()
    return list(difflib.unified_diff(upstream, fork, n=0, lineterm=""))[2:]  # no ---/+++


def test_every_fork_is_recorded():
    """Does FORKS.md name exactly the templates that replace an upstream one?"""
    assert forks(), f"no forks found: is {UPSTREAM} Flask-Admin's template folder?"
    assert sorted(recorded()) == forks()


@pytest.mark.parametrize("path", forks())
def test_fork_differs_from_upstream_only_by_the_recorded_lines(path):
    """Is the fork the installed upstream file with only the recorded changes?"""
    actual = changes(path)
    expected = recorded().get(path)
    assert actual == expected, (
        f"admin_views/templates/{path} differs from Flask-Admin {flask_admin.__version__}'s "
        f"bootstrap4/{path} by other lines than FORKS.md records. Its difference now:\n\n"
        "```diff\n" + "\n".join(actual) + "\n```"
    )
