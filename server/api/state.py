"""Connection state endpoints (tag: state): read a connection's committed state, or set it
(to re-read from a point, or to move a connection's progress over from elsewhere).

The store keeps the protocol's form, the list of AirbyteStateMessage dicts a source is given
as `--state`; these endpoints translate it to and from Airbyte's API shape.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from server.context import Context
from server.core import jobs as core
from server.errors import InvalidInput
from server.models.connections import ConnectionIdRequestBody
from server.models.jobs import StreamDescriptor
from server.models.state import (
    ConnectionState,
    ConnectionStateCreateOrUpdate,
    GlobalState,
    StreamState,
)
from server.store import state
from server.store.connections import get_connection


def _descriptor(raw: dict[str, Any] | None) -> StreamDescriptor:
    raw = raw or {}
    return StreamDescriptor(name=str(raw.get("name", "")), namespace=raw.get("namespace") or None)


def _stream_state(raw: dict[str, Any]) -> StreamState:
    return StreamState(
        stream_descriptor=_descriptor(raw.get("stream_descriptor")),
        stream_state=raw.get("stream_state"),
    )


def to_api(connection_id: str, messages: list[dict[str, Any]]) -> ConnectionState:
    """The stored protocol state as Airbyte's ConnectionState."""
    kinds = [m.get("type") or "LEGACY" for m in messages]
    base: dict[str, Any] = {"connection_id": connection_id}
    if not messages:
        return ConnectionState(**base, state_type="not_set")
    if "GLOBAL" in kinds:
        shared = messages[kinds.index("GLOBAL")].get("global") or {}
        return ConnectionState(
            **base,
            state_type="global",
            global_state=GlobalState(
                shared_state=shared.get("shared_state"),
                stream_states=[_stream_state(s) for s in shared.get("stream_states") or []],
            ),
        )
    if "STREAM" in kinds:
        return ConnectionState(
            **base,
            state_type="stream",
            stream_state=[_stream_state(m.get("stream") or {}) for m in messages],
        )
    return ConnectionState(**base, state_type="legacy", state=messages[-1].get("data"))


def _protocol_stream(stream: StreamState) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"name": stream.stream_descriptor.name}
    if stream.stream_descriptor.namespace:
        descriptor["namespace"] = stream.stream_descriptor.namespace
    return {"stream_descriptor": descriptor, "stream_state": stream.stream_state}


def _missing(field: str, state_type: str) -> InvalidInput:
    return InvalidInput(
        f"connectionState.{field} is required when stateType is '{state_type}'",
        property_path=f"connectionState.{field}",
    )


def from_api(body: ConnectionState) -> list[dict[str, Any]]:
    """Airbyte's ConnectionState as the protocol's list of state messages."""
    if body.state_type == "not_set":
        return []
    if body.state_type == "stream":
        if body.stream_state is None:
            raise _missing("streamState", "stream")
        return [{"type": "STREAM", "stream": _protocol_stream(s)} for s in body.stream_state]
    if body.state_type == "global":
        if body.global_state is None:
            raise _missing("globalState", "global")
        shared = body.global_state.shared_state or body.global_state.shared_state_camel
        inner: dict[str, Any] = {
            "stream_states": [_protocol_stream(s) for s in body.global_state.stream_states]
        }
        if shared is not None:
            inner["shared_state"] = shared
        return [{"type": "GLOBAL", "global": inner}]
    if body.state is None:
        raise _missing("state", "legacy")
    return [{"type": "LEGACY", "data": body.state}]


async def get_state(body: ConnectionIdRequestBody, ctx: Context) -> ConnectionState:
    connection_id = str(body.connection_id)

    def read(db: Database) -> list[dict[str, Any]]:
        get_connection(db, connection_id)  # 404 for an unknown connection
        return state.get_state(db, connection_id)

    return to_api(connection_id, await ctx.store.read(read))


async def create_or_update_state(
    body: ConnectionStateCreateOrUpdate, ctx: Context
) -> ConnectionState:
    """Replace the connection's state; refused (409) while one of its jobs runs, which would
    overwrite it with its own next checkpoint."""
    connection_id = str(body.connection_id)
    if str(body.connection_state.connection_id) != connection_id:
        raise InvalidInput(
            "connectionState.connectionId must be the connection being updated",
            property_path="connectionState.connectionId",
            invalid_value=str(body.connection_state.connection_id),
        )
    messages = from_api(body.connection_state)

    stored = await ctx.store.write(core.replace_state, connection_id, messages, ctx.now())
    return to_api(connection_id, stored)


async def create_or_update_state_safe(
    body: ConnectionStateCreateOrUpdate, ctx: Context
) -> ConnectionState:
    """Airbyte's variant that refuses while a sync runs: the same here."""
    return await create_or_update_state(body, ctx)


handlers = [get_state, create_or_update_state, create_or_update_state_safe]
