"""Test modules share helpers through tests/support/, never by importing another test module
(which runs that module's imports and fixtures, and ties two files' tests together).

This walks tests/*.py and tests/support/ (tests/connectors/, the connectors' own suite, keeps
its own shape for now). ALLOWED below is empty and stays so: a helper two test modules need
goes into a module of tests/support/ (a fixture registered by tests/conftest.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent

# (importer, imported test module) pairs allowed: none. Share a helper through tests/support/.
ALLOWED: set[tuple[str, str]] = set()


def is_test_module(name: str) -> bool:
    return name.rsplit(".", 1)[-1].startswith("test_")


def imported_test_modules(path: Path) -> set[str]:
    """The test modules `path` imports (`from tests.test_x import ...`, `import tests.test_x`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n.startswith("tests.") and is_test_module(n)}
    return found


def edges() -> set[tuple[str, str]]:
    found = set()
    for path in sorted([*TESTS.glob("*.py"), *(TESTS / "support").glob("*.py")]):
        module = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
        for imported in imported_test_modules(path):
            found.add((module, imported))
    return found


def test_no_test_module_imports_another() -> None:
    found = edges()
    new = sorted(found - ALLOWED)
    assert not new, f"test modules importing other test modules (use tests/support/): {new}"
    gone = sorted(ALLOWED - found)
    assert not gone, f"allowed imports that no longer exist (remove them from ALLOWED): {gone}"


def test_the_walk_finds_both_forms(tmp_path: Path) -> None:
    path = tmp_path / "test_a.py"
    path.write_text(
        "from tests.test_b import x\nimport tests.test_c\nfrom tests.support import y\n"
    )
    assert imported_test_modules(path) == {"tests.test_b", "tests.test_c"}
