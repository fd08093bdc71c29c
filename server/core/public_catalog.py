"""A connection's catalog built from stream choices, as Airbyte's public API builds it: from the
source's discovered catalog, each chosen stream checked against what the source says of it and
what the destination can write, then through the connection rules every face follows
(`catalogs.normalize_catalog`).

- Without choices, every discovered stream is selected in the first mode of `DEFAULT_MODES`
  that the stream and the destination support and the source's hints make valid (a cursor for
  incremental, a key for dedup); a stream with no such mode is kept unselected.
- With choices, exactly those streams: an unknown or twice-named stream, a mode the stream or
  the destination lacks, a cursor or key the source defines otherwise or the schema lacks is
  InvalidInput naming the choice (`path(i, field)`).
- A field selection names top-level fields; a partial one is stored as the config API stores
  it (`fieldSelectionEnabled`, `selectedFields`, added by the face with the stream's mappers)
  and checked by server.mappers when the connection is saved (the cursor and primary key are
  always kept, as Airbyte does).

Modes are the config API's (sync mode, destination sync mode) pairs; a face names them in its
own words through `label` (the public API's `full_refresh_overwrite` ...).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from server.context import Context
from server.core import catalogs, discover, specifications
from server.core.catalogs import PathOf
from server.core.errors import InvalidInput, Refused
from server.models.connections import AirbyteCatalog as ApiCatalog
from server.models.connections import AirbyteStream as ApiStream
from server.models.connections import (
    AirbyteStreamAndConfiguration,
    AirbyteStreamConfiguration,
    DestinationSyncMode,
    SyncMode,
)

Mode = tuple[SyncMode, DestinationSyncMode]
Label = Callable[[Mode], str]

# What a stream sent without a mode gets: the first one it can take (Airbyte's public API
# takes full refresh + overwrite, which a stream without full refresh cannot).
DEFAULT_MODES: list[Mode] = [
    ("full_refresh", "overwrite"),
    ("full_refresh", "append"),
    ("incremental", "append"),
    ("incremental", "append_dedup"),
]
_DEDUP = {"append_dedup", "overwrite_dedup"}


class StreamChoice(msgspec.Struct, frozen=True, kw_only=True):
    """One stream a client asks for; None is "not given" (the source's default)."""

    name: str
    namespace: str | None = None
    mode: Mode | None = None
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None
    selected_fields: list[list[str]] | None = None


class Discovered(msgspec.Struct, frozen=True):
    catalog: ApiCatalog
    catalog_id: uuid.UUID | None


async def discovered_catalog(
    ctx: Context, source_id: uuid.UUID, use_cache: bool = True
) -> Discovered:
    """The source's discovered catalog (cached per configuration); Refused when discover fails,
    with the connector's reason."""
    discovery = await discover.discover_source(ctx, source_id, use_cache=use_cache)
    if discovery.catalog is None:
        failure = discovery.job_info.failure_reason
        reason = failure.external_message if failure is not None else None
        raise Refused(f"Could not discover the streams of source {source_id}: {reason or ''}")
    return Discovered(catalogs.api_catalog(discovery.catalog), discovery.catalog_id)


async def destination_modes(ctx: Context, destination_id: uuid.UUID) -> list[DestinationSyncMode]:
    """What the destination's spec says it can write (NotFound for a missing destination)."""
    spec = await specifications.destination_specification(ctx, destination_id)
    return list(spec.supported_destination_sync_modes)


def modes_of(stream: ApiStream, writable: list[DestinationSyncMode] | None) -> list[Mode]:
    """Every pair the stream can read and the destination (None: any) can write."""
    reads: list[SyncMode] = list(stream.supported_sync_modes or ["full_refresh"])
    writes: list[DestinationSyncMode] = list(
        writable
        if writable is not None
        else ("overwrite", "append", "append_dedup", "overwrite_dedup", "update", "soft_delete")
    )
    return [(r, w) for r in reads for w in writes]


def field_paths(schema: dict[str, Any] | None) -> list[list[str]]:
    """Every property path of a JSON schema, nested ones after their parent."""
    found: list[list[str]] = []
    properties = (schema or {}).get("properties")
    if not isinstance(properties, dict):
        return found
    for name, sub in properties.items():
        found.append([name])
        if isinstance(sub, dict):
            found += [[name, *rest] for rest in field_paths(sub)]
    return found


def _fits(stream: ApiStream, mode: Mode) -> bool:
    """The source's own hints make `mode` valid: a cursor for incremental, a key for dedup."""
    if mode[0] == "incremental" and not (
        stream.source_defined_cursor or stream.default_cursor_field
    ):
        return False
    return not (mode[1] in _DEDUP and not stream.source_defined_primary_key)


def default_mode(stream: ApiStream, writable: list[DestinationSyncMode] | None) -> Mode | None:
    possible = modes_of(stream, writable)
    return next((m for m in DEFAULT_MODES if m in possible and _fits(stream, m)), None)


def _config(
    item: AirbyteStreamAndConfiguration, mode: Mode, choice: StreamChoice | None
) -> AirbyteStreamConfiguration:
    suggested = item.config or catalogs.suggested_config(item.stream)
    stream = item.stream
    cursor = (choice.cursor_field if choice else None) or stream.default_cursor_field or None
    key = (choice.primary_key if choice else None) or stream.source_defined_primary_key or None
    return AirbyteStreamConfiguration(
        sync_mode=mode[0],
        destination_sync_mode=mode[1],
        cursor_field=cursor,
        primary_key=key,
        alias_name=suggested.alias_name,
        selected=True,
    )


def _all_streams(discovered: ApiCatalog, writable: list[DestinationSyncMode] | None) -> ApiCatalog:
    streams = []
    for item in discovered.streams:
        mode = default_mode(item.stream, writable)
        if mode is None:
            config = msgspec.structs.replace(_config(item, DEFAULT_MODES[0], None), selected=False)
        else:
            config = _config(item, mode, None)
        streams.append(AirbyteStreamAndConfiguration(stream=item.stream, config=config))
    return ApiCatalog(streams=streams)


def _find(
    discovered: ApiCatalog, choice: StreamChoice, fail: Callable[[str, Any, str], None]
) -> AirbyteStreamAndConfiguration | None:
    named = [i for i in discovered.streams if i.stream.name == choice.name]
    if len(named) > 1:
        named = [i for i in named if i.stream.namespace == choice.namespace]
    if len(named) == 1:
        return named[0]
    where = f" in namespace '{choice.namespace}'" if choice.namespace else ""
    known = ", ".join(sorted({i.stream.name for i in discovered.streams})) or "none"
    fail("name", choice.name, f"The source has no stream '{choice.name}'{where} (it has: {known})")
    return None


def _check_choice(
    stream: ApiStream,
    choice: StreamChoice,
    mode: Mode,
    fail: Callable[[str, Any, str], None],
) -> None:
    fields = field_paths(stream.json_schema)
    if stream.source_defined_cursor and choice.cursor_field:
        if choice.cursor_field != stream.default_cursor_field:
            fail(
                "cursorField",
                choice.cursor_field,
                f"Stream '{stream.name}' has a cursor the source defines "
                f"({stream.default_cursor_field}); leave cursorField out",
            )
    elif choice.cursor_field and fields and choice.cursor_field not in fields:
        fail("cursorField", choice.cursor_field, f"Stream '{stream.name}' has no such field")
    defined = stream.source_defined_primary_key
    if defined and choice.primary_key and choice.primary_key != defined:
        fail(
            "primaryKey",
            choice.primary_key,
            f"Stream '{stream.name}' has a primary key the source defines ({defined}); "
            "leave primaryKey out",
        )
    elif choice.primary_key and fields:
        unknown = [k for k in choice.primary_key if k not in fields]
        if unknown:
            fail(
                "primaryKey",
                choice.primary_key,
                f"Stream '{stream.name}' has no field {unknown[0]}",
            )
    if choice.selected_fields is not None:
        top = [f[0] for f in fields if len(f) == 1]
        picked = [p[0] for p in choice.selected_fields if len(p) == 1]
        if len(picked) != len(choice.selected_fields) or set(picked) - set(top):
            fail(
                "selectedFields",
                choice.selected_fields,
                f"Stream '{stream.name}': only its top-level fields can be selected",
            )


def chosen_catalog(
    discovered: ApiCatalog,
    choices: list[StreamChoice] | None,
    writable: list[DestinationSyncMode] | None,
    path: PathOf,
    label: Label,
) -> ApiCatalog:
    """The catalog to store: every stream in a default mode (no `choices`), else exactly the
    chosen streams, each checked; InvalidInput names each offending choice."""
    if choices is None:
        return catalogs.normalize_catalog(_all_streams(discovered, writable), path)
    errors = []
    streams = []
    seen: set[tuple[str | None, str]] = set()
    for i, choice in enumerate(choices):

        def fail(field: str, value: Any, message: str, i: int = i) -> None:
            errors.append(InvalidInput(message, property_path=path(i, field), invalid_value=value))

        item = _find(discovered, choice, fail)
        if item is None:
            continue
        key = (item.stream.namespace, item.stream.name)
        if key in seen:
            fail("name", choice.name, f"Stream '{choice.name}' is named twice")
        seen.add(key)
        possible = modes_of(item.stream, writable)
        mode = choice.mode or default_mode(item.stream, writable)
        if mode is None or mode not in possible:
            shown = label(mode) if mode is not None else None
            fail(
                "syncMode",
                shown,
                f"Stream '{choice.name}' cannot sync in mode {shown} "
                f"(it can: {', '.join(label(m) for m in possible) or 'none'})",
            )
            continue
        _check_choice(item.stream, choice, mode, fail)
        streams.append(
            AirbyteStreamAndConfiguration(stream=item.stream, config=_config(item, mode, choice))
        )
    if errors:
        problems = [p for e in errors for p in e.errors]
        raise InvalidInput(errors[0].message, errors=problems)
    return catalogs.normalize_catalog(ApiCatalog(streams=streams), path)
