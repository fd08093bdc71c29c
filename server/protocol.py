"""Airbyte protocol messages, as far as the control plane needs to look inside them.

Connector output is one JSON message per line. The relay decodes each line with `Envelope`:
the record's `data`, and the state, log and trace payloads stay `msgspec.Raw` (undecoded
bytes), so a record costs one shallow parse and is forwarded as its original bytes. The
typed payloads below are decoded only where the control plane acts on them.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


# gc=False: these hold only strings and Raw bytes, so they cannot form reference cycles, and
# the relay creates millions of them (untracked: measured ~35% faster block decoding).
class RecordEnvelope(msgspec.Struct, gc=False):
    stream: str
    data: msgspec.Raw
    namespace: str | None = None


# msgspec cannot decode `Raw | None` (it rejects any non-null value), so an absent payload is
# the empty Raw, which is falsy: test payloads with `if env.state:`.
ABSENT = msgspec.Raw()


class Envelope(msgspec.Struct, gc=False):
    """Any message; only the field named by `type` is set. Unknown fields are ignored."""

    type: str
    record: RecordEnvelope | None = None
    state: msgspec.Raw = ABSENT
    log: msgspec.Raw = ABSENT
    trace: msgspec.Raw = ABSENT
    spec: msgspec.Raw = ABSENT
    connectionStatus: msgspec.Raw = ABSENT
    catalog: msgspec.Raw = ABSENT
    control: msgspec.Raw = ABSENT


envelope_decoder = msgspec.json.Decoder(Envelope)

# What decoding a connector's line may raise: msgspec's errors, and RecursionError for JSON
# nested deeper than msgspec's recursion limit (about 1,000 levels), which a connector can
# print as easily as any other garbage. Catch this tuple, never msgspec.DecodeError alone.
UNREADABLE = (msgspec.DecodeError, RecursionError)
# The same, plus the ValueError of a payload that decodes but breaks a rule of its model.
MALFORMED = (msgspec.DecodeError, RecursionError, ValueError)


# --- Typed payloads -------------------------------------------------------------------------


class StreamDescriptor(msgspec.Struct, omit_defaults=True):
    name: str
    namespace: str | None = None


# The state classes below are built by `server.sync.states.parse_state`, never decoded
# directly: it keeps each object's undeclared fields (the protocol allows them: an `id`, a
# platform's own keys) in `extra`, in the order they came, and `unparse_state` writes them
# back after the declared ones, so a state reaches the store and the source as it was sent.


class StateDescriptor(StreamDescriptor, omit_defaults=True):
    """A state's stream descriptor that came with undeclared fields (rare: a plain
    StreamDescriptor otherwise)."""

    extra: dict[str, Any] = msgspec.field(default_factory=dict)


class AirbyteStreamState(msgspec.Struct, omit_defaults=True):
    stream_descriptor: StreamDescriptor
    stream_state: Any = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)


class AirbyteGlobalState(msgspec.Struct, omit_defaults=True):
    stream_states: list[AirbyteStreamState]
    shared_state: Any = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)


class AirbyteStateMessage(msgspec.Struct, omit_defaults=True):
    """`type` absent means LEGACY (the whole state in `data`)."""

    type: Literal["STREAM", "GLOBAL", "LEGACY"] | None = None
    stream: AirbyteStreamState | None = None
    data: Any = None
    sourceStats: dict[str, Any] | None = None
    destinationStats: dict[str, Any] | None = None
    # `global` is a Python keyword: rename on the wire.
    global_: AirbyteGlobalState | None = msgspec.field(default=None, name="global")
    extra: dict[str, Any] = msgspec.field(default_factory=dict)


class AirbyteLogMessage(msgspec.Struct):
    level: str
    message: str
    stack_trace: str | None = None


class AirbyteErrorTraceMessage(msgspec.Struct, omit_defaults=True):
    message: str
    internal_message: str | None = None
    stack_trace: str | None = None
    failure_type: str | None = None
    stream_descriptor: StreamDescriptor | None = None


class AirbyteStreamStatus(msgspec.Struct, omit_defaults=True):
    stream_descriptor: StreamDescriptor
    status: str


class AirbyteEstimate(msgspec.Struct, omit_defaults=True):
    name: str
    type: str
    namespace: str | None = None
    row_estimate: int | None = None
    byte_estimate: int | None = None


class AirbyteTraceMessage(msgspec.Struct, omit_defaults=True):
    type: str
    emitted_at: float = 0
    error: AirbyteErrorTraceMessage | None = None
    stream_status: AirbyteStreamStatus | None = None
    estimate: AirbyteEstimate | None = None


class ConnectorSpecification(msgspec.Struct, omit_defaults=True):
    connectionSpecification: dict[str, Any]
    documentationUrl: str | None = None
    changelogUrl: str | None = None
    supportsIncremental: bool | None = None
    supportsNormalization: bool | None = None
    supportsDBT: bool | None = None
    supported_destination_sync_modes: list[str] | None = None
    advanced_auth: dict[str, Any] | None = None
    protocol_version: str | None = None


class AirbyteConnectionStatus(msgspec.Struct, omit_defaults=True):
    status: Literal["SUCCEEDED", "FAILED"]
    message: str | None = None


class ProtocolStream(msgspec.Struct, omit_defaults=True):
    """A stream as the Airbyte protocol carries it (`AirbyteStream` there; the configuration
    API's wire model keeps that name, server.models.connections)."""

    name: str
    json_schema: dict[str, Any]
    supported_sync_modes: list[str] = msgspec.field(default_factory=lambda: ["full_refresh"])
    source_defined_cursor: bool | None = None
    default_cursor_field: list[str] | None = None
    source_defined_primary_key: list[list[str]] | None = None
    namespace: str | None = None
    is_resumable: bool | None = None


class ProtocolCatalog(msgspec.Struct):
    """A catalog as a source's `discover` sends it (the protocol's `AirbyteCatalog`)."""

    streams: list[ProtocolStream]


class ConfiguredAirbyteStream(msgspec.Struct, omit_defaults=True):
    stream: ProtocolStream
    sync_mode: Literal["full_refresh", "incremental"]
    destination_sync_mode: Literal["append", "overwrite", "append_dedup", "update", "soft_delete"]
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None
    generation_id: int | None = None
    minimum_generation_id: int | None = None
    sync_id: int | None = None


class ConfiguredAirbyteCatalog(msgspec.Struct):
    streams: list[ConfiguredAirbyteStream]


def decode_payload(raw: msgspec.Raw | None, model: type[Any]) -> Any:
    """Decode one Raw payload of an Envelope into its typed model (None when absent)."""
    if not raw:
        return None
    return msgspec.json.decode(raw, type=model)
