"""Catalog and state helpers that sources share: which streams a configured catalog asks for,
and the per-stream state a `--state` file holds."""

from __future__ import annotations

from typing import Any

import msgspec

from sluice_connectors.entrypoint import ConfigError

StreamKey = tuple[str | None, str]  # (namespace, name)


class ConfiguredStream(msgspec.Struct, frozen=True):
    """The parts of a ConfiguredAirbyteStream a source needs."""

    name: str
    namespace: str | None
    sync_mode: str
    cursor_field: list[str]
    primary_key: list[list[str]]

    @property
    def key(self) -> StreamKey:
        return (self.namespace, self.name)

    @property
    def incremental(self) -> bool:
        return self.sync_mode == "incremental"


def configured_streams(catalog: dict[str, Any]) -> list[ConfiguredStream]:
    """The streams of a ConfiguredAirbyteCatalog, in catalog order."""
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        raise ConfigError("the configured catalog must be an object with a `streams` list")
    result = []
    for entry in catalog["streams"]:
        stream = entry.get("stream") if isinstance(entry, dict) else None
        if not isinstance(stream, dict) or not isinstance(stream.get("name"), str):
            raise ConfigError("each configured stream needs `stream.name`")
        sync_mode = entry.get("sync_mode", "full_refresh")
        if sync_mode not in ("full_refresh", "incremental"):
            raise ConfigError(f"stream {stream['name']!r}: unknown sync_mode {sync_mode!r}")
        result.append(
            ConfiguredStream(
                name=stream["name"],
                namespace=stream.get("namespace"),
                sync_mode=sync_mode,
                cursor_field=list(entry.get("cursor_field") or []),
                primary_key=list(entry.get("primary_key") or []),
            )
        )
    return result


def stream_states(states: list[dict[str, Any]]) -> dict[StreamKey, Any]:
    """The latest `stream_state` per stream from a list of AirbyteStateMessages.

    STREAM and GLOBAL states map by stream descriptor. LEGACY state (`data`) is read as
    Airbyte's old sources wrote it: one object keyed by stream name."""
    result: dict[StreamKey, Any] = {}
    for state in states:
        if not isinstance(state, dict):
            continue
        kind = state.get("type") or "LEGACY"
        if kind == "STREAM":
            _add_stream_state(result, state.get("stream"))
        elif kind == "GLOBAL":
            for stream_state in (state.get("global") or {}).get("stream_states") or []:
                _add_stream_state(result, stream_state)
        elif kind == "LEGACY" and isinstance(state.get("data"), dict):
            for name, value in state["data"].items():
                result[(None, name)] = value
    return result


def _add_stream_state(result: dict[StreamKey, Any], stream: Any) -> None:
    if not isinstance(stream, dict):
        return
    descriptor = stream.get("stream_descriptor") or {}
    if isinstance(descriptor.get("name"), str):
        result[(descriptor.get("namespace"), descriptor["name"])] = stream.get("stream_state")


def state_for(states: dict[StreamKey, Any], stream: ConfiguredStream) -> Any:
    """A stream's saved state; a state saved without a namespace matches too."""
    if stream.key in states:
        return states[stream.key]
    return states.get((None, stream.name))


def stream_state_message(
    stream: ConfiguredStream, stream_state: dict[str, Any], record_count: int
) -> dict[str, Any]:
    """A STREAM AirbyteStateMessage; `sourceStats.recordCount` counts the records emitted for
    this stream since its previous state, as Airbyte's sources report it."""
    descriptor: dict[str, Any] = {"name": stream.name}
    if stream.namespace:
        descriptor["namespace"] = stream.namespace
    return {
        "type": "STREAM",
        "stream": {"stream_descriptor": descriptor, "stream_state": stream_state},
        "sourceStats": {"recordCount": float(record_count)},
    }
