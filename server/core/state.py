"""The rules of a connection's state, for every face: reading it, replacing it, and the
translation between the stored protocol form (the list of AirbyteStateMessage dicts a source is
given as `--state`) and the one view faces show (`StateView`: not set, one GLOBAL state, the
STREAM states, or a LEGACY blob).

A stored list with a GLOBAL message reads as that global state; else one with STREAM messages
as the stream states; else as the last message's LEGACY `data`.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from sqlite_utils import Database

from server.core.errors import Conflict, InvalidInput
from server.protocol import (
    AirbyteGlobalState,
    AirbyteStateMessage,
    AirbyteStreamState,
    StreamDescriptor,
)
from server.store import jobs as store
from server.store import state
from server.store.connections import get_connection
from server.sync.states import parse_state, unparse_state

StateType = Literal["not_set", "global", "stream", "legacy"]


class StateView(msgspec.Struct, frozen=True):
    """A connection's state as faces show it; only the part its `state_type` names is set."""

    state_type: StateType
    global_state: AirbyteGlobalState | None = None
    stream_states: list[AirbyteStreamState] | None = None
    data: Any = None


def view(stored: list[dict[str, Any]]) -> StateView:
    """The stored protocol state as the view faces show."""
    if not stored:
        return StateView("not_set")
    messages = [parse_state(m) for m in stored]
    kinds = [m.type or "LEGACY" for m in messages]
    if "GLOBAL" in kinds:
        shared = messages[kinds.index("GLOBAL")].global_
        return StateView("global", global_state=shared or AirbyteGlobalState(stream_states=[]))
    if "STREAM" in kinds:
        return StateView("stream", stream_states=[_stream(m) for m in messages])
    return StateView("legacy", data=messages[-1].data)


def _stream(message: AirbyteStateMessage) -> AirbyteStreamState:
    if message.stream is not None:
        return message.stream
    return AirbyteStreamState(stream_descriptor=StreamDescriptor(name=""))


def stored_form(shown: StateView, at: str = "connectionState") -> list[dict[str, Any]]:
    """The view as the protocol's list of state messages (what the store keeps).

    The part the view's `state_type` names must be there (InvalidInput at `{at}.<field>`).
    """
    if shown.state_type == "not_set":
        return []
    if shown.state_type == "stream":
        if shown.stream_states is None:
            raise _missing(at, "streamState", "stream")
        return [
            unparse_state(AirbyteStateMessage(type="STREAM", stream=s)) for s in shown.stream_states
        ]
    if shown.state_type == "global":
        if shown.global_state is None:
            raise _missing(at, "globalState", "global")
        return [unparse_state(AirbyteStateMessage(type="GLOBAL", global_=shown.global_state))]
    if shown.data is None:
        raise _missing(at, "state", "legacy")
    return [{"type": "LEGACY", "data": shown.data}]


def _missing(at: str, field: str, state_type: str) -> InvalidInput:
    return InvalidInput(
        f"{at}.{field} is required when stateType is '{state_type}'",
        property_path=f"{at}.{field}",
    )


def read_state(db: Database, connection_id: str) -> list[dict[str, Any]]:
    """The connection's committed state (NotFound for an unknown connection)."""
    get_connection(db, connection_id)
    return state.get_state(db, connection_id)


def replace_state(
    db: Database, connection_id: str, messages: list[dict[str, Any]], now: int
) -> list[dict[str, Any]]:
    """Replace the connection's state; refused (Conflict) while one of its jobs runs, which
    would overwrite it with its own next checkpoint. Returns the state as stored."""
    get_connection(db, connection_id)  # not found for an unknown connection
    active = store.active_job(db, connection_id)
    if active is not None and active.status == "running":
        raise Conflict(
            f"Job {active.id} of connection {connection_id} is running; its state can be "
            "changed when it has ended (or after jobs/cancel)"
        )
    state.set_state(db, connection_id, messages, now)
    return state.get_state(db, connection_id)
