"""What may import what: the shared core at the bottom, stages beside each other, wiring on top.

Read from the source itself (every ``import``, lazy ones inside functions too),
so a new cross-import fails here before it becomes a habit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"orion", "orionctl", "producers", "stream_processors", "sinks"}
ALLOWED = {
    "orion": {"orion"},
    "producers": {"orion", "producers"},
    "stream_processors": {"orion", "stream_processors"},
    "sinks": {"orion", "sinks"},
    "orionctl": OURS,
}


def imported_packages(path: Path) -> set[str]:
    """Our top-level packages that ``path`` imports anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {n.split(".")[0] for n in names} & OURS
    return found


def test_the_scan_sees_imports() -> None:
    assert imported_packages(ROOT / "orionctl" / "cli" / "process.py") >= {
        "orion",
        "stream_processors",
    }


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_what_its_floor_allows(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules under {package}/"
    wrong = {
        str(m.relative_to(ROOT)): sorted(bad)
        for m in modules
        if (bad := imported_packages(m) - ALLOWED[package])
    }
    assert wrong == {}, f"{package} may import only {sorted(ALLOWED[package])}"
