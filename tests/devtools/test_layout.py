"""devtools stands on its own: it imports nothing from tests, and every tool is a package."""

from __future__ import annotations

import ast

from devtools import REPO

DEVTOOLS = REPO / "devtools"


def _imported(path: str) -> set[str]:
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


def test_devtools_imports_nothing_from_tests() -> None:
    sources = [str(p.relative_to(REPO)) for p in DEVTOOLS.rglob("*.py")]
    assert sources
    offenders = {s: m for s in sources for m in _imported(s) if m == "tests" or m.startswith("tests.")}
    assert not offenders, offenders


def test_devtools_holds_packages_only() -> None:
    flat = [p.name for p in DEVTOOLS.glob("*.py") if p.name != "__init__.py"]
    assert flat == []
    assert all(
        (d / "__init__.py").exists() for d in DEVTOOLS.iterdir() if d.is_dir() and d.name != "__pycache__"
    )
