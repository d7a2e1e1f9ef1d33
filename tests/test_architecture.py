"""Do the layers import only downwards, and do the project's dependency files agree?

The layers (ARCHITECTURE.md): models ← workflows ← admin_views ← app. A module may
import from its own layer and the layers below it, never from one above; seed/ (demo,
reference and scale data) stands beside the stack and uses models and workflows only;
tests may use anything and nothing imports them. Every module is parsed with `ast`,
so imports inside functions count as much as those at the top.

The dependency files: requirements.txt (what the README installs) and pyproject's
[project] list the same direct dependencies, all pinned; requirements.lock pins every
package they pull in, and both requirements files install through it.
"""

from __future__ import annotations

import ast
import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent

# The top-level packages (and app.py) each layer must not import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "models": frozenset({"workflows", "admin_views", "app", "seed", "tests"}),
    "workflows": frozenset({"admin_views", "app", "seed", "tests"}),
    "admin_views": frozenset({"app", "seed", "tests"}),
    "seed": frozenset({"admin_views", "app", "tests"}),
    "app": frozenset({"tests"}),
}

# Known violations of today's tree, each with why it is still there. An entry that
# no longer matches an import fails `test_allow_list_is_not_stale`, so the list
# empties as the code moves; the integrator removes the rest after the merge.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


def layer_of(path: Path) -> str | None:
    """The layer a source file belongs to (its top-level package, or "app" for app.py)."""
    rel = path.relative_to(ROOT)
    if rel.parts == ("app.py",):
        return "app"
    return rel.parts[0] if rel.parts[0] in FORBIDDEN else None


def module_name(path: Path) -> str:
    """workflows/plans.py → workflows.plans; seed/__init__.py → seed."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the source, at any depth.

    Relative imports are resolved against `module`; `importlib.import_module("x")`
    and `__import__("x")` with a literal name count too.
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from . import demo` names a module, not an attribute.
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def source_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for package in FORBIDDEN:
        if package != "app":
            files.extend(sorted((ROOT / package).rglob("*.py")))
    return files


def violations() -> list[tuple[str, int, str]]:
    """(file, line, imported module) of every import against the layers."""
    found = []
    for path in source_files():
        layer = layer_of(path)
        assert layer is not None, path
        name = module_name(path)
        source = path.read_text(encoding="utf-8")
        for line, target in imported_modules(source, name, path.name == "__init__.py"):
            top = target.split(".")[0]
            if top in FORBIDDEN[layer]:
                found.append((path.relative_to(ROOT).as_posix(), line, target))
    return found


def test_layers_import_only_downwards():
    """Does every module import only from its own layer and those below it?"""
    unexpected = [
        f"{file}:{line} imports {target}"
        for file, line, target in violations()
        if not any(file == f and (target == t or target.startswith(t + ".")) for f, t in ALLOWED)
    ]
    assert not unexpected, (
        "imports against models ← workflows ← admin_views ← app (ARCHITECTURE.md):\n"
        + "\n".join(unexpected)
    )


def test_allow_list_is_not_stale():
    """Is every allowed exception still a real import (else it must leave the list)?"""
    found = {(file, target) for file, _line, target in violations()}
    stale = [entry for entry in sorted(ALLOWED) if entry not in found]
    assert not stale, f"no longer imported, remove from ALLOWED: {stale}"


def test_the_check_sees_every_kind_of_import():
    """Does the parser catch top-level, function-level, relative and dynamic imports?"""
    source = (
        "import admin_views.base\n"
        "from app import create_app\n"
        "from .. import admin_views\n"
        "from ..admin_views.validators import is_valid_snils\n"
        "def f():\n"
        "    from admin_views import permissions\n"
        "    import importlib\n"
        "    return importlib.import_module('seed.demo')\n"
    )
    found = {target for _line, target in imported_modules(source, "workflows.plans", False)}
    assert {
        "admin_views.base",
        "app",
        "admin_views",
        "admin_views.validators",
        "admin_views.permissions",
        "seed.demo",
    } <= found
    relative = imported_modules("from .tasks import create_task\n", "workflows.plans", False)
    assert "workflows.tasks" in {t for _l, t in relative}
    package = imported_modules("from . import demo\n", "seed", True)
    assert "seed.demo" in {t for _l, t in package}


def test_every_layer_is_read():
    """Does the check read the modules of every layer (a moved folder would silence it)?"""
    layers = {layer_of(path) for path in source_files()}
    assert layers == set(FORBIDDEN)
    assert len(source_files()) >= 50


# --- the dependency files ----------------------------------------------------------------


def requirement_lines(name: str) -> tuple[list[str], list[str]]:
    """(requirements, option lines such as -r/-c) of a requirements file."""
    requirements, options = [], []
    for raw in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        (options if line.startswith("-") else requirements).append(line)
    return requirements, options


def normalised(lines: list[str]) -> dict[str, Requirement]:
    reqs = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): r for r in reqs}


def locked() -> dict[str, str]:
    lines, options = requirement_lines("requirements.lock")
    assert not options, "the lock holds pins only"
    pins = {}
    for line in lines:
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", line
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_project_lists_the_requirements():
    """Are pyproject's [project] dependencies exactly requirements.txt, and dev those of -dev?"""
    runtime, runtime_options = requirement_lines("requirements.txt")
    dev, dev_options = requirement_lines("requirements-dev.txt")
    meta = project()
    assert meta["name"] == "opora" and meta["requires-python"] == "==3.11.*"
    assert {k: str(r) for k, r in normalised(runtime).items()} == {
        k: str(r) for k, r in normalised(meta["dependencies"]).items()
    }
    assert {k: str(r) for k, r in normalised(dev).items()} == {
        k: str(r) for k, r in normalised(meta["optional-dependencies"]["dev"]).items()
    }
    assert runtime_options == ["-c requirements.lock"]
    assert "-r requirements.txt" in dev_options  # and so through the lock too


def test_every_requirement_is_pinned_as_locked():
    """Is every direct dependency pinned with == to the version requirements.lock holds?"""
    pins = locked()
    runtime, _ = requirement_lines("requirements.txt")
    dev, _ = requirement_lines("requirements-dev.txt")
    for line in runtime + dev:
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{line}: pin it exactly"
        name = canonicalize_name(req.name)
        assert pins.get(name) == spec.version, (
            f"{line}: requirements.lock has {pins.get(name)}; run `make lock`"
        )


def test_lock_holds_every_transitive_dependency():
    """Does the lock pin every package that a locked package requires (from installed metadata)?"""
    pins = locked()
    runtime, _ = requirement_lines("requirements.txt")
    dev, _ = requirement_lines("requirements-dev.txt")
    extras = {canonicalize_name(r.name): r.extras for r in map(Requirement, runtime + dev)}
    missing = []
    checked = 0
    for name in pins:
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        checked += 1
        for line in requires:
            req = Requirement(line)
            wanted = req.marker is None or any(
                req.marker.evaluate({"extra": extra}) for extra in {"", *extras.get(name, ())}
            )
            if wanted and canonicalize_name(req.name) not in pins:
                missing.append(f"{name} needs {req}")
    if checked == 0:
        pytest.skip("no locked package is installed here")
    assert not missing, "not in requirements.lock (run `make lock`):\n" + "\n".join(missing)
