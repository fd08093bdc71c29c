"""A plan: what applying a document changes on a server, object by object, field by field.

Secrets: the server never returns them (each reads back as `**********`), so a secret the
document sets and the server holds cannot be compared. It is shown as `(set)` and sent with any
other change of its object; on its own it plans nothing, unless `--update-secrets` asks for
every secret to be sent again (to rotate one). A secret the document adds or drops is a
change, `(added)` / `(removed)`. Values from `${ENV_VAR}` references are never shown. A
stream's mapper secrets (an encryption key) follow the same rule (server.remote.pipelines.mappers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from server.remote.pipelines import document as d
from server.remote.pipelines import mappers
from server.remote.pipelines.remote import MASK, Remote, schedule_of, selected_streams

ORDER = ("workspace", "source", "destination", "connection")
SECRETS_NOTE = (
    "secrets cannot be compared (the server never returns them): each is sent again only with "
    "another change of its object, or with --update-secrets"
)


@dataclass
class Step:
    action: str  # create | update | delete | unchanged
    kind: str  # workspace | source | destination | connection
    workspace: str
    name: str
    changes: list[str] = field(default_factory=list)
    target: Any = None  # the document's object (create, update)
    current: dict[str, Any] | None = None  # the server's (update, delete)
    definition_id: str | None = None
    unverified: bool = False  # holds secrets that could not be compared
    recreate: bool = False  # what cannot be updated in place: deleted, then created

    @property
    def title(self) -> str:
        if self.kind == "workspace":
            return f"workspace {self.name!r}"
        return f"{self.kind} {self.name!r} (workspace {self.workspace!r})"


@dataclass
class Plan:
    steps: list[Step]
    problems: list[str]
    secrets_unverified: bool = False

    def pending(self) -> list[Step]:
        return [s for s in self.steps if s.action != "unchanged"]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("create", "update", "delete", "unchanged"), 0)
        for step in self.steps:
            counts[step.action] += 1
        return counts


def make(doc: d.Document, remote: Remote, *, prune: bool, update_secrets: bool = False) -> Plan:
    problems = list(remote.problems)
    steps: list[Step] = []
    for name in doc.workspaces:
        steps.append(
            Step("unchanged" if name in remote.workspaces else "create", "workspace", name, name)
        )
    unverified = False
    for kind in ("source", "destination"):
        for key, actor in doc.actors(kind).items():
            try:
                definition = remote.definition(kind, actor.definition)
            except Exception as exc:  # Ambiguous: the definition named is not one on the server
                problems.append(f"{actor.where}: {exc}")
                continue
            def_id = str(definition[f"{kind}DefinitionId"])
            step = _actor_step(actor, remote.actors[kind].get(key), def_id, remote, update_secrets)
            unverified = unverified or step.unverified
            steps.append(step)
    names = {
        str(a[f"{kind}Id"]): name
        for kind in ("source", "destination")
        for (_, name), a in remote.actors[kind].items()
    }
    for key, conn in doc.connections.items():
        step = _connection_step(conn, remote.connections.get(key), names, update_secrets)
        unverified = unverified or step.unverified
        steps.append(step)
    if prune:
        steps.extend(_deletions(doc, remote))
    steps.sort(key=_order)
    return Plan(steps, problems, unverified)


def _order(step: Step) -> tuple[int, int]:
    # Creates and updates in dependency order; deletes after them, in reverse.
    rank = ORDER.index(step.kind)
    return (1, -rank) if step.action == "delete" else (0, rank)


def _deletions(doc: d.Document, remote: Remote) -> Iterator[Step]:
    """Objects of the document's workspaces that the document does not name (workspaces are
    never pruned: one the documents leave out is not theirs to manage)."""
    for key, conn in remote.connections.items():
        if key not in doc.connections and key[0] in doc.workspaces:
            yield Step("delete", "connection", key[0], key[1], current=conn)
    for kind in ("source", "destination"):
        for key, actor in remote.actors[kind].items():
            if key not in doc.actors(kind) and key[0] in doc.workspaces:
                yield Step("delete", kind, key[0], key[1], current=actor)


def _flat(value: Any, path: d.Path_ = ()) -> dict[d.Path_, Any]:
    if isinstance(value, dict) and value:
        out: dict[d.Path_, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, (*path, k)))
        return out
    return {path: value}


def secret_paths(spec: Any, path: d.Path_ = ()) -> Iterator[d.Path_]:
    """Paths the spec marks `airbyte_secret` (properties, through oneOf/anyOf/allOf)."""
    if not isinstance(spec, dict):
        return
    if spec.get("airbyte_secret") is True:
        yield path
    for key, sub in (spec.get("properties") or {}).items():
        yield from secret_paths(sub, (*path, key))
    for variants in ("oneOf", "anyOf", "allOf"):
        for variant in spec.get(variants) or []:
            yield from secret_paths(variant, path)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _actor_step(
    actor: d.Actor,
    current: dict[str, Any] | None,
    def_id: str,
    remote: Remote,
    update_secrets: bool,
) -> Step:
    spec_secrets = set(secret_paths(remote.spec(actor.kind, def_id)))
    mine = _flat(actor.configuration)
    hidden = actor.referenced | spec_secrets

    def is_hidden(path: d.Path_) -> bool:
        return any(path[: len(h)] == h for h in hidden)

    if current is None:
        changes = [
            f"configuration.{d.show_path(p)}: {'(set)' if is_hidden(p) else _show(v)}"
            for p, v in mine.items()
            if p
        ]
        step = Step("create", actor.kind, actor.workspace, actor.name, changes, actor)
        step.definition_id = def_id
        return step
    theirs = _flat(current.get("connectionConfiguration") or {})
    changes, secrets = [], []
    if str(current[f"{actor.kind}DefinitionId"]) != def_id:
        changes.append(f"definition: {current[f'{actor.kind}DefinitionId']} -> {def_id}")
    for path in sorted(set(mine) | set(theirs), key=lambda p: tuple(map(str, p))):
        label = f"configuration.{d.show_path(path)}"
        if not path:
            continue
        old, new = theirs.get(path, _ABSENT), mine.get(path, _ABSENT)
        if old == MASK or is_hidden(path):
            if old is _ABSENT:
                changes.append(f"{label}: (added)")
            elif new is _ABSENT:
                changes.append(f"{label}: (removed)")
            elif old == MASK:
                secrets.append(f"{label}: (set)")
            elif old != new:
                changes.append(f"{label}: (changed)")
        elif old != new:
            was = "(none)" if old is _ABSENT else _show(old)
            now = "(none)" if new is _ABSENT else _show(new)
            changes.append(f"{label}: {was} -> {now}")
    action = "update" if changes or (secrets and update_secrets) else "unchanged"
    step = Step(action, actor.kind, actor.workspace, actor.name, changes + secrets, actor, current)
    step.definition_id = def_id
    step.unverified = bool(secrets)
    step.recreate = str(current[f"{actor.kind}DefinitionId"]) != def_id
    if action == "unchanged":
        step.changes = []
    return step


class _Absent:
    def __repr__(self) -> str:
        return "(none)"


_ABSENT: Any = _Absent()


def stream_config(stream: d.Stream, base: dict[str, Any]) -> dict[str, Any]:
    """The stream's catalog config: the document's fields over `base` (the server's)."""
    config = {**base, "selected": True}
    config["syncMode"] = stream.sync_mode
    config["destinationSyncMode"] = stream.destination_sync_mode
    if stream.cursor_field is not None:
        config["cursorField"] = stream.cursor_field
    if stream.primary_key is not None:
        config["primaryKey"] = stream.primary_key
    if stream.selected_fields is not None:
        config["fieldSelectionEnabled"] = True
        config["selectedFields"] = [{"fieldPath": p} for p in stream.selected_fields]
    else:
        config["fieldSelectionEnabled"] = False
        config.pop("selectedFields", None)
    # The document's mappers are all of the stream's: hashed fields are among them (an export
    # writes them as hashing mappers), so the server's own list is not sent beside them.
    config.pop("hashedFields", None)
    if stream.mappers:
        config["mappers"] = stream.mappers
    else:
        config.pop("mappers", None)
    return config


def _stream_changes(
    streams: list[d.Stream], current: dict[str, Any], secrets: list[str]
) -> Iterator[str]:
    """What changes in the connection's streams; the mapper secrets that cannot be compared
    are added to `secrets`."""
    have = selected_streams(current)
    wanted = {(s.namespace, s.name): s for s in streams}
    for key in have.keys() - wanted.keys():
        yield f"streams: - {key[1]}"
    for key, stream in wanted.items():
        if key not in have:
            yield f"streams: + {stream.name}"
            continue
        old = have[key].get("config") or {}
        new = stream_config(stream, old)
        for name in (
            "syncMode",
            "destinationSyncMode",
            "cursorField",
            "primaryKey",
            "fieldSelectionEnabled",
            "selectedFields",
        ):
            was, now = old.get(name), new.get(name)
            if name == "fieldSelectionEnabled":
                was, now = bool(was), bool(now)
            if name in ("cursorField", "primaryKey", "selectedFields") and not was and not now:
                continue
            if was != now:
                yield f"streams.{stream.name}.{name}: {_show(was)} -> {_show(now)}"
        changed, unverified = mappers.changes(stream, old, f"streams.{stream.name}.mappers")
        yield from changed
        secrets.extend(unverified)


def _connection_step(
    conn: d.Connection, current: dict[str, Any] | None, names: dict[str, str], update_secrets: bool
) -> Step:
    if current is None:
        changes = [f"{conn.source} -> {conn.destination}", f"schedule: {_show(conn.schedule)}"]
        if conn.streams is not None:
            changes.append(f"streams: {', '.join(s.name for s in conn.streams) or '(none)'}")
        return Step("create", "connection", conn.workspace, conn.name, changes, conn)
    changes = []
    ends = (names.get(str(current["sourceId"])), names.get(str(current["destinationId"])))
    if ends != (conn.source, conn.destination):
        changes.append(f"{ends[0]} -> {ends[1]} becomes {conn.source} -> {conn.destination}")
        step = Step("update", "connection", conn.workspace, conn.name, changes, conn, current)
        step.recreate = True
        return step
    fields: dict[str, tuple[Any, Any]] = {
        "status": (current.get("status"), conn.status),
        "schedule": (schedule_of(current), conn.schedule),
        "namespaceDefinition": (
            current.get("namespaceDefinition", "source"),
            conn.namespace_definition,
        ),
        "prefix": (current.get("prefix") or "", conn.prefix),
    }
    if conn.namespace_format is not None or current.get("namespaceFormat"):
        fields["namespaceFormat"] = (current.get("namespaceFormat"), conn.namespace_format)
    for name, (old, new) in fields.items():
        if old != new:
            changes.append(f"{name}: {_show(old)} -> {_show(new)}")
    secrets: list[str] = []
    if conn.streams is not None:
        changes.extend(_stream_changes(conn.streams, current, secrets))
    action = "update" if changes or (secrets and update_secrets) else "unchanged"
    shown = changes + secrets if action == "update" else []
    step = Step(action, "connection", conn.workspace, conn.name, shown, conn, current)
    step.unverified = bool(secrets)
    return step
