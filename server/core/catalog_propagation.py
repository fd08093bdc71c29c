"""Schema changes applied to a catalog: the streams a propagation updates, adds and drops,
and the catalog a client reviews after a refresh (see `server.core.schema_changes`)."""

from __future__ import annotations

import msgspec

from server.core.catalogs import suggested_config
from server.models.connections import (
    AirbyteCatalog,
    AirbyteStream,
    AirbyteStreamAndConfiguration,
    AirbyteStreamConfiguration,
    SelectedFieldInfo,
)
from server.models.discover import CatalogDiff

StreamKey = tuple[str, str | None]


def _key(stream: AirbyteStream) -> StreamKey:
    return (stream.name, stream.namespace)


def _top_level_fields(stream: AirbyteStream) -> set[str]:
    schema = stream.json_schema or stream.json_schema_snake or {}
    properties = schema.get("properties")
    return set(properties) if isinstance(properties, dict) else set()


def _carried_config(
    config: AirbyteStreamConfiguration | None, stream: AirbyteStream, added: list[str]
) -> AirbyteStreamConfiguration | None:
    """The stream's own config on its new schema: a field selection keeps the fields that are
    still there and takes the new top-level ones (Airbyte's propagation selects them)."""
    if config is None or not config.field_selection_enabled:
        return config
    present = _top_level_fields(stream)
    kept = [f for f in config.selected_fields or [] if f.field_path and f.field_path[0] in present]
    known = {f.field_path[0] for f in kept}
    kept += [SelectedFieldInfo(field_path=[name]) for name in added if name not in known]
    return msgspec.structs.replace(config, selected_fields=kept)


def new_stream_config(stream: AirbyteStream) -> AirbyteStreamConfiguration:
    """A stream `propagate_fully` adds: selected, with the modes Airbyte's
    configureDefaultSyncModesForNewStream picks (dedup on a source-defined cursor and key,
    else full refresh into overwrite unless the source supports only incremental)."""
    config = msgspec.structs.replace(suggested_config(stream), selected=True)
    modes = stream.supported_sync_modes or []
    if stream.source_defined_cursor and stream.source_defined_primary_key:
        return msgspec.structs.replace(
            config,
            sync_mode="incremental",
            destination_sync_mode="append_dedup",
            primary_key=stream.source_defined_primary_key,
        )
    if stream.source_defined_cursor and "full_refresh" not in modes:
        return msgspec.structs.replace(
            config, sync_mode="incremental", destination_sync_mode="append"
        )
    return msgspec.structs.replace(
        config, sync_mode="full_refresh", destination_sync_mode="overwrite"
    )


def propagate(
    current: AirbyteCatalog, discovered: AirbyteCatalog, diff: CatalogDiff, fully: bool
) -> AirbyteCatalog:
    """`current` with the diff applied: updated streams take their discovered schema; with
    `fully`, added streams are added and removed ones dropped."""
    found = {_key(s.stream): s.stream for s in discovered.streams}
    streams = list(current.streams)
    position = {_key(s.stream): i for i, s in enumerate(streams)}
    dropped: set[StreamKey] = set()
    for transform in diff.transforms:
        key = (transform.stream_descriptor.name, transform.stream_descriptor.namespace)
        if transform.transform_type == "update_stream" and key in position and key in found:
            added = [
                f.field_name[0]
                for f in (
                    transform.update_stream.field_transforms if transform.update_stream else []
                )
                if f.transform_type == "add_field" and len(f.field_name) == 1
            ]
            i = position[key]
            streams[i] = AirbyteStreamAndConfiguration(
                stream=found[key], config=_carried_config(streams[i].config, found[key], added)
            )
        elif fully and transform.transform_type == "add_stream" and key in found:
            streams.append(
                AirbyteStreamAndConfiguration(
                    stream=found[key], config=new_stream_config(found[key])
                )
            )
        elif fully and transform.transform_type == "remove_stream":
            dropped.add(key)
    return AirbyteCatalog(streams=[s for s in streams if _key(s.stream) not in dropped])


def refreshed(current: AirbyteCatalog, discovered: AirbyteCatalog) -> AirbyteCatalog:
    """The catalog a client reviews after a refresh: the discovered streams, each with the
    connection's config where it has the stream (new streams come unselected, with the
    suggested config; streams the source no longer has are gone)."""
    configs = {_key(s.stream): s.config for s in current.streams}
    streams = []
    for item in discovered.streams:
        key = _key(item.stream)
        if key in configs:
            config = _carried_config(configs[key], item.stream, [])
        else:
            config = msgspec.structs.replace(suggested_config(item.stream), selected=False)
        streams.append(AirbyteStreamAndConfiguration(stream=item.stream, config=config))
    return AirbyteCatalog(streams=streams)
