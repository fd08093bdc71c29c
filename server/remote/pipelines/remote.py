"""What a server holds, read through its configuration API and keyed by name as documents
are: workspaces, connector definitions, sources, destinations and connections."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from server.remote.client import Client, RemoteError

MASK = "**********"  # what the server sends in place of each secret


class Ambiguous(Exception):
    """Two objects on the server answer to one name."""


@dataclass
class Remote:
    client: Client
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    definitions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    actors: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    connections: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    _specs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, client: Client, names: Iterable[str] | None = None) -> Remote:
        """The server's objects in the workspaces named (every workspace when None)."""
        remote = cls(client)
        wanted = None if names is None else set(names)
        for ws in client.call("workspaces/list").get("workspaces", []):
            if wanted is not None and ws["name"] not in wanted:
                continue
            remote._keep(remote.workspaces, ws["name"], ws, f"workspace {ws['name']!r}")
        for kind in ("source", "destination"):
            remote.definitions[kind] = client.call(f"{kind}_definitions/list")[f"{kind}Definitions"]
            remote.actors[kind] = {}
        for name, ws in remote.workspaces.items():
            body = {"workspaceId": ws["workspaceId"]}
            for kind in ("source", "destination"):
                for actor in client.call(f"{kind}s/list", body)[f"{kind}s"]:
                    key = (name, actor["name"])
                    remote._keep(remote.actors[kind], key, actor, f"{kind} {key}")
            for conn in client.call("connections/list", body)["connections"]:
                key = (name, conn["name"])
                remote._keep(remote.connections, key, conn, f"connection {key}")
        return remote

    def _keep(
        self, into: dict[Any, dict[str, Any]], key: Any, value: dict[str, Any], what: str
    ) -> None:
        if key in into:
            # Names are identities: two objects of one name cannot be told apart.
            self.problems.append(f"the server has two of {what}: rename one first")
        into[key] = value

    def definition(self, kind: str, ref: str) -> dict[str, Any]:
        """A definition by id, else by (case-insensitive) name."""
        id_key = f"{kind}DefinitionId"
        found = [d for d in self.definitions[kind] if d[id_key] == ref]
        if not found:
            found = [d for d in self.definitions[kind] if d["name"].casefold() == ref.casefold()]
        if len(found) != 1:
            why = "no" if not found else "more than one"
            raise Ambiguous(f"{why} {kind} definition named {ref!r} on the server")
        return found[0]

    def definition_name(self, kind: str, definition_id: str) -> str:
        """How an export names a definition: by name when that is unambiguous."""
        definition = self.definition(kind, definition_id)
        named = [
            d
            for d in self.definitions[kind]
            if d["name"].casefold() == definition["name"].casefold()
        ]
        return str(definition["name"]) if len(named) == 1 else definition_id

    def any_workspace_id(self) -> str:
        if self.workspaces:
            return str(next(iter(self.workspaces.values()))["workspaceId"])
        listed = self.client.call("workspaces/list").get("workspaces", [])
        if not listed:
            raise RemoteError(0, "the server has no workspace to read connector specs with")
        return str(listed[0]["workspaceId"])

    def spec(self, kind: str, definition_id: str) -> dict[str, Any]:
        """The connector's configuration JSON Schema, as the server reports it."""
        key = (kind, definition_id)
        if key not in self._specs:
            reply = self.client.call(
                f"{kind}_definition_specifications/get",
                {f"{kind}DefinitionId": definition_id, "workspaceId": self.any_workspace_id()},
            )
            self._specs[key] = reply.get("connectionSpecification") or {}
        return self._specs[key]


def schedule_of(conn: dict[str, Any]) -> dict[str, Any]:
    """A connection's schedule as documents spell it."""
    kind = conn.get("scheduleType") or "manual"
    data = conn.get("scheduleData") or {}
    if kind == "basic" and data.get("basicSchedule"):
        basic = data["basicSchedule"]
        return {"type": "basic", "units": basic["units"], "timeUnit": basic["timeUnit"]}
    if kind == "cron" and data.get("cron"):
        cron = data["cron"]
        return {
            "type": "cron",
            "cronExpression": cron["cronExpression"],
            "cronTimeZone": cron.get("cronTimeZone", "UTC"),
        }
    return {"type": "manual"}


def schedule_body(schedule: dict[str, Any]) -> dict[str, Any]:
    """A document's schedule as connections/create and /update take it."""
    if schedule["type"] == "basic":
        data = {"basicSchedule": {"units": schedule["units"], "timeUnit": schedule["timeUnit"]}}
        return {"scheduleType": "basic", "scheduleData": data}
    if schedule["type"] == "cron":
        cron = {
            "cronExpression": schedule["cronExpression"],
            "cronTimeZone": schedule["cronTimeZone"],
        }
        return {"scheduleType": "cron", "scheduleData": {"cron": cron}}
    return {"scheduleType": "manual", "scheduleData": None}


def selected_streams(conn: dict[str, Any]) -> dict[tuple[str | None, str], dict[str, Any]]:
    """The connection's selected streams, (namespace, name) -> {stream, config}."""
    found = {}
    for item in (conn.get("syncCatalog") or {}).get("streams", []):
        config = item.get("config") or {}
        if config.get("selected", True):
            stream = item["stream"]
            found[(stream.get("namespace"), stream["name"])] = item
    return found
