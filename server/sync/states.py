"""The rules of a connection's state (the protocol's list of AirbyteStateMessage dicts), in
one place: a stored dict as the typed `AirbyteStateMessage` and back (`parse_state`,
`unparse_state`), and what is left when streams are reset, for the store (`without_streams`)
and for the destination of a reset (`reset_states`). STREAM states go per stream; a GLOBAL
state keeps its shared part and the other streams' parts; a LEGACY state cannot be split.

The relay passes records through undecoded; states are rare, so they are typed where they are
interpreted, and kept as they came where they are only passed on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from server.protocol import (
    AirbyteGlobalState,
    AirbyteStateMessage,
    AirbyteStreamState,
    StreamDescriptor,
)
from server.sync.catalog import StreamKey
from server.sync.checkpoints import ConnectionState

StateList = list[dict[str, Any]]


def _descriptor(raw: Any) -> StreamDescriptor:
    raw = raw if isinstance(raw, dict) else {}
    return StreamDescriptor(name=str(raw.get("name", "")), namespace=raw.get("namespace") or None)


def _stream_state(raw: Any) -> AirbyteStreamState:
    raw = raw if isinstance(raw, dict) else {}
    return AirbyteStreamState(
        stream_descriptor=_descriptor(raw.get("stream_descriptor")),
        stream_state=raw.get("stream_state"),
    )


def parse_state(message: dict[str, Any]) -> AirbyteStateMessage:
    """A stored state message as the typed protocol message, leniently (a stored state came
    from a connector or a client): a missing descriptor reads as the stream named "", an
    unknown `type` as LEGACY."""
    kind = message.get("type")
    stream = message.get("stream")
    shared = message.get("global")
    return AirbyteStateMessage(
        type=kind if kind in ("STREAM", "GLOBAL", "LEGACY") else None,
        stream=None if stream is None else _stream_state(stream),
        data=message.get("data"),
        global_=None
        if not isinstance(shared, dict)
        else AirbyteGlobalState(
            stream_states=[_stream_state(s) for s in shared.get("stream_states") or []],
            shared_state=shared.get("shared_state"),
        ),
    )


def _stream_dict(stream: AirbyteStreamState) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"name": stream.stream_descriptor.name}
    if stream.stream_descriptor.namespace:
        descriptor["namespace"] = stream.stream_descriptor.namespace
    return {"stream_descriptor": descriptor, "stream_state": stream.stream_state}


def unparse_state(message: AirbyteStateMessage) -> dict[str, Any]:
    """The typed message as the dict the store keeps and a source is given."""
    if message.type == "STREAM" and message.stream is not None:
        return {"type": "STREAM", "stream": _stream_dict(message.stream)}
    if message.type == "GLOBAL" and message.global_ is not None:
        inner: dict[str, Any] = {
            "stream_states": [_stream_dict(s) for s in message.global_.stream_states]
        }
        if message.global_.shared_state is not None:
            inner["shared_state"] = message.global_.shared_state
        return {"type": "GLOBAL", "global": inner}
    return {"type": "LEGACY", "data": message.data}


def _key(descriptor: dict[str, Any] | None) -> tuple[str, str | None]:
    descriptor = descriptor or {}
    return descriptor.get("name", ""), descriptor.get("namespace") or None


def without_streams(state: StateList, streams: Iterable[dict[str, Any]]) -> StateList:
    """The state to store once these streams are reset.

    Per-stream states of those streams go; a global state keeps its shared part and the other
    streams' states unless none is left; a legacy state cannot be split, so it goes whole.
    """
    drop = {_key(s) for s in streams}
    kept: StateList = []
    for message in state:
        kind = message.get("type") or "LEGACY"
        if kind == "STREAM":
            if _key((message.get("stream") or {}).get("stream_descriptor")) not in drop:
                kept.append(message)
        elif kind == "GLOBAL":
            shared = dict(message.get("global") or {})
            streams_left = [
                s
                for s in shared.get("stream_states") or []
                if _key(s.get("stream_descriptor")) not in drop
            ]
            if streams_left:
                shared["stream_states"] = streams_left
                kept.append({**message, "global": shared})
    return kept


def reset_states(
    input_state: list[dict[str, Any]], streams: list[StreamKey]
) -> list[dict[str, Any]]:
    """The states that say `streams` start over, in the shape the connection's state has."""
    current = ConnectionState(input_state)
    if current.kind == "LEGACY":
        return [{"type": "LEGACY", "data": {}}]  # one blob: it can only start over whole
    if current.kind == "GLOBAL" and current.whole is not None:
        whole = current.whole.get("global") or {}
        kept = []
        for stream in whole.get("stream_states") or []:
            descriptor = stream.get("stream_descriptor") or {}
            if (descriptor.get("name"), descriptor.get("namespace")) not in streams:
                kept.append(stream)
        global_: dict[str, Any] = {"stream_states": kept}
        if kept and whole.get("shared_state") is not None:
            global_["shared_state"] = whole["shared_state"]
        return [{"type": "GLOBAL", "global": global_}]
    states = []
    for name, namespace in streams:
        descriptor = {"name": name}
        if namespace is not None:
            descriptor["namespace"] = namespace
        states.append({"type": "STREAM", "stream": {"stream_descriptor": descriptor}})
    return states
