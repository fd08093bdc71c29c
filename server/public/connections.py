"""Connections (tag: connections): list, get, create, PATCH, DELETE over server.core.connections,
the rules the config API applies; the streams are built from the source's discovered catalog by
server.core.public_catalog, their modes named by server.public.sync_modes.

A connection made here is the config API's connection (same store, same jobs): the public
fields are Airbyte's public names for the config API's (`custom_format` for `customformat`,
`disable_connection` for `disable`, a schedule's `cronExpression` with its zone appended).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, get_args
from uuid import UUID

import msgspec
from msgspec import UNSET

from server.context import Context
from server.core import connection_pages, public_catalog
from server.core import connections as core
from server.core.catalogs import flat_field
from server.core.errors import InvalidInput
from server.core.public_catalog import StreamChoice
from server.core.schedules import checked_cron
from server.models.connections import AirbyteCatalog as ApiCatalog
from server.models.connections import (
    BasicSchedule,
    ConnectionRead,
    ConnectionScheduleData,
    ConnectionScheduleType,
    CronSchedule,
    NamespaceDefinitionType,
    NonBreakingChangesPreference,
    TimeUnit,
)
from server.models.connections import SelectedFieldInfo as ConfigSelectedField
from server.models.public.connections import (
    AirbyteApiConnectionSchedule,
    ConnectionCreateRequest,
    ConnectionPatchRequest,
    ConnectionResponse,
    ConnectionScheduleResponse,
    ConnectionsResponse,
    ListConnectionsQuery,
    NamespaceDefinition,
    NonBreakingSchemaUpdatesBehavior,
    SelectedFieldInfo,
    StreamConfiguration,
    StreamConfigurations,
    StreamConfigurationsResponse,
)
from server.public import sync_modes
from server.public.rest import Links
from server.scheduling.schedules import zone_names

_NAMESPACES: dict[NamespaceDefinition, NamespaceDefinitionType] = {
    "source": "source",
    "destination": "destination",
    "custom_format": "customformat",
}
_BEHAVIOURS: dict[NonBreakingSchemaUpdatesBehavior, NonBreakingChangesPreference] = {
    "ignore": "ignore",
    "disable_connection": "disable",
    "propagate_columns": "propagate_columns",
    "propagate_fully": "propagate_fully",
}
_BASIC = re.compile(r"^\s*every\s+(\d{1,7})\s+([a-z]+?)s?\s*$", re.IGNORECASE)
_UNITS: dict[str, TimeUnit] = {u[:-1]: u for u in get_args(TimeUnit)}  # "hour" -> "hours"


def stream_path(i: int, field: str) -> str:
    # The core names a stream's fields as the config API does (`config.cursorField`,
    # `config.mappers[1].mapperConfiguration.key`).
    return f"configurations.streams[{i}].{flat_field(field)}"


# ---- Replies --------------------------------------------------------------------------------


def _schedule_shown(c: ConnectionRead) -> ConnectionScheduleResponse:
    data = c.schedule_data
    if c.schedule_type == "cron" and data is not None and data.cron is not None:
        # Airbyte's form: the expression, then its zone.
        expression = f"{data.cron.cron_expression} {data.cron.cron_time_zone}"
        return ConnectionScheduleResponse(schedule_type="cron", cron_expression=expression)
    if c.schedule_type == "basic" and data is not None and data.basic_schedule is not None:
        basic = data.basic_schedule
        timing = f"Every {basic.units} {basic.time_unit}"
        return ConnectionScheduleResponse(schedule_type="basic", basic_timing=timing)
    return ConnectionScheduleResponse(schedule_type="manual")


def _streams_shown(c: ConnectionRead) -> list[StreamConfiguration]:
    shown = []
    for item in c.sync_catalog.streams:
        config = item.config
        if config is None or not config.selected:
            continue  # a public connection's streams are the ones it syncs
        fields = None
        if config.field_selection_enabled and config.selected_fields is not None:
            fields = [SelectedFieldInfo(field_path=f.field_path) for f in config.selected_fields]
        shown.append(
            StreamConfiguration(
                name=item.stream.name,
                namespace=item.stream.namespace,
                sync_mode=sync_modes.name_of((config.sync_mode, config.destination_sync_mode)),
                cursor_field=config.cursor_field,
                primary_key=config.primary_key,
                selected_fields=fields,
                # Replies come from the store's masked reads (core.get_connection_json) or
                # the core's masked create and update results: no secret in the clear here.
                mappers=config.mappers or None,
            )
        )
    return shown


def shown(c: ConnectionRead) -> ConnectionResponse:
    namespace = next((k for k, v in _NAMESPACES.items() if v == c.namespace_definition), None)
    preference = c.non_breaking_changes_preference or "ignore"
    behaviour = next(k for k, v in _BEHAVIOURS.items() if v == preference)
    return ConnectionResponse(
        connection_id=c.connection_id,
        name=c.name,
        source_id=c.source_id,
        destination_id=c.destination_id,
        workspace_id=c.workspace_id,
        # `locked` cannot sync, as an inactive one; clients on airbyte-api 0.53 cannot read it.
        status="inactive" if c.status == "locked" else c.status,
        schedule=_schedule_shown(c),
        configurations=StreamConfigurationsResponse(streams=_streams_shown(c)),
        created_at=c.created_at,
        tags=[],
        data_residency=c.geography or "auto",
        namespace_definition=namespace,
        namespace_format=c.namespace_format,
        prefix=c.prefix,
        non_breaking_schema_updates_behavior=behaviour,
    )


# ---- Requests -------------------------------------------------------------------------------


def _refuse(path: str, value: Any, what: str) -> None:
    # Refused rather than dropped: a client must not believe the setting took effect.
    raise InvalidInput(
        f"{what} are not supported by Sluice yet", property_path=path, invalid_value=value
    )


def _choices(configurations: StreamConfigurations | None) -> list[StreamChoice] | None:
    """The streams asked for; None when none are (every stream, or on PATCH: keep them)."""
    if configurations is None or not configurations.streams:
        return None
    choices = []
    for i, s in enumerate(configurations.streams):
        if s.include_files:
            _refuse(stream_path(i, "includeFiles"), s.include_files, "File transfers")
        if s.destination_object_name is not None:
            _refuse(
                stream_path(i, "destinationObjectName"),
                s.destination_object_name,
                "Destination object names",
            )
        choices.append(
            StreamChoice(
                name=s.name,
                namespace=s.namespace,
                mode=sync_modes.pair_of(s.sync_mode) if s.sync_mode is not None else None,
                cursor_field=s.cursor_field or None,
                primary_key=s.primary_key or None,
                selected_fields=None
                if s.selected_fields is None
                else [f.field_path for f in s.selected_fields],
            )
        )
    return choices


def _cron(expression: str | None, now: datetime) -> ConnectionScheduleData:
    if not expression or not expression.strip():
        raise InvalidInput(
            "scheduleType 'cron' needs a cronExpression", property_path="schedule.cronExpression"
        )
    parts = expression.split()
    zone = "UTC"
    # A trailing zone name is the zone (Airbyte's replies end with it, e.g. `... ? UTC`).
    if len(parts) > 1 and (parts[-1] in zone_names() or parts[-1] == "UTC"):
        zone, parts = parts[-1], parts[:-1]
    text = " ".join(parts)
    try:
        checked_cron(text, zone, now)
    except InvalidInput as exc:
        raise InvalidInput(
            f"Invalid cronExpression {expression!r}: {exc.message}",
            property_path="schedule.cronExpression",
            invalid_value=expression,
        ) from None
    return ConnectionScheduleData(cron=CronSchedule(cron_expression=text, cron_time_zone=zone))


def _basic(timing: str | None) -> ConnectionScheduleData:
    match = _BASIC.match(timing or "")
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None or not 0 < int(match.group(1)) <= 1_000_000:
        raise InvalidInput(
            "scheduleType 'basic' needs a basicTiming such as 'Every 24 hours' (units: "
            f"{', '.join(_UNITS.values())})",
            property_path="schedule.basicTiming",
            invalid_value=timing,
        )
    basic = BasicSchedule(units=int(match.group(1)), time_unit=unit)
    return ConnectionScheduleData(basic_schedule=basic)


def _schedule(
    schedule: AirbyteApiConnectionSchedule, now: datetime
) -> tuple[ConnectionScheduleType, ConnectionScheduleData | None]:
    if schedule.schedule_type == "cron":
        return "cron", _cron(schedule.cron_expression, now)
    if schedule.schedule_type == "basic":
        return "basic", _basic(schedule.basic_timing)
    return "manual", None


def _no_tags(tags: list[dict[str, Any]] | None) -> None:
    if tags:
        _refuse("tags", tags, "Connection tags")


def _with_mapping(catalog: ApiCatalog, configurations: StreamConfigurations | None) -> ApiCatalog:
    """The chosen catalog with each chosen stream's field selection and mappers (the chosen
    catalog holds exactly the chosen streams, in their order); the core checks them."""
    sent = configurations.streams if configurations is not None else None
    if not sent:
        return catalog
    streams = []
    for item, s in zip(catalog.streams, sent, strict=True):
        config = item.config
        if config is not None and (s.selected_fields is not None or s.mappers):
            picked = None
            if s.selected_fields is not None:
                picked = [ConfigSelectedField(field_path=f.field_path) for f in s.selected_fields]
            config = msgspec.structs.replace(
                config,
                field_selection_enabled=True if picked is not None else None,
                selected_fields=picked,
                mappers=s.mappers or None,
            )
            item = msgspec.structs.replace(item, config=config)
        streams.append(item)
    return ApiCatalog(streams=streams)


async def _catalog(
    ctx: Context,
    source_id: UUID,
    destination_id: UUID,
    choices: list[StreamChoice] | None,
    configurations: StreamConfigurations | None,
) -> public_catalog.Discovered:
    writable = await public_catalog.destination_modes(ctx, destination_id)
    found = await public_catalog.discovered_catalog(ctx, source_id)
    catalog = public_catalog.chosen_catalog(
        found.catalog, choices, writable, stream_path, sync_modes.name_of
    )
    return public_catalog.Discovered(_with_mapping(catalog, configurations), found.catalog_id)


def _now(ctx: Context) -> datetime:
    return datetime.fromtimestamp(ctx.clock(), UTC)


async def _stored(ctx: Context, connection_id: UUID) -> ConnectionRead:
    return msgspec.json.decode(
        await core.get_connection_json(ctx, connection_id), type=ConnectionRead
    )


# ---- Handlers -------------------------------------------------------------------------------


async def list_connections(
    query: ListConnectionsQuery, links: Links, ctx: Context
) -> ConnectionsResponse:
    if query.tag_ids:  # no connection has tags
        return ConnectionsResponse(
            data=[], next="", previous=links.page(query.limit, query.offset, False)[1]
        )
    page = await connection_pages.list_connections_page(
        ctx, query.workspace_ids, query.limit, query.offset
    )
    after, before = links.page(query.limit, query.offset, page.more)
    return ConnectionsResponse(
        data=[shown(c) for c in page.connections], next=after, previous=before
    )


async def get_connection(connection_id: UUID, ctx: Context) -> ConnectionResponse:
    return shown(await _stored(ctx, connection_id))


async def create_connection(body: ConnectionCreateRequest, ctx: Context) -> ConnectionResponse:
    _no_tags(body.tags)
    choices = _choices(body.configurations)
    schedule_type, schedule_data = (
        _schedule(body.schedule, _now(ctx)) if body.schedule is not None else ("manual", None)
    )
    found = await _catalog(ctx, body.source_id, body.destination_id, choices, body.configurations)
    fields = core.ConnectionFields(
        name=body.name,
        status=body.status or "active",
        # Airbyte's public API defaults: the destination's namespace, ignore schema changes.
        namespace_definition=_NAMESPACES[body.namespace_definition or "destination"],
        namespace_format=body.namespace_format,
        prefix=body.prefix,
        sync_catalog=found.catalog,
        source_catalog_id=found.catalog_id,
        schedule_type=schedule_type,
        schedule_data=schedule_data,
        geography=body.data_residency,
        catalog_path=stream_path,
        non_breaking_changes_preference=_BEHAVIOURS[
            body.non_breaking_schema_updates_behavior or "ignore"
        ],
    )
    return shown(await core.create_connection(ctx, body.source_id, body.destination_id, fields))


async def patch_connection(
    connection_id: UUID, body: ConnectionPatchRequest, ctx: Context
) -> ConnectionResponse:
    _no_tags(body.tags)
    choices = _choices(body.configurations)
    schedule: dict[str, Any] = {}
    if body.schedule is not None:
        schedule_type, schedule_data = _schedule(body.schedule, _now(ctx))
        schedule = {"schedule_type": schedule_type, "schedule_data": schedule_data}
    catalog = None
    catalog_id = None
    if choices is not None:
        current = await _stored(ctx, connection_id)
        found = await _catalog(
            ctx, current.source_id, current.destination_id, choices, body.configurations
        )
        catalog, catalog_id = found.catalog, found.catalog_id
    fields = core.ConnectionFields(
        name=body.name,
        status=body.status,
        namespace_definition=_NAMESPACES[body.namespace_definition]
        if body.namespace_definition
        else None,
        namespace_format=body.namespace_format,
        prefix=body.prefix,
        sync_catalog=catalog,
        source_catalog_id=catalog_id,
        geography=body.data_residency,
        non_breaking_changes_preference=_BEHAVIOURS[body.non_breaking_schema_updates_behavior]
        if body.non_breaking_schema_updates_behavior
        else None,
        schedule_type=schedule.get("schedule_type", UNSET),
        schedule_data=schedule.get("schedule_data", UNSET),
        catalog_path=stream_path,
    )
    return shown(await core.update_connection(ctx, connection_id, fields))


async def delete_connection(connection_id: UUID, ctx: Context) -> None:
    await core.delete_connection(ctx, connection_id)


handlers = [
    list_connections,
    get_connection,
    create_connection,
    patch_connection,
    delete_connection,
]
