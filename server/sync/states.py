"""The rules of a connection's state, in one place: a state message as the typed
`AirbyteStateMessage` and back (`parse_state`, `unparse_state`, `wire_state`), what identifies
one (`identity`), how a sync's states add up to the connection's state (`ConnectionState`), and
what is left when streams are reset, for the store (`without_streams`) and for the destination
of a reset (`reset_states`). STREAM states go per stream; a GLOBAL state keeps its shared part
and the other streams' parts; a LEGACY state cannot be split.

A state is parsed once where it enters the relay (a connector's STATE line, the stored state)
and written back once where it leaves (the store, a destination's input). Undeclared fields
are kept at every level (in each object's `extra`) and written after the declared ones, in the
order the protocol declares those: what a source sent is what it gets back. The stored form
leaves out `sourceStats` and `destinationStats`: they count one emission, not the state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import msgspec

from server.protocol import (
    AirbyteGlobalState,
    AirbyteStateMessage,
    AirbyteStreamState,
    StateDescriptor,
    StreamDescriptor,
)
from server.sync.catalog import StreamKey

StateList = list[dict[str, Any]]
# What the functions here take: a typed message, or its wire form (parsed on the way in).
StateInput = AirbyteStateMessage | Mapping[str, Any]

StateKind = Literal["STREAM", "GLOBAL", "LEGACY"]
_KINDS: dict[Any, StateKind] = {"STREAM": "STREAM", "GLOBAL": "GLOBAL", "LEGACY": "LEGACY"}
_MESSAGE_KEYS = frozenset(("type", "stream", "global", "data", "sourceStats", "destinationStats"))
_STREAM_KEYS = frozenset(("stream_descriptor", "stream_state"))
_GLOBAL_KEYS = frozenset(("shared_state", "stream_states"))
_DESCRIPTOR_KEYS = frozenset(("name", "namespace"))


def canonical(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted")


# --- parsing --------------------------------------------------------------------------------


def _extra(raw: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    if known.issuperset(raw):  # the common case: nothing undeclared
        return {}
    return {k: v for k, v in raw.items() if k not in known}


# isinstance(.., dict), not Mapping, below: what is parsed came from JSON, and an ABC check
# costs several times as much on the path every state takes.


def _descriptor(raw: Any, strict: bool) -> StreamDescriptor:
    raw = raw if isinstance(raw, dict) else {}
    name = raw.get("name")
    if not isinstance(name, str):
        if strict:
            raise ValueError("a STREAM state without stream.stream_descriptor.name")
        name = "" if name is None else str(name)
    namespace = raw.get("namespace")
    namespace = namespace if isinstance(namespace, str) else None
    if _DESCRIPTOR_KEYS.issuperset(raw):
        return StreamDescriptor(name, namespace)
    return StateDescriptor(name, namespace, _extra(raw, _DESCRIPTOR_KEYS))


def _stream_state(raw: Any, strict: bool) -> AirbyteStreamState:
    raw = raw if isinstance(raw, dict) else {}
    return AirbyteStreamState(
        _descriptor(raw.get("stream_descriptor"), strict),
        raw.get("stream_state"),
        _extra(raw, _STREAM_KEYS),
    )


def _global_state(raw: dict[str, Any]) -> AirbyteGlobalState:
    states = raw.get("stream_states")
    return AirbyteGlobalState(
        [_stream_state(s, False) for s in states] if isinstance(states, list) else [],
        raw.get("shared_state"),
        _extra(raw, _GLOBAL_KEYS),
    )


def parse_state(message: Mapping[str, Any], strict: bool = False) -> AirbyteStateMessage:
    """A state message (a connector's, or a stored one) as the typed protocol message. An
    unknown `type` reads as LEGACY. Lenient by default (a stored state came from a connector or
    a client: a missing descriptor reads as the stream named ""); `strict` (a connector's
    STATE line) raises ValueError for a STREAM state without a stream name and for a GLOBAL
    state without `global`."""
    message = message if isinstance(message, dict) else dict(message)
    kind = message.get("type")
    kind = _KINDS.get(kind) if isinstance(kind, str) else None
    stream = message.get("stream")
    shared = message.get("global")
    if strict and kind == "STREAM" and not isinstance(stream, dict):
        raise ValueError("a STREAM state without stream.stream_descriptor.name")
    if strict and kind == "GLOBAL" and not isinstance(shared, dict):
        raise ValueError("a GLOBAL state without `global`")
    source_stats = message.get("sourceStats")
    destination_stats = message.get("destinationStats")
    return AirbyteStateMessage(
        kind,
        None if stream is None else _stream_state(stream, strict),
        message.get("data"),
        source_stats if isinstance(source_stats, dict) else None,
        destination_stats if isinstance(destination_stats, dict) else None,
        _global_state(shared) if isinstance(shared, dict) else None,
        _extra(message, _MESSAGE_KEYS),
    )


def as_state(state: StateInput, strict: bool = False) -> AirbyteStateMessage:
    return state if isinstance(state, AirbyteStateMessage) else parse_state(state, strict)


# The fast path of `decode_state`: the same messages without undeclared fields, decoded in C.
# One that has any (or breaks a rule) fails here and is parsed by `parse_state` instead.
class _Descriptor(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    namespace: str | None = None


class _Stream(msgspec.Struct, forbid_unknown_fields=True):
    stream_descriptor: _Descriptor
    stream_state: Any = None


class _Global(msgspec.Struct, forbid_unknown_fields=True):
    stream_states: list[_Stream]
    shared_state: Any = None


class _Message(msgspec.Struct, forbid_unknown_fields=True):
    type: StateKind | None = None
    stream: _Stream | None = None
    data: Any = None
    sourceStats: dict[str, Any] | None = None
    destinationStats: dict[str, Any] | None = None
    global_: _Global | None = msgspec.field(default=None, name="global")


_fast = msgspec.json.Decoder(_Message)


def _typed(stream: _Stream) -> AirbyteStreamState:
    descriptor = stream.stream_descriptor
    return AirbyteStreamState(
        StreamDescriptor(descriptor.name, descriptor.namespace), stream.stream_state
    )


def decode_state(raw: bytes | msgspec.Raw) -> AirbyteStateMessage:
    """A connector's STATE payload, parsed strictly (ValueError or a msgspec error if it is
    not a state message)."""
    try:
        fast = _fast.decode(raw)
    except msgspec.ValidationError:
        state = msgspec.json.decode(raw)
        if not isinstance(state, dict):
            raise ValueError("a state must be an object") from None
        return parse_state(state, strict=True)
    if fast.type == "STREAM" and fast.stream is None:
        raise ValueError("a STREAM state without stream.stream_descriptor.name")
    if fast.type == "GLOBAL" and fast.global_ is None:
        raise ValueError("a GLOBAL state without `global`")
    shared = fast.global_
    return AirbyteStateMessage(
        fast.type,
        None if fast.stream is None else _typed(fast.stream),
        fast.data,
        fast.sourceStats,
        fast.destinationStats,
        None
        if shared is None
        else AirbyteGlobalState([_typed(s) for s in shared.stream_states], shared.shared_state),
    )


# --- writing back ---------------------------------------------------------------------------


def descriptor_dict(descriptor: StreamDescriptor) -> dict[str, Any]:
    out: dict[str, Any] = {"name": descriptor.name}
    if descriptor.namespace is not None:
        out["namespace"] = descriptor.namespace
    if isinstance(descriptor, StateDescriptor):
        out.update(descriptor.extra)
    return out


def _stream_dict(stream: AirbyteStreamState) -> dict[str, Any]:
    out: dict[str, Any] = {"stream_descriptor": descriptor_dict(stream.stream_descriptor)}
    if stream.stream_state is not None:
        out["stream_state"] = stream.stream_state
    out.update(stream.extra)
    return out


def global_dict(shared: AirbyteGlobalState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if shared.shared_state is not None:
        out["shared_state"] = shared.shared_state
    out["stream_states"] = [_stream_dict(s) for s in shared.stream_states]
    out.update(shared.extra)
    return out


def wire_state(message: AirbyteStateMessage, stats: bool = True) -> dict[str, Any]:
    """The typed message as the protocol's JSON object: declared fields in the protocol's
    order, then the undeclared ones as they came; without the stats unless `stats`."""
    if message.type == "STREAM" and message.stream is not None:
        out: dict[str, Any] = {"type": "STREAM", "stream": _stream_dict(message.stream)}
    elif message.type == "GLOBAL" and message.global_ is not None:
        out = {"type": "GLOBAL", "global": global_dict(message.global_)}
    else:
        out = {"type": "LEGACY", "data": message.data}
    if stats:
        if message.sourceStats is not None:
            out["sourceStats"] = message.sourceStats
        if message.destinationStats is not None:
            out["destinationStats"] = message.destinationStats
    out.update(message.extra)
    return out


def unparse_state(message: AirbyteStateMessage) -> dict[str, Any]:
    """The typed message as the store keeps it and a source is given it."""
    return wire_state(message, stats=False)


def state_file(states: Iterable[StateInput]) -> bytes:
    """The `--state` file a source is given: the stored form of each message, as a list."""
    return msgspec.json.encode([unparse_state(as_state(s)) for s in states])


def state_line(message: AirbyteStateMessage) -> bytes:
    """A STATE message line (no newline) for a destination's input."""
    return msgspec.json.encode({"type": "STATE", "state": wire_state(message)})


# --- identity -------------------------------------------------------------------------------


def kind_of(message: AirbyteStateMessage) -> StateKind:
    return message.type or "LEGACY"


def key_of(stream: AirbyteStreamState) -> StreamKey:
    return (stream.stream_descriptor.name, stream.stream_descriptor.namespace)


def identity(message: AirbyteStateMessage) -> bytes:
    """What identifies a state when a destination echoes it (as Airbyte's StreamStatsTracker
    hashes it): the kind and `stream_state` for STREAM (the stream is the queue's key),
    `global` for GLOBAL, `data` for LEGACY; canonical, so key order does not matter."""
    kind = kind_of(message)
    if kind == "STREAM":
        stream = message.stream
        return canonical([kind, None if stream is None else stream.stream_state])
    if kind == "GLOBAL":
        shared = message.global_
        return canonical([kind, None if shared is None else global_dict(shared)])
    return canonical([kind, message.data])


# --- the connection's state -----------------------------------------------------------------


class ConnectionState:
    """The connection's full state: STREAM states merge per stream (a stream's state without
    `stream_state` resets it); GLOBAL and LEGACY replace the whole. Each message is turned into
    its stored form once, when it is applied."""

    def __init__(self, initial: Iterable[StateInput] = ()) -> None:
        self.kind: str | None = None
        self.streams: dict[StreamKey, AirbyteStateMessage] = {}
        self.whole: AirbyteStateMessage | None = None
        self._stored: dict[StreamKey | None, dict[str, Any]] = {}
        for state in initial:
            if isinstance(state, AirbyteStateMessage | Mapping):
                self.apply(as_state(state))

    def apply(self, message: AirbyteStateMessage) -> None:
        kind = kind_of(message)
        if kind != self.kind:
            self.kind, self.streams, self.whole, self._stored = kind, {}, None, {}
        if kind == "STREAM":
            stream = message.stream
            if stream is None:
                return
            key = key_of(stream)
            if stream.stream_state is None:
                self.streams.pop(key, None)  # a reset stream starts over
                self._stored.pop(key, None)
            else:
                self.streams[key] = message
                self._stored[key] = unparse_state(message)
        else:
            self.whole = message
            self._stored = {None: unparse_state(message)}

    def messages(self) -> list[AirbyteStateMessage]:
        if self.kind == "STREAM":
            return list(self.streams.values())
        return [self.whole] if self.whole is not None else []

    def stored(self) -> StateList:
        """The state as the store keeps it."""
        return list(self._stored.values())


# --- resets ---------------------------------------------------------------------------------


def _drop_key(descriptor: Mapping[str, Any]) -> StreamKey:
    return str(descriptor.get("name", "")), descriptor.get("namespace") or None


def _kept(stream: AirbyteStreamState, drop: set[StreamKey]) -> bool:
    name, namespace = key_of(stream)
    return (name, namespace or None) not in drop


def without_streams(state: Sequence[StateInput], streams: Iterable[Mapping[str, Any]]) -> StateList:
    """The state to store once these streams are reset (descriptors as a job names them).

    Per-stream states of those streams go; a global state keeps its shared part and the other
    streams' states unless none is left; a legacy state cannot be split, so it goes whole.
    """
    drop = {_drop_key(s) for s in streams}
    kept: StateList = []
    for message in map(as_state, state):
        kind = kind_of(message)
        if kind == "STREAM":
            if message.stream is not None and _kept(message.stream, drop):
                kept.append(unparse_state(message))
        elif kind == "GLOBAL" and message.global_ is not None:
            left = [s for s in message.global_.stream_states if _kept(s, drop)]
            if left:
                shared = msgspec.structs.replace(message.global_, stream_states=left)
                kept.append(unparse_state(msgspec.structs.replace(message, global_=shared)))
    return kept


def reset_states(input_state: Sequence[StateInput], streams: list[StreamKey]) -> StateList:
    """The states that say `streams` start over, in the shape the connection's state has."""
    current = ConnectionState(input_state)
    if current.kind == "LEGACY":
        return [{"type": "LEGACY", "data": {}}]  # one blob: it can only start over whole
    if current.kind == "GLOBAL" and current.whole is not None:
        whole = current.whole.global_ or AirbyteGlobalState(stream_states=[])
        kept = [s for s in whole.stream_states if key_of(s) not in streams]
        # The shared part goes with the last stream: nothing is left that it could resume.
        shared = msgspec.structs.replace(
            whole, stream_states=kept, shared_state=whole.shared_state if kept else None
        )
        return [unparse_state(AirbyteStateMessage(type="GLOBAL", global_=shared))]
    return [
        unparse_state(
            AirbyteStateMessage(
                type="STREAM",
                stream=AirbyteStreamState(stream_descriptor=StreamDescriptor(name, namespace)),
            )
        )
        for name, namespace in streams
    ]
