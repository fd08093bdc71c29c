"""Connection state models (tag: state), as Airbyte's `ConnectionState`.

`stateType` says which field holds the state: `stream` -> `streamState` (one entry per
stream), `global` -> `globalState` (a shared part and per-stream parts), `legacy` -> `state`
(one opaque object), `not_set` -> none. Airbyte's spec spells the global shared part
`shared_state`; `sharedState` is accepted too.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import msgspec

from server.models.base import Model
from server.models.jobs import StreamDescriptor

ConnectionStateType = Literal["global", "stream", "legacy", "not_set"]


class StreamState(Model):
    stream_descriptor: StreamDescriptor
    stream_state: dict[str, Any] | None = None


class GlobalState(Model):
    stream_states: list[StreamState]
    shared_state: dict[str, Any] | None = msgspec.field(default=None, name="shared_state")
    shared_state_camel: dict[str, Any] | None = msgspec.field(default=None, name="sharedState")


class ConnectionState(Model):
    connection_id: UUID
    state_type: ConnectionStateType
    state: dict[str, Any] | None = None
    stream_state: list[StreamState] | None = None
    global_state: GlobalState | None = None


class ConnectionStateCreateOrUpdate(Model):
    connection_id: UUID
    connection_state: ConnectionState
