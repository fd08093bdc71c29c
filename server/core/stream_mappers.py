"""A stream's field selection and mappers, as a connection is saved: the inputs of
server.mappers (which holds every rule about them), its problems as InvalidInput naming the
stream, the mapper (index and type) and the reason, ids for mappers sent without one, and the
secrets a client sends back masked (kept from the stored connection).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, cast, get_args

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.core.errors import InvalidInput, Problem
from server.domain.secrets import MASK
from server.mappers import SECRET_CONFIG_KEYS, StreamValidation, validate_stream
from server.mappers import FieldSpec as MapperField
from server.models.connections import AirbyteCatalog as ApiCatalog
from server.models.connections import AirbyteStream as ApiStream
from server.models.connections import (
    AirbyteStreamAndConfiguration,
    AirbyteStreamConfiguration,
    DestinationSyncMode,
)
from server.models.mappers import (
    FieldSpec,
    FieldType,
    MapperValidationError,
    MapperValidationErrorType,
    MapperValidationResult,
    WebBackendValidateMappersRequestBody,
    WebBackendValidateMappersResponse,
)
from server.store import connections

# Where a rule about stream `i` points in the request (as server.core.catalogs.PathOf).
PathOf = Callable[[int, str], str]
_DEDUP: set[DestinationSyncMode] = {"append_dedup", "overwrite_dedup"}


def _modern_path(i: int, field: str) -> str:
    return f"syncCatalog.streams[{i}].{field}"


_MAPPER_AT = re.compile(r"^(mappers|hashedFields)\[(\d+)\]")


def has_mapping(config: AirbyteStreamConfiguration) -> bool:
    """Whether the stream's records change on the way: a field selection, hashed fields or
    mappers (else the relay forwards its bytes)."""
    selection = bool(config.field_selection_enabled) and config.selected_fields is not None
    return selection or bool(config.hashed_fields) or bool(config.mappers)


def mapper_inputs(
    stream: ApiStream, config: AirbyteStreamConfiguration
) -> tuple[dict[str, Any], dict[str, Any], list[str] | None, list[list[str]] | None]:
    """What server.mappers' `validate_stream` and `compile_stream` take for a stream: its JSON
    schema, its configuration in the API's names, and the cursor (of an incremental stream)
    and primary key (of a deduplicated one) the mappers must keep. The same for the check
    when the connection is saved and for the sync, so a saved connection always compiles."""
    schema = stream.json_schema or stream.json_schema_snake or {}
    cursor = config.cursor_field or stream.default_cursor_field or None
    key = config.primary_key or stream.source_defined_primary_key or None
    return (
        schema,
        msgspec.to_builtins(config),
        cursor if config.sync_mode == "incremental" else None,
        key if config.destination_sync_mode in _DEDUP else None,
    )


def validated_stream(stream: ApiStream, config: AirbyteStreamConfiguration) -> StreamValidation:
    return validate_stream(*mapper_inputs(stream, config))


def with_mapper_ids(config: AirbyteStreamConfiguration) -> AirbyteStreamConfiguration:
    if not config.mappers or all(m.id is not None for m in config.mappers):
        return config
    mappers = [m if m.id else msgspec.structs.replace(m, id=uuid.uuid4()) for m in config.mappers]
    return msgspec.structs.replace(config, mappers=mappers)


def shown_mapper(mapper: Any) -> Any:
    """A mapper (a ConfiguredStreamMapper, or its JSON) with its secrets masked: an error
    names the mapper, never its key."""
    value = msgspec.to_builtins(mapper)
    if not isinstance(value, dict):
        return value
    config = value.get("mapperConfiguration")
    secret = SECRET_CONFIG_KEYS.get(str(value.get("type")), ())
    if isinstance(config, dict) and any(k in config for k in secret):
        value["mapperConfiguration"] = {k: MASK if k in secret else v for k, v in config.items()}
    return value


def mapper_label(config: AirbyteStreamConfiguration, where: str, kind: str | None) -> str:
    """How a message names what is wrong: `mapper 1 (field-renaming)`, `hashedFields[0]`,
    `selectedFields`."""
    found = _MAPPER_AT.match(where)
    if found is None or kind is None:
        return where
    if found.group(1) == "hashedFields":
        return f"hashedFields[{found.group(2)}] (hashing)"
    return f"mapper {found.group(2)} ({kind})"


def check_mapping(
    i: int,
    stream: ApiStream,
    config: AirbyteStreamConfiguration,
    fail: Callable[[int, str, Any, str], None],
) -> None:
    for problem in validated_stream(stream, config).problems:
        found = _MAPPER_AT.match(problem.path)
        value: Any = None
        if found is not None and found.group(1) == "mappers" and config.mappers:
            index = int(found.group(2))
            if index < len(config.mappers):
                value = shown_mapper(config.mappers[index])
        elif found is not None and config.hashed_fields:
            value = msgspec.to_builtins(config.hashed_fields[int(found.group(2))])
        elif problem.path.startswith("selectedFields"):
            picked = re.match(r"^selectedFields\[(\d+)\]", problem.path)
            chosen: Any = config.selected_fields
            if picked is not None and chosen and int(picked.group(1)) < len(chosen):
                chosen = chosen[int(picked.group(1))]
            value = msgspec.to_builtins(chosen)
        label = mapper_label(config, problem.path, problem.mapper_type)
        fail(
            i,
            f"config.{problem.path}",
            value,
            f"Stream '{stream.name}', {label}: {problem.message}",
        )


def keep_secrets(
    catalog: ApiCatalog, previous: ApiCatalog | None, path: PathOf = _modern_path
) -> ApiCatalog:
    """`catalog` with each masked mapper secret (a reply's `**********` sent back) replaced by
    the stored one: the mapper of the same stream with the same id, else at the same place
    and of the same type. A mask with nothing stored to keep is InvalidInput."""
    kept, errors = _restored(catalog, previous, path)
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)
    return kept


def _restored(
    catalog: ApiCatalog, previous: ApiCatalog | None, path: PathOf
) -> tuple[ApiCatalog, list[Problem]]:
    before = {
        (item.stream.namespace, item.stream.name): item.config.mappers or []
        for item in (previous.streams if previous else [])
        if item.config is not None
    }
    errors: list[Problem] = []
    streams = []
    for i, item in enumerate(catalog.streams):
        if item.config is None or not item.config.mappers:
            streams.append(item)
            continue
        stored = before.get((item.stream.namespace, item.stream.name), [])
        mappers = []
        for j, mapper in enumerate(item.config.mappers):
            for key in SECRET_CONFIG_KEYS.get(mapper.type, ()):
                if mapper.mapper_configuration.get(key) != MASK:
                    continue
                same = [m for m in stored if mapper.id is not None and m.id == mapper.id]
                if not same and j < len(stored) and stored[j].type == mapper.type:
                    same = [stored[j]]
                kept = same[0].mapper_configuration.get(key) if same else None
                if kept is None or kept == MASK:
                    message = (
                        f"Stream '{item.stream.name}', mapper {j} ({mapper.type}): the {key} is "
                        f"the mask {MASK}, and there is no stored {key} to keep; send the {key}"
                    )
                    where = path(i, f"config.mappers[{j}].mapperConfiguration.{key}")
                    errors.append(Problem(property_path=where, invalid_value=MASK, message=message))
                    continue
                values = {**mapper.mapper_configuration, key: kept}
                mapper = msgspec.structs.replace(mapper, mapper_configuration=values)
            mappers.append(mapper)
        config = msgspec.structs.replace(item.config, mappers=mappers)
        streams.append(msgspec.structs.replace(item, config=config))
    return ApiCatalog(streams=streams), errors


# `web_backend/mappers/validate`: a draft of a stream's mappers, checked against the stream.

_FIELD_TYPES = set(get_args(FieldType))


def _fields(found: list[MapperField], cursor: str | None, keys: set[str]) -> list[FieldSpec]:
    return [
        FieldSpec(
            name=f.name,
            type=cast(FieldType, f.type) if f.type in _FIELD_TYPES else "UNKNOWN",
            is_selected_primary_key=f.name in keys,
            is_selected_cursor=f.name == cursor,
        )
        for f in found
    ]


def _draft(
    db: Database, connection_id: str, name: str, namespace: str | None
) -> AirbyteStreamAndConfiguration:
    catalog = connections.get_connection(db, connection_id).sync_catalog
    for item in catalog.streams:
        if item.stream.name == name and (item.stream.namespace or None) == (namespace or None):
            return item
    where = f" in namespace '{namespace}'" if namespace else ""
    raise InvalidInput(
        f"Connection {connection_id} has no stream '{name}'{where}",
        property_path="streamDescriptor.name",
        invalid_value=name,
    )


async def validate_mappers(
    ctx: Context, body: WebBackendValidateMappersRequestBody
) -> WebBackendValidateMappersResponse:
    """Airbyte's answer for a draft: the stream's fields (after its field selection), what
    each mapper takes and gives and its problem, and what the destination would get. The
    draft's mappers replace the stream's mappers and hashed fields; nothing is saved. A key
    sent back masked is the stored one's (as on an update)."""
    descriptor = body.stream_descriptor
    item = await ctx.store.read(
        _draft, str(body.connection_id), descriptor.name, descriptor.namespace
    )
    assert item.config is not None  # stored catalogs are normalized
    draft = msgspec.structs.replace(item.config, mappers=body.mappers, hashed_fields=None)
    one = ApiCatalog(streams=[msgspec.structs.replace(item, config=draft)])
    restored, _ = _restored(one, ApiCatalog(streams=[item]), _modern_path)
    config = restored.streams[0].config
    assert config is not None
    result = validated_stream(item.stream, config)
    cursor = item.config.cursor_field[0] if item.config.cursor_field else None
    keys = {k[0] for k in item.config.primary_key or [] if k}
    mappers = []
    for sent, checked in zip(body.mappers, result.mappers, strict=False):
        error = checked.validation_error
        mappers.append(
            MapperValidationResult(
                id=sent.id,
                type=sent.type,
                mapper_configuration=shown_mapper(sent)["mapperConfiguration"],
                input_fields=_fields(checked.input_fields, cursor, keys),
                output_fields=_fields(checked.output_fields, cursor, keys),
                validation_error=None
                if error is None
                else MapperValidationError(
                    type=cast(MapperValidationErrorType, error.type), message=error.message
                ),
            )
        )
    return WebBackendValidateMappersResponse(
        initial_fields=_fields(result.initial_fields, cursor, keys),
        mappers=mappers,
        output_fields=_fields(result.output_fields, cursor, keys),
    )
