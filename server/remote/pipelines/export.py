"""Documents for what a server holds: its secrets as `${...}` placeholders, never in clear
(the server sends none: each reads back as `**********`, which becomes a reference named after
its object and field, e.g. `${WAREHOUSE_PASSWORD}`). A stream's mappers are written as the
API shows them, an encryption key as the mask itself: applied back, the server keeps the key it
holds (server.remote.pipelines.mappers)."""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq

from server.remote.pipelines import mappers
from server.remote.pipelines.remote import MASK, Remote, schedule_of, selected_streams


def _env_name(*parts: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", "_".join(parts).upper()).strip("_") or "SECRET"


class _Names:
    """Placeholder names, each used once."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def new(self, *parts: str) -> str:
        base = _env_name(*parts)
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name


def _placeholders(value: Any, owner: str, names: _Names, path: tuple[str, ...] = ()) -> Any:
    if isinstance(value, dict):
        return {k: _placeholders(v, owner, names, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, owner, names, (*path, str(i))) for i, v in enumerate(value)]
    if value == MASK:
        return "${" + names.new(owner, *path) + "}"
    if isinstance(value, str):
        return value.replace("${", "$${")  # a literal `${` stays literal when applied
    return value


def document(remote: Remote) -> dict[str, Any]:
    """One document for every object `remote` read."""
    names = _Names()
    out: dict[str, Any] = {"workspaces": [{"name": n} for n in remote.workspaces]}
    for kind in ("source", "destination"):
        out[f"{kind}s"] = [
            {
                "name": name,
                "workspace": ws,
                "definition": remote.definition_name(kind, str(actor[f"{kind}DefinitionId"])),
                "configuration": _placeholders(
                    actor.get("connectionConfiguration") or {}, name, names
                ),
            }
            for (ws, name), actor in remote.actors[kind].items()
        ]
    ids = {
        str(a[f"{kind}Id"]): name
        for kind in ("source", "destination")
        for (_, name), a in remote.actors[kind].items()
    }
    out["connections"] = [
        _connection(ws, name, conn, ids) for (ws, name), conn in remote.connections.items()
    ]
    return out


def _connection(ws: str, name: str, conn: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": name,
        "workspace": ws,
        "source": ids[str(conn["sourceId"])],
        "destination": ids[str(conn["destinationId"])],
        "status": conn["status"],
        "schedule": schedule_of(conn),
        "namespaceDefinition": conn.get("namespaceDefinition", "source"),
    }
    if conn.get("namespaceFormat"):
        item["namespaceFormat"] = conn["namespaceFormat"]
    item["prefix"] = conn.get("prefix") or ""
    streams = []
    for (namespace, stream_name), entry in selected_streams(conn).items():
        config = entry.get("config") or {}
        stream: dict[str, Any] = {"name": stream_name}
        if namespace is not None:
            stream["namespace"] = namespace
        stream["syncMode"] = config.get("syncMode", "full_refresh")
        stream["destinationSyncMode"] = config.get("destinationSyncMode", "overwrite")
        for key in ("cursorField", "primaryKey"):
            if config.get(key):
                stream[key] = config[key]
        if config.get("fieldSelectionEnabled"):
            stream["selectedFields"] = [f["fieldPath"] for f in config.get("selectedFields") or []]
        found = mappers.exported(config)
        if found:
            stream["mappers"] = found
        streams.append(stream)
    item["streams"] = streams
    return item


def _flow_paths(value: Any) -> Any:
    """Field paths (lists of strings) inline, `[id]`; everything else in block style."""
    if isinstance(value, dict):
        return {k: _flow_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            seq = CommentedSeq(value)
            seq.fa.set_flow_style()
            return seq
        return [_flow_paths(v) for v in value]
    return value


def dump(data: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    data = _flow_paths(data)
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()
