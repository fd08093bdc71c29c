"""Connection endpoints (tag: connection).

A connection is stored in its modern form; `finish` derives the 2020 fields (`syncSchema`,
`schedule`, `syncMode`) from it before every write, so each stored document is the reply.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TypeVar, cast

import msgspec
from msgspec import UNSET
from sqlite_utils import Database

from server.api.discover import discover_schema_for_source
from server.api.schedules import checked_cron
from server.context import Context
from server.core import catalogs
from server.core.catalogs import api_catalog
from server.errors import InvalidInput, NotFound
from server.models.connections import (
    AirbyteCatalog,
    BasicSchedule,
    ConnectionCreate,
    ConnectionIdRequestBody,
    ConnectionListRequestBody,
    ConnectionRead,
    ConnectionReadList,
    ConnectionSchedule,
    ConnectionScheduleData,
    ConnectionScheduleType,
    ConnectionUpdate,
    SourceSchema,
    SyncMode,
)
from server.models.discover import SourceDiscoverSchemaRequestBody
from server.store import connections as store
from server.store import connector_cache, destinations, operations, sources, workspaces

M = TypeVar("M", bound=msgspec.Struct)


def resolve_schedule(
    schedule_type: ConnectionScheduleType | None,
    data: ConnectionScheduleData | None,
    legacy: ConnectionSchedule | None,
    now: datetime,
    fallback: ConnectionScheduleData | None = None,
) -> tuple[ConnectionScheduleType, ConnectionScheduleData | None]:
    """One schedule from the modern fields, the 2020 `schedule`, and (on update) the stored
    data. With no `scheduleType`, the fields given decide: cron, basic, else manual. A cron
    schedule must fire again after `now`."""
    if schedule_type is None:
        if data is not None and data.cron is not None:
            schedule_type = "cron"
        elif (data is not None and data.basic_schedule is not None) or legacy is not None:
            schedule_type = "basic"
        else:
            schedule_type = "manual"
    if schedule_type == "manual":
        return "manual", None
    if schedule_type == "basic":
        basic = data.basic_schedule if data is not None else None
        if basic is None and legacy is not None:
            basic = BasicSchedule(time_unit=legacy.time_unit, units=legacy.units)
        if basic is None and fallback is not None:
            basic = fallback.basic_schedule
        if basic is None:
            raise InvalidInput(
                "scheduleType 'basic' needs scheduleData.basicSchedule (or schedule)",
                property_path="scheduleData.basicSchedule",
            )
        return "basic", ConnectionScheduleData(basic_schedule=basic)
    cron = data.cron if data is not None else None
    if cron is None and fallback is not None:
        cron = fallback.cron
    if cron is None:
        raise InvalidInput(
            "scheduleType 'cron' needs scheduleData.cron", property_path="scheduleData.cron"
        )
    checked_cron(cron.cron_expression, cron.cron_time_zone, now, "scheduleData.cron.")
    return "cron", ConnectionScheduleData(cron=cron)


def resolve_catalog(
    catalog: AirbyteCatalog | None,
    schema: SourceSchema | None,
    sync_mode: SyncMode | None,
    discovered: AirbyteCatalog | None = None,
) -> AirbyteCatalog | None:
    """The checked modern catalog from whichever shape was sent (`syncCatalog` wins); a 2020
    `syncSchema` is merged with the source's `discovered` catalog."""
    if catalog is not None:
        return catalogs.normalize_catalog(catalog, catalogs.modern_path)
    if schema is not None:
        converted = catalogs.catalog_from_schema(schema, sync_mode, discovered)
        return catalogs.normalize_catalog(converted, catalogs.early_path)
    return None


async def source_catalog(
    ctx: Context, source_id: uuid.UUID, catalog_id: uuid.UUID | None
) -> AirbyteCatalog | None:
    """The source's discovered catalog (API shape) for a 2020 `syncSchema`: the one named by
    `sourceCatalogId`, else the source's discover (cached per configuration, so usually the
    one the client just ran). None when discover fails: the 2020 form is all there is then."""
    if catalog_id is not None:
        try:
            found = await ctx.store.read(connector_cache.get_discovered_catalog, str(catalog_id))
            return api_catalog(found)
        except NotFound:
            pass
    discover = await discover_schema_for_source(
        SourceDiscoverSchemaRequestBody(source_id=source_id), ctx
    )
    return discover.catalog


def finish(connection: ConnectionRead) -> ConnectionRead:
    """Fill the 2020 fields from the modern ones."""
    basic = connection.schedule_data.basic_schedule if connection.schedule_data else None
    legacy = (
        ConnectionSchedule(units=basic.units, time_unit=basic.time_unit)
        if connection.schedule_type == "basic" and basic is not None
        else None
    )
    return msgspec.structs.replace(
        connection,
        sync_schema=catalogs.schema_from_catalog(connection.sync_catalog),
        schedule=legacy,
        sync_mode=catalogs.connection_sync_mode(connection.sync_catalog) or "full_refresh",
    )


def _check_ends(db: Database, source_id: str, destination_id: str) -> tuple[str, str, str]:
    """(workspace id, source name, destination name); 404 for a missing end, 422 when the
    two ends live in different workspaces."""
    source = sources.get_source(db, source_id)
    destination = destinations.get_destination(db, destination_id)
    if source.workspace_id != destination.workspace_id:
        raise InvalidInput(
            f"Destination {destination_id} is not in the source's workspace {source.workspace_id}",
            property_path="destinationId",
            invalid_value=destination_id,
        )
    return str(source.workspace_id), source.name, destination.name


def new_connection(
    body: ConnectionCreate, db: Database, now: int, discovered: AirbyteCatalog | None = None
) -> ConnectionRead:
    workspace_id, source_name, destination_name = _check_ends(
        db, str(body.source_id), str(body.destination_id)
    )
    operations.check_operations_exist(db, map(str, body.operation_ids or []))
    catalog = resolve_catalog(body.sync_catalog, body.sync_schema, body.sync_mode, discovered)
    schedule_type, schedule_data = resolve_schedule(
        body.schedule_type, body.schedule_data, body.schedule, datetime.fromtimestamp(now, UTC)
    )
    connection = ConnectionRead(
        connection_id=uuid.uuid4(),
        # Airbyte's default name.
        name=body.name or f"{source_name} <> {destination_name}",
        source_id=body.source_id,
        destination_id=body.destination_id,
        workspace_id=uuid.UUID(workspace_id),
        status=body.status,
        sync_catalog=catalog or AirbyteCatalog(streams=[]),
        sync_schema=SourceSchema(streams=[]),
        schedule_type=schedule_type,
        schedule_data=schedule_data,
        schedule=None,  # derived by finish(), as is sync_mode
        sync_mode="full_refresh",
        namespace_definition=body.namespace_definition or "source",
        namespace_format=body.namespace_format,
        prefix=body.prefix,
        operation_ids=body.operation_ids or [],
        breaking_change=False,
        created_at=now,
        resource_requirements=body.resource_requirements,
        source_catalog_id=body.source_catalog_id,
        destination_catalog_id=body.destination_catalog_id,
        geography=body.geography,
        non_breaking_changes_preference=body.non_breaking_changes_preference,
        notify_schema_changes=body.notify_schema_changes,
        backfill_preference=body.backfill_preference,
    )
    return finish(connection)


# Fields an update copies as sent (None = left out = keep).
_PLAIN_FIELDS = (
    "name",
    "status",
    "namespace_definition",
    "namespace_format",
    "prefix",
    "operation_ids",
    "resource_requirements",
    "source_catalog_id",
    "destination_catalog_id",
    "geography",
    "non_breaking_changes_preference",
    "notify_schema_changes",
    "backfill_preference",
    "breaking_change",
)


def apply_update(
    current: ConnectionRead,
    body: ConnectionUpdate,
    now: datetime,
    discovered: AirbyteCatalog | None = None,
) -> ConnectionRead:
    changes = {f: v for f in _PLAIN_FIELDS if (v := getattr(body, f)) is not None}
    catalog = resolve_catalog(body.sync_catalog, body.sync_schema, body.sync_mode, discovered)
    if catalog is not None:
        changes["sync_catalog"] = catalog
    if any(v is not UNSET for v in (body.schedule, body.schedule_type, body.schedule_data)):
        schedule_type = None if body.schedule_type is UNSET else body.schedule_type
        data = None if body.schedule_data is UNSET else body.schedule_data
        legacy = None if body.schedule is UNSET else body.schedule
        # A bare `scheduleType` change may rely on the stored data (e.g. back to its cron).
        fallback = current.schedule_data if body.schedule_type is not UNSET else None
        changes["schedule_type"], changes["schedule_data"] = resolve_schedule(
            schedule_type, data, legacy, now, fallback
        )
    return finish(msgspec.structs.replace(current, **changes))


def _early_only(body: ConnectionCreate | ConnectionUpdate) -> bool:
    return body.sync_schema is not None and body.sync_catalog is None


async def create_connection(body: ConnectionCreate, ctx: Context) -> ConnectionRead:
    now = ctx.now()
    discovered = None
    if _early_only(body):
        discovered = await source_catalog(ctx, body.source_id, body.source_catalog_id)

    def insert(db: Database) -> ConnectionRead:
        return store.insert_connection(db, new_connection(body, db, now, discovered))

    return await ctx.store.write(insert)


def stored_reply(data: bytes, model: type[M]) -> M:
    """Stored connections are complete replies (see `finish`): send their JSON as it is rather
    than decode and encode it again. `rpc` sends a `msgspec.Raw` unchanged."""
    return cast(M, msgspec.Raw(data))


async def get_connection(body: ConnectionIdRequestBody, ctx: Context) -> ConnectionRead:
    data = await ctx.store.read(store.get_connection_json, str(body.connection_id))
    return stored_reply(data, ConnectionRead)


async def list_connections_for_workspace(
    body: ConnectionListRequestBody, ctx: Context
) -> ConnectionReadList:
    def read(db: Database) -> list[bytes]:
        workspace_id = str(body.workspace_id)
        workspaces.get_workspace(db, workspace_id)
        return store.list_connections_json(db, workspace_id, body.page_size, body.row_offset)

    documents = await ctx.store.read(read)
    return stored_reply(b'{"connections":[' + b",".join(documents) + b"]}", ConnectionReadList)


async def update_connection(body: ConnectionUpdate, ctx: Context) -> ConnectionRead:
    now = datetime.fromtimestamp(ctx.clock(), UTC)
    discovered = None
    if _early_only(body):
        before = await ctx.store.read(store.get_connection, str(body.connection_id))
        catalog_id = body.source_catalog_id or before.source_catalog_id
        discovered = await source_catalog(ctx, before.source_id, catalog_id)

    def update(db: Database) -> ConnectionRead:
        current = store.get_connection(db, str(body.connection_id))
        if body.operation_ids is not None:
            operations.check_operations_exist(db, map(str, body.operation_ids))
        return store.update_connection(db, apply_update(current, body, now, discovered))

    return await ctx.store.write(update)


async def delete_connection(body: ConnectionIdRequestBody, ctx: Context) -> None:
    await ctx.store.write(store.delete_connection, str(body.connection_id))


handlers = [
    create_connection,
    get_connection,
    list_connections_for_workspace,
    update_connection,
    delete_connection,
]
