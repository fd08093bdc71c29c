"""Connection state endpoints (tag: state): read a connection's committed state, or set it
(to re-read from a point, or to move a connection's progress over from elsewhere).

The store keeps the protocol's form, the list of AirbyteStateMessage dicts a source is given
as `--state`; these endpoints translate it to and from Airbyte's API shape.
"""

from __future__ import annotations

from typing import Any

from server.context import Context
from server.core import state as core
from server.errors import InvalidInput
from server.models.connections import ConnectionIdRequestBody
from server.models.jobs import StreamDescriptor
from server.models.state import (
    ConnectionState,
    ConnectionStateCreateOrUpdate,
    GlobalState,
    StreamState,
)
from server.protocol import AirbyteGlobalState, AirbyteStreamState
from server.protocol import StreamDescriptor as ProtocolDescriptor

# --- rendering (the rules are in server.core.state) ----------------------------------------


def _stream_state(stream: AirbyteStreamState) -> StreamState:
    descriptor = stream.stream_descriptor
    return StreamState(
        stream_descriptor=StreamDescriptor(name=descriptor.name, namespace=descriptor.namespace),
        stream_state=stream.stream_state,
    )


def to_api(connection_id: str, stored: list[dict[str, Any]]) -> ConnectionState:
    """The stored protocol state as Airbyte's ConnectionState."""
    shown = core.view(stored)
    base: dict[str, Any] = {"connection_id": connection_id, "state_type": shown.state_type}
    if shown.global_state is not None:
        shared = shown.global_state
        return ConnectionState(
            **base,
            global_state=GlobalState(
                shared_state=shared.shared_state,
                stream_states=[_stream_state(s) for s in shared.stream_states],
            ),
        )
    if shown.stream_states is not None:
        return ConnectionState(**base, stream_state=[_stream_state(s) for s in shown.stream_states])
    if shown.state_type == "legacy":
        return ConnectionState(**base, state=shown.data)
    return ConnectionState(**base)


def _protocol_stream(stream: StreamState) -> AirbyteStreamState:
    descriptor = stream.stream_descriptor
    return AirbyteStreamState(
        stream_descriptor=ProtocolDescriptor(name=descriptor.name, namespace=descriptor.namespace),
        stream_state=stream.stream_state,
    )


def from_api(body: ConnectionState) -> list[dict[str, Any]]:
    """Airbyte's ConnectionState as the protocol's list of state messages."""
    global_state = None
    if body.global_state is not None:
        global_state = AirbyteGlobalState(
            stream_states=[_protocol_stream(s) for s in body.global_state.stream_states],
            shared_state=body.global_state.shared_state or body.global_state.shared_state_camel,
        )
    shown = core.StateView(
        body.state_type,
        global_state=global_state,
        stream_states=None
        if body.stream_state is None
        else [_protocol_stream(s) for s in body.stream_state],
        data=body.state,
    )
    return core.stored_form(shown)


# --- handlers --------------------------------------------------------------------------------


async def get_state(body: ConnectionIdRequestBody, ctx: Context) -> ConnectionState:
    connection_id = str(body.connection_id)
    return to_api(connection_id, await ctx.store.read(core.read_state, connection_id))


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
