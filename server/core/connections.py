"""Connections: the rules every face follows for them.

- A connection joins an existing source and destination of the same workspace (404 for a
  missing end, InvalidInput at `destinationId` for ends in two workspaces, checked inside the
  write); every operation it names exists.
- Its catalog is checked and normalised whichever shape was sent: the modern `syncCatalog`
  wins; a 2020 `syncSchema` is merged with the source's discovered catalog (the one named by
  `sourceCatalogId`, else the source's cached discover), property paths in the shape sent.
- Its schedule is resolved by `server.core.schedules` (cron, basic or manual).
- It is stored in its modern form with the 2020 fields (`syncSchema`, `schedule`, `syncMode`)
  derived before every write (`finish`), so each stored document is the reply as it is.
- Resource requirements, namespaces and the other plain fields are kept as given (the wire
  models check their grammar); an update changes only the fields given.
- `statusReason` says why Sluice stopped a connection (`stop`: auto-disable, a schema
  change); a status changed by an update clears it.
- A stream's field selection and mappers are checked by server.mappers (through
  `server.core.stream_mappers`); their secrets (an AES key) are sealed by the store, masked in
  every reply, and kept on an update that sends the mask back.

Store round trips: create and update write once (plus a read and a discover for a 2020-only
catalog); get and list read once whatever the page size.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType
from sqlite_utils import Database

from server.context import Context
from server.core import catalogs, discover, stream_mappers
from server.core.catalogs import api_catalog
from server.core.errors import InvalidInput
from server.core.schedules import resolve_schedule
from server.models.connections import (
    AirbyteCatalog,
    BackfillPreference,
    ConnectionRead,
    ConnectionSchedule,
    ConnectionScheduleData,
    ConnectionScheduleType,
    ConnectionStatus,
    NamespaceDefinitionType,
    NonBreakingChangesPreference,
    SourceSchema,
    SyncMode,
)
from server.models.definitions import ResourceRequirements
from server.store import connections as store
from server.store import destinations, operations, sources, workspaces


class ConnectionFields(msgspec.Struct, kw_only=True, frozen=True):
    """What a face asks to set on a connection. None is "not given" (a default on create, kept
    on update); the three schedule fields tell not given (UNSET) from cleared (None)."""

    name: str | None = None
    status: ConnectionStatus | None = None
    namespace_definition: NamespaceDefinitionType | None = None
    namespace_format: str | None = None
    prefix: str | None = None
    operation_ids: list[uuid.UUID] | None = None
    sync_catalog: AirbyteCatalog | None = None
    sync_schema: SourceSchema | None = None
    sync_mode: SyncMode | None = None
    schedule: ConnectionSchedule | UnsetType | None = UNSET
    schedule_type: ConnectionScheduleType | UnsetType | None = UNSET
    schedule_data: ConnectionScheduleData | UnsetType | None = UNSET
    resource_requirements: ResourceRequirements | None = None
    source_catalog_id: uuid.UUID | None = None
    destination_catalog_id: uuid.UUID | None = None
    geography: str | None = None
    non_breaking_changes_preference: NonBreakingChangesPreference | None = None
    notify_schema_changes: bool | None = None
    backfill_preference: BackfillPreference | None = None
    breaking_change: bool | None = None
    # How a face names a `sync_catalog` stream's properties in its errors (default: the
    # config API's `syncCatalog.streams[i]...`).
    catalog_path: catalogs.PathOf | None = None

    @property
    def early_only(self) -> bool:
        """Only the 2020 `syncSchema` was sent: it needs the source's discovered catalog."""
        return self.sync_schema is not None and self.sync_catalog is None


def fields_of(request: Any) -> ConnectionFields:
    """The fields of a request model that has them under the same names (the config API's
    create and update bodies); a field it lacks is not given."""
    names = [f for f in ConnectionFields.__struct_fields__ if hasattr(request, f)]
    return ConnectionFields(**{f: getattr(request, f) for f in names})


def _given(value: Any) -> Any:
    return None if value is UNSET else value


def resolve_catalog(
    catalog: AirbyteCatalog | None,
    schema: SourceSchema | None,
    sync_mode: SyncMode | None,
    discovered: AirbyteCatalog | None = None,
    previous: AirbyteCatalog | None = None,
    path: catalogs.PathOf = catalogs.modern_path,
) -> AirbyteCatalog | None:
    """The checked modern catalog from whichever shape was sent (`syncCatalog` wins); a 2020
    `syncSchema` is merged with the source's `discovered` catalog. Mapper secrets sent back
    masked are taken from the `previous` (stored, opened) catalog. `path` names a modern
    catalog's properties in the face's words."""
    if catalog is not None:
        catalog = stream_mappers.keep_secrets(catalog, previous, path)
        return catalogs.normalize_catalog(catalog, path)
    if schema is not None:
        converted = catalogs.catalog_from_schema(schema, sync_mode, discovered)
        return catalogs.normalize_catalog(converted, catalogs.early_path)
    return None


async def source_catalog(
    ctx: Context, source_id: uuid.UUID, catalog_id: uuid.UUID | None
) -> AirbyteCatalog | None:
    """The source's discovered catalog for a 2020 `syncSchema`: the one named by
    `sourceCatalogId`, else the source's discover (cached per configuration, so usually the
    one the client just ran). None when discover fails: the 2020 form is all there is then."""
    if catalog_id is not None:
        found = await ctx.store.read(store.find_source_catalog, str(catalog_id))
        if found is not None:
            return api_catalog(found)
    discovery = await discover.discover_source(ctx, source_id)
    return None if discovery.catalog is None else api_catalog(discovery.catalog)


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


def stop(connection: ConnectionRead, reason: str) -> ConnectionRead:
    """`connection` set inactive by Sluice itself, with why (its `statusReason`): the one way
    auto-disable and a schema change pause a connection, so every face shows the same reason."""
    return msgspec.structs.replace(connection, status="inactive", status_reason=reason)


def _check_ends(db: Database, source_id: str, destination_id: str) -> tuple[str, str, str]:
    """(workspace id, source name, destination name); NotFound for a missing end,
    InvalidInput when the two ends live in different workspaces."""
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
    db: Database,
    source_id: uuid.UUID,
    destination_id: uuid.UUID,
    fields: ConnectionFields,
    now: int,
    discovered: AirbyteCatalog | None = None,
) -> ConnectionRead:
    """A new connection (not yet stored) after every check that needs the database."""
    workspace_id, source_name, destination_name = _check_ends(
        db, str(source_id), str(destination_id)
    )
    operations.check_operations_exist(db, map(str, fields.operation_ids or []))
    catalog = resolve_catalog(
        fields.sync_catalog,
        fields.sync_schema,
        fields.sync_mode,
        discovered,
        path=fields.catalog_path or catalogs.modern_path,
    )
    schedule_type, schedule_data = resolve_schedule(
        _given(fields.schedule_type),
        _given(fields.schedule_data),
        _given(fields.schedule),
        datetime.fromtimestamp(now, UTC),
    )
    connection = ConnectionRead(
        connection_id=uuid.uuid4(),
        # Airbyte's default name.
        name=fields.name or f"{source_name} <> {destination_name}",
        source_id=source_id,
        destination_id=destination_id,
        workspace_id=uuid.UUID(workspace_id),
        status=fields.status or "active",
        sync_catalog=catalog or AirbyteCatalog(streams=[]),
        sync_schema=SourceSchema(streams=[]),
        schedule_type=schedule_type,
        schedule_data=schedule_data,
        schedule=None,  # derived by finish(), as is sync_mode
        sync_mode="full_refresh",
        namespace_definition=fields.namespace_definition or "source",
        namespace_format=fields.namespace_format,
        prefix=fields.prefix,
        operation_ids=fields.operation_ids or [],
        breaking_change=False,
        created_at=now,
        resource_requirements=fields.resource_requirements,
        source_catalog_id=fields.source_catalog_id,
        destination_catalog_id=fields.destination_catalog_id,
        geography=fields.geography,
        non_breaking_changes_preference=fields.non_breaking_changes_preference,
        notify_schema_changes=fields.notify_schema_changes,
        backfill_preference=fields.backfill_preference,
    )
    return finish(connection)


# Fields an update copies as given (None = not given = keep).
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
    fields: ConnectionFields,
    now: datetime,
    discovered: AirbyteCatalog | None = None,
) -> ConnectionRead:
    """`current` with the fields given changed, checked and finished."""
    changes = {f: v for f in _PLAIN_FIELDS if (v := getattr(fields, f)) is not None}
    if fields.status is not None and (fields.status != current.status or fields.status == "active"):
        # A status set by hand replaces the one Sluice set, and its reason; an update that
        # sends the inactive status back unchanged (a whole object) keeps the reason.
        changes["status_reason"] = None
    catalog = resolve_catalog(
        fields.sync_catalog,
        fields.sync_schema,
        fields.sync_mode,
        discovered,
        current.sync_catalog,
        fields.catalog_path or catalogs.modern_path,
    )
    if catalog is not None:
        changes["sync_catalog"] = catalog
    if any(v is not UNSET for v in (fields.schedule, fields.schedule_type, fields.schedule_data)):
        # A bare `scheduleType` change may rely on the stored data (e.g. back to its cron).
        fallback = current.schedule_data if fields.schedule_type is not UNSET else None
        changes["schedule_type"], changes["schedule_data"] = resolve_schedule(
            _given(fields.schedule_type),
            _given(fields.schedule_data),
            _given(fields.schedule),
            now,
            fallback,
        )
    return finish(msgspec.structs.replace(current, **changes))


async def create_connection(
    ctx: Context, source_id: uuid.UUID, destination_id: uuid.UUID, fields: ConnectionFields
) -> ConnectionRead:
    now = ctx.now()
    discovered = None
    if fields.early_only:
        discovered = await source_catalog(ctx, source_id, fields.source_catalog_id)

    def insert(db: Database) -> ConnectionRead:
        connection = new_connection(db, source_id, destination_id, fields, now, discovered)
        return store.insert_connection(db, connection)

    return store.masked(await ctx.store.write(insert))


async def get_connection_json(ctx: Context, connection_id: uuid.UUID) -> bytes:
    """The stored connection as JSON: the complete reply (see `finish`). One read."""
    return await ctx.store.read(store.get_connection_json, str(connection_id))


def _page_json(db: Database, workspace_id: str, limit: int | None, offset: int) -> list[bytes]:
    workspaces.get_workspace(db, workspace_id)
    return store.list_connections_json(db, workspace_id, limit, offset)


async def list_connections_json(
    ctx: Context, workspace_id: uuid.UUID, limit: int | None, offset: int
) -> list[bytes]:
    """A page of the workspace's connections (oldest first) as their stored JSON; NotFound
    for a missing workspace. One read whatever the page size."""
    return await ctx.store.read(_page_json, str(workspace_id), limit, offset)


async def update_connection(
    ctx: Context, connection_id: uuid.UUID, fields: ConnectionFields
) -> ConnectionRead:
    now = datetime.fromtimestamp(ctx.clock(), UTC)
    discovered = None
    if fields.early_only:
        before = await ctx.store.read(store.get_connection, str(connection_id))
        catalog_id = fields.source_catalog_id or before.source_catalog_id
        discovered = await source_catalog(ctx, before.source_id, catalog_id)

    def update(db: Database) -> ConnectionRead:
        current = store.get_connection(db, str(connection_id))
        if fields.operation_ids is not None:
            operations.check_operations_exist(db, map(str, fields.operation_ids))
        return store.update_connection(db, apply_update(current, fields, now, discovered))

    return store.masked(await ctx.store.write(update))


async def delete_connection(ctx: Context, connection_id: uuid.UUID) -> None:
    await ctx.store.write(store.delete_connection, str(connection_id))
