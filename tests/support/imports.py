"""The imports of server/, read with ast (nothing is imported or run): for the layout test."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name, e.g. "server.store.db"
    imported: str  # the module it imports (a submodule when `from pkg import submodule`)
    names: tuple[str, ...]  # the names taken from it (`from x import a, b`), else ()
    path: str  # the importer's file, relative to the root
    line: int
    lazy: bool  # inside a function: runs when called, not at import
    type_only: bool  # under `if TYPE_CHECKING:`: never runs


def module_names(root: Path) -> dict[str, Path]:
    """Every module of root/server by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((root / "server").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def server_imports(root: Path) -> list[Import]:
    """Every import of a server module by a server module."""
    modules = module_names(root)
    edges: list[Import] = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(), str(path))
        rel = str(path.relative_to(root))
        for node, lazy, type_only in _walk(tree.body, lazy=False, type_only=False):
            for target, names in _targets(node, package, modules):
                edges.append(Import(name, target, names, rel, node.lineno, lazy, type_only))
    return edges


def _walk(
    body: Iterable[ast.stmt], lazy: bool, type_only: bool
) -> Iterable[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, lazy, type_only
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _walk(node.body, lazy, True)
            yield from _walk(node.orelse, lazy, type_only)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _walk(node.body, True, type_only)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    nested = [c for c in children if isinstance(c, ast.stmt)]
                    for handler in children:
                        if isinstance(handler, ast.ExceptHandler):
                            nested.extend(handler.body)
                    yield from _walk(nested, lazy, type_only)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(
    node: ast.Import | ast.ImportFrom, package: str, modules: dict[str, Path]
) -> list[tuple[str, tuple[str, ...]]]:
    if isinstance(node, ast.Import):
        return [(a.name, ()) for a in node.names if a.name in modules]
    base = node.module or ""
    if node.level:
        parts = package.split(".")
        anchor = ".".join(parts[: len(parts) - node.level + 1])
        base = f"{anchor}.{base}" if base else anchor
    if base not in modules:
        return []
    found: list[tuple[str, tuple[str, ...]]] = []
    names = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if sub in modules:
            found.append((sub, ()))
        else:
            names.append(alias.name)
    if names:
        found.append((base, tuple(names)))
    return found


def find_cycles(edges: Iterable[Import]) -> list[list[str]]:
    """The import loops (strongly connected sets of more than one module, or a module that
    imports itself), counting imports that run (at import or when a function is called), not
    those under TYPE_CHECKING."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if not e.type_only:
            graph.setdefault(e.importer, set()).add(e.imported)
            graph.setdefault(e.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(start: str) -> None:
        # Tarjan's algorithm, iterative (deep chains would exceed the recursion limit).
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1 or node in graph[node]:
                    cycles.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)
