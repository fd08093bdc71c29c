"""Carrying a plan out through the configuration API, in dependency order, stopping at the
first failure; and the checks `--dry-run` (and every apply, before it changes anything) makes:
each configuration against its connector's spec as the server reports it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jsonschema

from server.remote.client import Client, RemoteError
from server.remote.pipelines import document as d
from server.remote.pipelines.plan import Plan, Step, stream_config
from server.remote.pipelines.remote import Remote, schedule_body


def checks(plan: Plan, remote: Remote) -> Iterator[str]:
    """Each configuration to be sent, against its connector's spec."""
    for step in plan.pending():
        if step.kind in ("source", "destination") and step.action != "delete":
            actor: d.Actor = step.target
            if step.recreate:
                why = "its definition cannot change (delete it first, or give it a new name)"
                yield f"{actor.where}: {step.title}: {why}"
                continue
            assert step.definition_id is not None
            spec = remote.spec(step.kind, step.definition_id)
            validator_class = jsonschema.validators.validator_for(spec, jsonschema.Draft7Validator)
            for error in validator_class(spec).iter_errors(actor.configuration):
                path = d.show_path(("configuration", *error.absolute_path))
                yield f"{actor.where}: {step.title}: {path}: {error.message}"


class Applier:
    """Runs steps; `ids` maps (kind, workspace, name) to the server's ids, as read or created."""

    def __init__(self, client: Client, remote: Remote, say: Callable[[str], None]) -> None:
        self.client = client
        self.say = say
        self.ids: dict[tuple[str, str, str], str] = {}
        for name, ws in remote.workspaces.items():
            self.ids[("workspace", name, name)] = str(ws["workspaceId"])
        for kind in ("source", "destination"):
            for (ws_name, name), actor in remote.actors[kind].items():
                self.ids[(kind, ws_name, name)] = str(actor[f"{kind}Id"])

    def run(self, plan: Plan) -> list[Step]:
        """The steps applied; RemoteError (with `.applied` set) at the first that fails."""
        applied: list[Step] = []
        for step in plan.pending():
            try:
                getattr(self, f"_{step.action}_{step.kind}")(step)
            except RemoteError as exc:
                exc.details["applied"] = [f"{s.action} {s.title}" for s in applied]
                exc.details["failed"] = f"{step.action} {step.title}"
                raise
            applied.append(step)
            self.say(f"{step.action}d {step.title}")
        return applied

    def _ws(self, name: str) -> str:
        return self.ids[("workspace", name, name)]

    def _create_workspace(self, step: Step) -> None:
        reply = self.client.call("workspaces/create", {"name": step.name})
        self.ids[("workspace", step.name, step.name)] = str(reply["workspaceId"])

    def _create_source(self, step: Step) -> None:
        self._create_actor(step)

    def _create_destination(self, step: Step) -> None:
        self._create_actor(step)

    def _create_actor(self, step: Step) -> None:
        actor: d.Actor = step.target
        reply = self.client.call(
            f"{step.kind}s/create",
            {
                "workspaceId": self._ws(step.workspace),
                f"{step.kind}DefinitionId": step.definition_id,
                "name": actor.name,
                "connectionConfiguration": actor.configuration,
            },
        )
        self.ids[(step.kind, step.workspace, step.name)] = str(reply[f"{step.kind}Id"])

    def _update_source(self, step: Step) -> None:
        self._update_actor(step)

    def _update_destination(self, step: Step) -> None:
        self._update_actor(step)

    def _update_actor(self, step: Step) -> None:
        actor: d.Actor = step.target
        assert step.current is not None
        self.client.call(
            f"{step.kind}s/update",
            {
                f"{step.kind}Id": step.current[f"{step.kind}Id"],
                "name": actor.name,
                "connectionConfiguration": actor.configuration,
            },
        )

    def _delete_source(self, step: Step) -> None:
        assert step.current is not None
        self.client.call("sources/delete", {"sourceId": step.current["sourceId"]})

    def _delete_destination(self, step: Step) -> None:
        assert step.current is not None
        self.client.call("destinations/delete", {"destinationId": step.current["destinationId"]})

    def _delete_connection(self, step: Step) -> None:
        assert step.current is not None
        self.client.call("connections/delete", {"connectionId": step.current["connectionId"]})

    def _catalog(
        self, conn: d.Connection, source_id: str, base: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The syncCatalog: every stream of `base` (the connection's, else the source's as
        discovered now), the document's selected with their settings, the others not."""
        streams = (base or {}).get("streams") or []
        known = {(s["stream"].get("namespace"), s["stream"]["name"]) for s in streams}
        wanted = {(s.namespace, s.name): s for s in conn.streams or []}
        if base is None or not wanted.keys() <= known:
            discovered = self.client.call("sources/discover_schema", {"sourceId": source_id})
            streams = (discovered.get("catalog") or {}).get("streams") or []
        out = []
        for item in streams:
            key = (item["stream"].get("namespace"), item["stream"]["name"])
            config = dict(item.get("config") or {})
            if conn.streams is None:
                out.append(item)
                continue
            if key in wanted:
                config = stream_config(wanted.pop(key), config)
            else:
                config = {**config, "selected": False}
            out.append({"stream": item["stream"], "config": config})
        if wanted:
            missing = ", ".join(name for _, name in wanted)
            raise RemoteError(422, f"{conn.where}: the source offers no stream {missing}")
        return {"streams": out}

    def _connection_body(self, conn: d.Connection) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": conn.name,
            "status": conn.status,
            "namespaceDefinition": conn.namespace_definition,
            "prefix": conn.prefix,
            **schedule_body(conn.schedule),
        }
        if conn.namespace_format is not None:
            body["namespaceFormat"] = conn.namespace_format
        return body

    def _create_connection(self, step: Step) -> None:
        conn: d.Connection = step.target
        source_id = self.ids[("source", conn.workspace, conn.source)]
        body = self._connection_body(conn)
        body["sourceId"] = source_id
        body["destinationId"] = self.ids[("destination", conn.workspace, conn.destination)]
        body["syncCatalog"] = self._catalog(conn, source_id, None)
        self.client.call("connections/create", body)

    def _update_connection(self, step: Step) -> None:
        assert step.current is not None
        if step.recreate:  # a connection's source and destination are fixed when created
            self._delete_connection(step)
            self._create_connection(step)
            return
        conn: d.Connection = step.target
        body = self._connection_body(conn)
        body["connectionId"] = step.current["connectionId"]
        if conn.streams is not None:
            source_id = str(step.current["sourceId"])
            body["syncCatalog"] = self._catalog(conn, source_id, step.current.get("syncCatalog"))
        self.client.call("connections/update", body)
