"""Finding what a command names: a workspace by name or id, a connection by name or id (names
are what people type; ids are what scripts keep)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from server.remote.client import RemoteError

Json = dict[str, Any]


class Caller(Protocol):
    def call(self, path: str, body: Json | None = None) -> Json: ...


class NotFound(Exception):
    """What the command named does not exist, or names several things: a usage error."""


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def workspaces(client: Caller, name: str | None = None) -> list[Workspace]:
    """Every workspace, or the one `name` names (its name or its id)."""
    found = [
        Workspace(str(w["workspaceId"]), str(w.get("name") or ""))
        for w in client.call("workspaces/list", {}).get("workspaces") or []
    ]
    if name is None:
        return found
    chosen = [w for w in found if name in (w.id, w.name)]
    if not chosen:
        raise NotFound(f"no workspace named {name!r}")
    return chosen


def connections(client: Caller, workspace: str | None = None) -> list[tuple[Workspace, Json]]:
    """The connections (web backend views: with their source and destination) of every
    workspace, or of the one named."""
    listed: list[tuple[Workspace, Json]] = []
    for ws in workspaces(client, workspace):
        reply = client.call("web_backend/connections/list", {"workspaceId": ws.id})
        listed.extend((ws, c) for c in reply.get("connections") or [])
    return listed


def connection(client: Caller, ref: str, workspace: str | None = None) -> Json:
    """The connection `ref` names: its id (one call), else its name, which must be unique
    (within `workspace` if given)."""
    if _is_uuid(ref):
        try:
            return client.call("connections/get", {"connectionId": ref})
        except RemoteError as exc:
            if exc.status != 404:
                raise
            # a connection may be named like a UUID: look for the name too
    matches = [c for _, c in connections(client, workspace) if c.get("name") == ref]
    if not matches:
        where = f" in workspace {workspace!r}" if workspace else ""
        raise NotFound(f"no connection named {ref!r}{where} (`sluice connections` lists them)")
    if len(matches) > 1:
        ids = ", ".join(str(c["connectionId"]) for c in matches)
        raise NotFound(f"{len(matches)} connections are named {ref!r} ({ids}): give its id")
    return matches[0]
