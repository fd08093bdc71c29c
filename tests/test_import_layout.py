"""The layout rules of server/, read from the source (ast; nothing is imported or run).

Faces (the configuration API, later the public API, UI and CLI) -> core -> store, jobs, runner,
sync. A lower layer never imports a higher one or a face: the store never imports the runner,
the relay and the runner never import API models, the core never imports a face. And no module
imports itself back through others (an import loop).

An edge that breaks a rule today and is being moved away goes into ALLOWED below, with why and
who removes it; the test fails on any edge that is not there, and on an allowed edge that no
longer exists (so the list only shrinks, and says what is left).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.imports import Import, find_cycles, server_imports

ROOT = Path(__file__).resolve().parents[1]

# (importer, imported, why): a module under the first name never imports one under the second.
RULES: list[tuple[str, str, str]] = [
    ("server.store", "server.runner", "the store never imports the runner"),
    ("server.store", "server.api", "the store never imports a face"),
    ("server.store", "server.app", "the store never imports a face"),
    ("server.store", "server.edge", "the store never imports a face"),
    ("server.store", "server.rpc", "the store never imports a face"),
    ("server.store", "server.context", "the store takes a Database, not a request context"),
    ("server.store", "server.core", "the core calls the store, not the other way round"),
    ("server.store", "server.errors", "the store raises the core's errors, not a face's"),
    ("server.store", "server.sync", "the store never imports the relay"),
    ("server.store", "server.jobs", "the job engine calls the store, not the other way round"),
    ("server.store", "server.worker", "the job engine calls the store, not the other way round"),
    ("server.store", "server.auth.middleware", "the store never imports the edge's middleware"),
    ("server.runner", "server.api", "the runner never imports a face"),
    ("server.runner", "server.models", "the runner never imports API models"),
    ("server.sync", "server.api", "the relay never imports a face"),
    ("server.sync", "server.models", "the relay never imports API models"),
    ("server.core", "server.api", "the core never imports a face"),
    ("server.core", "server.public", "the core never imports a face"),
    ("server.store", "server.public", "the store never imports a face"),
    ("server.sync", "server.public", "the relay never imports a face"),
    ("server.runner", "server.public", "the runner never imports a face"),
    ("server.api", "server.store", "a face calls the core, never the store"),
    ("server.public", "server.store", "a face calls the core, never the store"),
    ("server.api", "server.public", "one face never imports another"),
    ("server.public", "server.api", "one face never imports another"),
    ("server.ui", "server.store", "a face calls the core, never the store"),
    ("server.ui", "server.api", "one face never imports another"),
    ("server.ui", "server.public", "one face never imports another"),
    ("server.api", "server.ui", "one face never imports another"),
    ("server.public", "server.ui", "one face never imports another"),
    ("server.core", "server.ui", "the core never imports a face"),
    ("server.store", "server.ui", "the store never imports a face"),
    ("server.remote", "server.core", "the remote commands are a client of the HTTP API"),
    ("server.remote", "server.store", "the remote commands are a client of the HTTP API"),
    ("server.remote", "server.api", "the remote commands are a client of the HTTP API"),
    ("server.remote", "server.public", "the remote commands are a client of the HTTP API"),
]

# Leaf modules of shared domain types: any layer may import them, and they import nothing of
# server/ but the protocol and other leaves (nor does their package's __init__, which runs
# first), so importing one pulls in no layer.
LEAVES = ("server.jobs.attempts", "server.core.errors")
LEAF_MAY_IMPORT = ("server.protocol", *LEAVES)

# A store function may take and return the stored objects, never a request's model.
REQUEST_MODEL = re.compile(r"(Create|Update|Recreate|Patch|RequestBody|Request)$")

# Edges that break a rule today, each removed by the change that moves it (then delete it
# here: the test fails on an allowed edge that is gone). Keyed (importer, imported module).
ALLOWED: dict[tuple[str, str], str] = {
    # images.connector_image takes a definition's API model (SourceDefinitionRead,
    # DestinationDefinitionRead, ResourceRequirements): until the core hands the runner a
    # typed definition of its own.
}

# Import loops that exist today, each a set of modules (the loop's members), with why.
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@dataclass(frozen=True)
class Breach:
    edge: Import
    why: str

    def __str__(self) -> str:
        e = self.edge
        return f"{e.importer} -> {e.imported} ({e.path}:{e.line}): {self.why}"


def breaches(edges: list[Import]) -> Iterator[Breach]:
    for edge in edges:
        if any(under(edge.importer, leaf) for leaf in LEAVES):
            if not any(under(edge.imported, ok) for ok in LEAF_MAY_IMPORT):
                yield Breach(edge, "a leaf module imports only the protocol and other leaves")
            continue
        if edge.imported in LEAVES:
            continue
        for importer, imported, why in RULES:
            if under(edge.importer, importer) and under(edge.imported, imported):
                yield Breach(edge, why)
        if under(edge.importer, "server.store") and under(edge.imported, "server.models"):
            for name in edge.names:
                if REQUEST_MODEL.search(name):
                    yield Breach(edge, f"the store never takes a request's model ({name})")


def test_no_forbidden_import() -> None:
    edges = server_imports(ROOT)
    found = list(breaches(edges))
    new = [str(b) for b in found if (b.edge.importer, b.edge.imported) not in ALLOWED]
    assert not new, "forbidden imports:\n" + "\n".join(new)
    gone = set(ALLOWED) - {(b.edge.importer, b.edge.imported) for b in found}
    assert not gone, f"allowed edges that no longer exist (remove them from ALLOWED): {gone}"


def test_leaf_packages_import_nothing_at_their_top() -> None:
    """Importing a leaf runs its package's __init__ first: that must pull in no layer."""
    edges = server_imports(ROOT)
    for leaf in LEAVES:
        package = leaf.rpartition(".")[0]
        assert not [e for e in edges if e.importer == package and not e.type_only], package


def test_no_import_loop() -> None:
    cycles = {frozenset(c) for c in find_cycles(server_imports(ROOT))}
    new = [sorted(c) for c in cycles if c not in ALLOWED_CYCLES]
    assert not new, f"import loops: {new}"
    gone = set(ALLOWED_CYCLES) - cycles
    assert not gone, f"allowed loops that no longer exist (remove them): {gone}"


# --- the checker checks: a loop and each kind of forbidden edge are found ------------------


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_walk_finds_forbidden_edges_in_every_import_form(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "server/__init__.py": "",
            "server/store/__init__.py": "",
            "server/runner/__init__.py": "",
            "server/runner/base.py": "",
            "server/models/__init__.py": "",
            "server/models/sources.py": "",
            "server/store/a.py": "from server.runner.base import X\n",
            "server/store/b.py": "import server.runner.base\n",
            "server/store/c.py": "def f():\n    from ..runner import base\n",
            "server/store/d.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from server.runner import base\n"
            ),
            "server/store/e.py": "from server.models.sources import SourceRead, SourceCreate\n",
            "server/store/ok.py": "from server.store import a\nimport msgspec\n",
        },
    )
    edges = server_imports(tmp_path)
    found = sorted((b.edge.importer, b.edge.imported) for b in breaches(edges))
    assert found == [
        ("server.store.a", "server.runner.base"),
        ("server.store.b", "server.runner.base"),
        ("server.store.c", "server.runner.base"),
        ("server.store.d", "server.runner.base"),
        ("server.store.e", "server.models.sources"),
    ]
    lazy = {e.importer: (e.lazy, e.type_only) for e in edges if e.imported == "server.runner.base"}
    assert lazy["server.store.c"] == (True, False)
    assert lazy["server.store.d"] == (False, True)


def test_the_walk_finds_a_loop_but_not_one_only_type_checking_closes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "server/__init__.py": "",
            "server/a.py": "from server import b\n",
            "server/b.py": "def f():\n    import server.c\n",
            "server/c.py": "from server.a import thing\n",
            "server/d.py": "import server.e\n",
            "server/e.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import server.d\n"
            ),
        },
    )
    assert [sorted(c) for c in find_cycles(server_imports(tmp_path))] == [
        ["server.a", "server.b", "server.c"]
    ]


def test_the_walk_reads_every_module_of_server() -> None:
    modules = {e.importer for e in server_imports(ROOT)}
    assert "server.store.db" in modules and "server.app" in modules
    for path in (ROOT / "server").rglob("*.py"):
        ast.parse(path.read_text(), str(path))  # every module parses


def test_no_module_in_server_is_over_400_lines() -> None:
    # Small modules with names that say what they hold: split by resource before the limit.
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted((ROOT / "server").rglob("*.py"))
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert long == {}
