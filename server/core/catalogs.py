"""Every catalog conversion, in one place: the connector protocol's catalog (what `discover`
prints and `read` takes) <-> the API's catalog (stream + config), as Airbyte's CatalogConverter
does; the 2020 `syncSchema` <-> the modern `syncCatalog`; and the rules a stream selection must
follow before it is stored.

One name per concept here: `ApiCatalog`/`ApiStream` are the API's (camelCase, each stream with
its config; `server.models.connections`), `ProtocolCatalog`/`ProtocolStream` the connector
protocol's (snake_case; `server.protocol`), `ConfiguredAirbyteCatalog` what a sync runs.

The 2020 API described a stream as a flat list of typed fields, each `selected`, with one
`syncMode` for the whole connection. The modern API splits each stream into what the source
says (`stream`: name, JSON schema, supported modes, cursor and key hints) and what the user
chose (`config`). Sluice stores the modern form and derives the 2020 one for replies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

import msgspec

from server.core.errors import InvalidInput, Problem
from server.core.stream_mappers import check_mapping, has_mapping, with_mapper_ids
from server.models.connections import AirbyteCatalog as ApiCatalog
from server.models.connections import AirbyteStream as ApiStream
from server.models.connections import (
    AirbyteStreamAndConfiguration,
    AirbyteStreamConfiguration,
    DataType,
    DestinationSyncMode,
    SelectedFieldInfo,
    SourceSchema,
    SourceSchemaField,
    SourceSchemaStream,
    SyncMode,
)
from server.protocol import (
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    ProtocolCatalog,
    ProtocolStream,
)

# Where a rule about stream `i` points in the request: `path(i, "config.syncMode")`.
PathOf = Callable[[int, str], str]

_DEDUP: set[DestinationSyncMode] = {"append_dedup", "overwrite_dedup"}
_DATA_TYPES: dict[str, DataType] = {
    "string": "string",
    "number": "number",
    "integer": "number",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
}
# In the 2020 form the destination mode followed from the sync mode.
_DESTINATION_MODE: dict[SyncMode, DestinationSyncMode] = {
    "full_refresh": "overwrite",
    "incremental": "append",
}


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def modern_path(i: int, field: str) -> str:
    return f"syncCatalog.streams[{i}].{field}"


def early_path(i: int, field: str) -> str:
    # `config.syncMode` -> `syncMode`: the 2020 stream is flat.
    return f"syncSchema.streams[{i}].{flat_field(field)}"


def flat_field(field: str) -> str:
    """A stream's field without its part: `config.mappers[1].x` -> `mappers[1].x`."""
    head, _, rest = field.partition(".")
    return rest if rest and head in ("config", "stream") else field


def catalog_from_schema(
    schema: SourceSchema, sync_mode: SyncMode | None, discovered: ApiCatalog | None = None
) -> ApiCatalog:
    """The modern catalog for a 2020 `syncSchema` (and connection-level `syncMode`).

    A 2020 stream names its fields with a coarse `dataType` (no integer) and no primary key, so
    a stream the source's `discovered` catalog also has takes its stream part from there: the
    real JSON schema, key and cursor hints. Only what the user chose comes from the 2020 form.
    """
    found = {item.stream.name: item.stream for item in (discovered.streams if discovered else [])}
    streams = []
    for s in schema.streams:
        mode: SyncMode = s.sync_mode or sync_mode or "full_refresh"
        chosen = [f for f in s.fields if f.selected is not False]
        selected = (bool(chosen) or not s.fields) if s.selected is None else s.selected
        source_stream = found.get(s.name)
        if source_stream is not None:
            stream = source_stream
            names = list(_properties(stream))
            dropped = {f.name for f in s.fields if f.selected is False}
            picked = [name for name in names if name not in dropped]
            partial = selected and len(picked) < len(names)
        else:
            picked = [f.name for f in chosen]
            partial = selected and len(chosen) < len(s.fields)
            supported = s.supported_sync_modes or (
                ["full_refresh", "incremental"] if mode == "incremental" else ["full_refresh"]
            )
            stream = ApiStream(
                name=s.name,
                json_schema={
                    "type": "object",
                    "properties": {f.name: {"type": f.data_type} for f in s.fields},
                },
                supported_sync_modes=list(supported),
                source_defined_cursor=s.source_defined_cursor,
                default_cursor_field=s.default_cursor_field,
            )
        config = AirbyteStreamConfiguration(
            sync_mode=mode,
            destination_sync_mode=_DESTINATION_MODE[mode],
            cursor_field=s.cursor_field,
            primary_key=stream.source_defined_primary_key or None,
            alias_name=s.cleaned_name or s.name,
            selected=selected,
            field_selection_enabled=True if partial else None,
            selected_fields=[SelectedFieldInfo(field_path=[name]) for name in picked]
            if partial
            else None,
        )
        streams.append(AirbyteStreamAndConfiguration(stream=stream, config=config))
    return ApiCatalog(streams=streams)


def _properties(stream: ApiStream) -> dict[str, Any]:
    properties = (stream.json_schema or stream.json_schema_snake or {}).get("properties")
    return properties if isinstance(properties, dict) else {}


def _data_type(prop: Any) -> DataType:
    kind = prop.get("type") if isinstance(prop, dict) else None
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return _DATA_TYPES.get(kind, "string") if isinstance(kind, str) else "string"


def schema_from_catalog(catalog: ApiCatalog) -> SourceSchema:
    """The 2020 `syncSchema` view of a stored (normalized) catalog."""
    streams = []
    for item in catalog.streams:
        stream, config = item.stream, item.config
        assert config is not None  # normalize_catalog fills it
        properties = _properties(stream)
        picked: set[str] | None = None
        if config.field_selection_enabled and config.selected_fields is not None:
            picked = {f.field_path[0] for f in config.selected_fields if f.field_path}
        fields = [
            SourceSchemaField(
                name=name,
                cleaned_name=name,
                data_type=_data_type(prop),
                selected=bool(config.selected) and (picked is None or name in picked),
            )
            for name, prop in properties.items()
        ]
        streams.append(
            SourceSchemaStream(
                name=stream.name,
                cleaned_name=config.alias_name or stream.name,
                fields=fields,
                supported_sync_modes=stream.supported_sync_modes,
                source_defined_cursor=stream.source_defined_cursor,
                default_cursor_field=stream.default_cursor_field,
                cursor_field=config.cursor_field,
                sync_mode=config.sync_mode,
                selected=bool(config.selected),
            )
        )
    return SourceSchema(streams=streams)


def connection_sync_mode(catalog: ApiCatalog) -> SyncMode | None:
    """The 2020 connection-level `syncMode`: the mode all selected streams share, if any."""
    modes = {i.config.sync_mode for i in catalog.streams if i.config and i.config.selected}
    return modes.pop() if len(modes) == 1 else None


def _config_when_unsent(stream: ApiStream) -> AirbyteStreamConfiguration:
    supported = stream.supported_sync_modes or ["full_refresh"]
    mode: SyncMode = "full_refresh" if "full_refresh" in supported else supported[0]
    return AirbyteStreamConfiguration(
        sync_mode=mode, destination_sync_mode=_DESTINATION_MODE[mode], selected=True
    )


def normalize_catalog(catalog: ApiCatalog, path: PathOf = modern_path) -> ApiCatalog:
    """Check every selected stream and fill what follows from the source's hints (default
    cursor, source-defined primary key). Raises InvalidInput naming each offending property."""
    errors: list[Problem] = []

    def fail(i: int, field: str, value: Any, message: str) -> None:
        shown = value if value is None or isinstance(value, str) else _json(value)
        errors.append(Problem(property_path=path(i, field), invalid_value=shown, message=message))

    seen: set[tuple[str | None, str]] = set()
    streams = []
    for i, item in enumerate(catalog.streams):
        stream = item.stream
        if stream.json_schema is None and stream.json_schema_snake is not None:
            stream = msgspec.structs.replace(
                stream, json_schema=stream.json_schema_snake, json_schema_snake=None
            )
        config = item.config or _config_when_unsent(stream)
        if config.selected is None:
            # A stream sent without `selected` is meant to sync; say so explicitly, since
            # clients decide "enabled" by `selected == true`.
            config = msgspec.structs.replace(config, selected=True)
        key = (stream.namespace, stream.name)
        if key in seen:
            fail(i, "stream.name", stream.name, f"Stream '{stream.name}' appears twice")
        seen.add(key)
        config = with_mapper_ids(config)
        if config.selected:
            config = _check_stream(i, stream, config, fail)
            if has_mapping(config):
                check_mapping(i, stream, config, fail)
        streams.append(AirbyteStreamAndConfiguration(stream=stream, config=config))
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)
    return ApiCatalog(streams=streams)


def _check_stream(
    i: int,
    stream: ApiStream,
    config: AirbyteStreamConfiguration,
    fail: Callable[[int, str, Any, str], None],
) -> AirbyteStreamConfiguration:
    name = stream.name
    if stream.supported_sync_modes and config.sync_mode not in stream.supported_sync_modes:
        fail(
            i,
            "config.syncMode",
            config.sync_mode,
            f"Stream '{name}' does not support sync mode '{config.sync_mode}' "
            f"(supported: {', '.join(stream.supported_sync_modes)})",
        )
    if config.sync_mode == "incremental" and not stream.source_defined_cursor:
        cursor = config.cursor_field or stream.default_cursor_field
        if not cursor or not all(cursor):
            fail(
                i,
                "config.cursorField",
                config.cursor_field,
                f"Stream '{name}' is incremental and needs a cursor field",
            )
        else:
            config = msgspec.structs.replace(config, cursor_field=cursor)
    if config.destination_sync_mode in _DEDUP:
        key = config.primary_key or stream.source_defined_primary_key
        if not key or not all(key) or not all(all(part) for part in key):
            fail(
                i,
                "config.primaryKey",
                config.primary_key,
                f"Stream '{name}' uses {config.destination_sync_mode} and needs a primary key",
            )
        else:
            config = msgspec.structs.replace(config, primary_key=key)
    return config


# Protocol <-> API.

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9_]")
_SPACE = re.compile(r"\s")
_SYNC_MODES: dict[str, SyncMode] = {"full_refresh": "full_refresh", "incremental": "incremental"}
# The protocol has no overwrite_dedup: it is append_dedup over a truncated table.
_PROTOCOL_DESTINATION_MODE = {"overwrite_dedup": "append_dedup"}


def alias_name(name: str) -> str:
    """Airbyte's Names.toAlphanumericAndUnderscore: accents dropped, the rest to `_`."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("_", _SPACE.sub("_", plain))


def api_stream(stream: ProtocolStream) -> ApiStream:
    modes = [_SYNC_MODES[m] for m in stream.supported_sync_modes if m in _SYNC_MODES]
    return ApiStream(
        name=stream.name,
        json_schema=stream.json_schema,
        supported_sync_modes=modes,
        source_defined_cursor=stream.source_defined_cursor,
        default_cursor_field=stream.default_cursor_field,
        source_defined_primary_key=stream.source_defined_primary_key,
        namespace=stream.namespace,
        is_resumable=stream.is_resumable,
    )


def suggested_config(stream: ApiStream) -> AirbyteStreamConfiguration:
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


def api_catalog(catalog: ProtocolCatalog) -> ApiCatalog:
    """A discovered catalog as the API shows it, each stream with its default config."""
    streams = []
    for protocol_stream in catalog.streams:
        stream = api_stream(protocol_stream)
        streams.append(
            AirbyteStreamAndConfiguration(stream=stream, config=suggested_config(stream))
        )
    return ApiCatalog(streams=streams)


def protocol_stream(stream: ApiStream) -> ProtocolStream:
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


def configured_catalog(catalog: ApiCatalog) -> ConfiguredAirbyteCatalog:
    """The catalog a `read`/`write` takes: the selected streams with their chosen modes.

    The cursor falls back to the source's default and the key to the source-defined one.
    """
    streams = []
    for item in catalog.streams:
        config = item.config or suggested_config(item.stream)
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
