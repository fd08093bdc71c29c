"""Pipeline documents: read (YAML or JSON, a file or a directory of them), checked against the
format's JSON Schema (schema.json) with the file, line and path of each error, `${ENV_VAR}`
references resolved (in connector configurations and in streams' mappers), and turned into
typed objects keyed by name."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

SUFFIXES = (".yaml", ".yml", ".json")
# `${NAME}` is a reference; `$${` is a literal `${`.
_REFERENCE = re.compile(r"\$(\$)?\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Path_ = tuple[str | int, ...]


class DocumentError(Exception):
    """What is wrong with a document, each problem `file:line: path: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@cache
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(__file__).parent / "schema.json").read_text())
    return data


def schema_text() -> str:
    return (Path(__file__).parent / "schema.json").read_text()


@dataclass
class Actor:
    """A source or a destination."""

    kind: str  # "source" | "destination"
    name: str
    workspace: str
    definition: str
    configuration: dict[str, Any]  # references resolved
    # Paths of the configuration whose values came from references: never shown in clear.
    referenced: set[Path_] = field(default_factory=set)
    where: str = ""


@dataclass
class Stream:
    name: str
    namespace: str | None
    sync_mode: str
    destination_sync_mode: str
    cursor_field: list[str] | None
    primary_key: list[list[str]] | None
    selected_fields: list[list[str]] | None
    # `[{id?, type, mapperConfiguration}]` as the API takes them, references resolved; None:
    # the stream has none.
    mappers: list[dict[str, Any]] | None = None
    # Paths in `mappers` (`(1, "mapperConfiguration", "key")`) whose values came from
    # references: never shown in clear.
    referenced: set[Path_] = field(default_factory=set)


@dataclass
class Connection:
    name: str
    workspace: str
    source: str
    destination: str
    status: str
    schedule: dict[str, Any]  # {"type": ...} with its fields, defaults filled
    namespace_definition: str
    namespace_format: str | None
    prefix: str
    streams: list[Stream] | None
    where: str = ""


@dataclass
class Document:
    workspaces: dict[str, str] = field(default_factory=dict)  # name -> where
    sources: dict[tuple[str, str], Actor] = field(default_factory=dict)
    destinations: dict[tuple[str, str], Actor] = field(default_factory=dict)
    connections: dict[tuple[str, str], Connection] = field(default_factory=dict)

    def actors(self, kind: str) -> dict[tuple[str, str], Actor]:
        return self.sources if kind == "source" else self.destinations


def files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        if not found:
            raise DocumentError([f"{path}: no {', '.join(SUFFIXES)} files"])
        return found
    if not path.exists():
        raise DocumentError([f"{path}: no such file or directory"])
    return [path]


def load(path: Path, env: Mapping[str, str]) -> Document:
    """Every file under `path`, checked and merged; DocumentError lists every problem."""
    doc = Document()
    problems: list[str] = []
    for file in files(path):
        try:
            data = _parse(file)
        except DocumentError as exc:
            problems.extend(exc.problems)
            continue
        errors = _schema_errors(file, data)
        if errors:
            problems.extend(errors)
            continue
        problems.extend(_merge(doc, file, data, env))
    problems.extend(_references(doc))
    if problems:
        raise DocumentError(problems)
    return doc


def _parse(file: Path) -> Any:
    # JSON is YAML too: one parser gives both their line numbers.
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(file.read_text())
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise DocumentError([f"{file}{line}: not valid YAML or JSON: {exc.problem}"]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError([f"{file}: cannot read: {exc}"]) from exc
    return {} if data is None else data


def line_of(data: Any, path: Path_) -> int:
    """The 1-based line of the node at `path` (or of its nearest ancestor that has one)."""
    line, node = 1, data
    for key in path:
        lc = getattr(node, "lc", None)
        try:
            if lc is not None:
                line = (lc.item(key) if isinstance(key, int) else lc.key(key))[0] + 1
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    return line


def show_path(path: Path_) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text or "(document)"


def _schema_errors(file: Path, data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema())
    found = []
    for error in sorted(validator.iter_errors(data), key=lambda e: line_of(data, tuple(e.path))):
        path = tuple(error.absolute_path)
        # A oneOf's own message names no variant: say what the best matching one wanted.
        best = jsonschema.exceptions.best_match([error]) if error.context else error
        message = best.message
        where = tuple(best.absolute_path)
        found.append(f"{file}:{line_of(data, where)}: {show_path(where or path)}: {message}")
    return found


def _resolve(
    value: Any, env: Mapping[str, str], path: Path_, referenced: set[Path_], missing: list[Path_]
) -> Any:
    if isinstance(value, Mapping):
        return {k: _resolve(v, env, (*path, k), referenced, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, env, (*path, i), referenced, missing) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def sub(match: re.Match[str]) -> str:
        if match.group(1):
            return "${" + match.group(2) + "}"
        name = match.group(2)
        referenced.add(path)
        if not _ENV_NAME.fullmatch(name) or name not in env:
            missing.append((*path, name))
            return ""
        return env[name]

    return _REFERENCE.sub(sub, value)


def _merge(doc: Document, file: Path, data: Any, env: Mapping[str, str]) -> Iterator[str]:
    def at(path: Path_) -> str:
        return f"{file}:{line_of(data, path)}"

    for i, ws in enumerate(data.get("workspaces") or []):
        if ws["name"] in doc.workspaces:
            other = doc.workspaces[ws["name"]]
            yield f"{at(('workspaces', i))}: workspace {ws['name']!r} is also at {other}"
        doc.workspaces[ws["name"]] = at(("workspaces", i))
    for kind, key in (("source", "sources"), ("destination", "destinations")):
        for i, item in enumerate(data.get(key) or []):
            referenced: set[Path_] = set()
            missing: list[Path_] = []
            base: Path_ = (key, i, "configuration")
            config = _resolve(item["configuration"], env, (), referenced, missing)
            yield from _missing(base, missing, at)
            actor = Actor(
                kind,
                item["name"],
                item["workspace"],
                item["definition"],
                config,
                referenced,
                at((key, i)),
            )
            ident = (actor.workspace, actor.name)
            if ident in doc.actors(kind):
                other = doc.actors(kind)[ident].where
                yield f"{actor.where}: {kind} {actor.name!r} is also at {other}"
            doc.actors(kind)[ident] = actor
    for i, item in enumerate(data.get("connections") or []):
        conn = _connection(item, at(("connections", i)))
        for j, stream in enumerate(conn.streams or []):
            base = ("connections", i, "streams", j, "mappers")
            yield from _stream_references(stream, env, base, at)
        ident = (conn.workspace, conn.name)
        if ident in doc.connections:
            other = doc.connections[ident].where
            yield f"{conn.where}: connection {conn.name!r} of {conn.workspace!r} is also at {other}"
        doc.connections[ident] = conn


def _missing(base: Path_, missing: list[Path_], at: Callable[[Path_], str]) -> Iterator[str]:
    for *inner, name in missing:
        problem = f"environment variable {name} is not set"
        if not _ENV_NAME.fullmatch(str(name)):
            problem = f"${{{name}}} is not a valid environment variable reference"
        yield f"{at((*base, *inner))}: {show_path((*base, *inner))}: {problem}"


def _stream_references(
    stream: Stream, env: Mapping[str, str], base: Path_, at: Callable[[Path_], str]
) -> Iterator[str]:
    """A stream's mappers with their `${ENV_VAR}` references resolved (a new AES key is given
    as one, never written in the document)."""
    if stream.mappers is None:
        return
    missing: list[Path_] = []
    stream.mappers = _resolve(stream.mappers, env, (), stream.referenced, missing)
    yield from _missing(base, missing, at)


def _connection(item: Mapping[str, Any], where: str) -> Connection:
    schedule = dict(item.get("schedule") or {"type": "manual"})
    if schedule["type"] == "cron":
        schedule.setdefault("cronTimeZone", "UTC")
    streams = None
    if "streams" in item:
        streams = [
            Stream(
                name=s["name"],
                namespace=s.get("namespace"),
                sync_mode=s.get("syncMode", "full_refresh"),
                destination_sync_mode=s.get("destinationSyncMode", "overwrite"),
                cursor_field=_plain(s.get("cursorField")),
                primary_key=_plain(s.get("primaryKey")),
                selected_fields=_plain(s.get("selectedFields")),
                mappers=_plain(s.get("mappers")),
            )
            for s in item["streams"]
        ]
    return Connection(
        name=item["name"],
        workspace=item["workspace"],
        source=item["source"],
        destination=item["destination"],
        status=item.get("status", "active"),
        schedule=_plain(schedule),
        namespace_definition=item.get("namespaceDefinition", "source"),
        namespace_format=item.get("namespaceFormat"),
        prefix=item.get("prefix", ""),
        streams=streams,
        where=where,
    )


def _plain(value: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _references(doc: Document) -> Iterator[str]:
    """Names that point at nothing in the document."""
    owned: list[Actor | Connection] = [*doc.sources.values(), *doc.destinations.values()]
    for item in [*owned, *doc.connections.values()]:
        if item.workspace not in doc.workspaces:
            yield f"{item.where}: workspace {item.workspace!r} is not in the document's workspaces"
    for conn in doc.connections.values():
        for kind, name, known in (
            ("source", conn.source, doc.sources),
            ("destination", conn.destination, doc.destinations),
        ):
            if (conn.workspace, name) not in known:
                yield f"{conn.where}: no {kind} {name!r} in the document's {conn.workspace!r}"
