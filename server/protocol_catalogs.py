"""Catalogs between the connector protocol (snake_case, what `discover` prints and `read`
takes) and the API (camelCase, stream + config), as Airbyte's CatalogConverter does."""

from __future__ import annotations

import re
import unicodedata

from server.models.connections import (
    AirbyteCatalog,
    AirbyteStream,
    AirbyteStreamAndConfiguration,
    AirbyteStreamConfiguration,
    SyncMode,
)
from server.protocol import AirbyteCatalog as ProtocolCatalog
from server.protocol import AirbyteStream as ProtocolStream
from server.protocol import ConfiguredAirbyteCatalog, ConfiguredAirbyteStream

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9_]")
_SPACE = re.compile(r"\s")
_SYNC_MODES: dict[str, SyncMode] = {"full_refresh": "full_refresh", "incremental": "incremental"}
# The protocol has no overwrite_dedup: it is append_dedup over a truncated table.
_PROTOCOL_DESTINATION_MODE = {"overwrite_dedup": "append_dedup"}


def alias_name(name: str) -> str:
    """Airbyte's Names.toAlphanumericAndUnderscore: accents dropped, the rest to `_`."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("_", _SPACE.sub("_", plain))


def api_stream(stream: ProtocolStream) -> AirbyteStream:
    modes = [_SYNC_MODES[m] for m in stream.supported_sync_modes if m in _SYNC_MODES]
    return AirbyteStream(
        name=stream.name,
        json_schema=stream.json_schema,
        supported_sync_modes=modes,
        source_defined_cursor=stream.source_defined_cursor,
        default_cursor_field=stream.default_cursor_field,
        source_defined_primary_key=stream.source_defined_primary_key,
        namespace=stream.namespace,
        is_resumable=stream.is_resumable,
    )


def default_config(stream: AirbyteStream) -> AirbyteStreamConfiguration:
    """What Airbyte suggests for a freshly discovered stream: selected, the first supported
    sync mode, append, the source's default cursor and primary key."""
    modes = stream.supported_sync_modes or []
    return AirbyteStreamConfiguration(
        sync_mode=modes[0] if modes else "incremental",
        destination_sync_mode="append",
        cursor_field=stream.default_cursor_field or [],
        primary_key=stream.source_defined_primary_key or [],
        alias_name=alias_name(stream.name),
        selected=True,
        suggested=True,
    )


def api_catalog(catalog: ProtocolCatalog) -> AirbyteCatalog:
    """A discovered catalog as the API shows it, each stream with its default config."""
    streams = []
    for protocol_stream in catalog.streams:
        stream = api_stream(protocol_stream)
        streams.append(AirbyteStreamAndConfiguration(stream=stream, config=default_config(stream)))
    return AirbyteCatalog(streams=streams)


def protocol_stream(stream: AirbyteStream) -> ProtocolStream:
    return ProtocolStream(
        name=stream.name,
        json_schema=stream.json_schema or stream.json_schema_snake or {},
        supported_sync_modes=list(stream.supported_sync_modes or ["full_refresh"]),
        source_defined_cursor=stream.source_defined_cursor,
        default_cursor_field=stream.default_cursor_field,
        source_defined_primary_key=stream.source_defined_primary_key,
        namespace=stream.namespace,
        is_resumable=stream.is_resumable,
    )


def configured_catalog(catalog: AirbyteCatalog) -> ConfiguredAirbyteCatalog:
    """The catalog a `read`/`write` takes: the selected streams with their chosen modes.

    The cursor falls back to the source's default and the key to the source-defined one.
    """
    streams = []
    for item in catalog.streams:
        config = item.config or default_config(item.stream)
        if config.selected is False:
            continue
        stream = item.stream
        destination_mode = _PROTOCOL_DESTINATION_MODE.get(
            config.destination_sync_mode, config.destination_sync_mode
        )
        streams.append(
            ConfiguredAirbyteStream(
                stream=protocol_stream(stream),
                sync_mode=config.sync_mode,
                destination_sync_mode=destination_mode,  # type: ignore[arg-type]
                cursor_field=config.cursor_field or stream.default_cursor_field or None,
                primary_key=config.primary_key or stream.source_defined_primary_key or None,
            )
        )
    return ConfiguredAirbyteCatalog(streams=streams)
