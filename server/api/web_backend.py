"""Web backend endpoints (tag: web_backend): connections with their source, destination and
latest sync embedded, and the 2020 web app's source/destination create and recreate.

A connection in full (its ends masked, its operations, its jobs' summary) comes from the core
(`server.core.connection_views`, a constant number of store reads for the page); sources and
destinations are created by the core.
"""

from __future__ import annotations

import msgspec

from server.context import Context
from server.core import connection_views, destinations, schema_checks, sources
from server.core.catalogs import schema_from_catalog
from server.core.connection_views import ConnectionInFull
from server.models.destinations import DestinationCreate, DestinationRead, DestinationRecreate
from server.models.sources import SourceCreate, SourceRead, SourceRecreate
from server.models.web_backend import (
    WebBackendConnectionListRequestBody,
    WebBackendConnectionRead,
    WebBackendConnectionReadList,
    WebBackendConnectionRequestBody,
)


def _read(full: ConnectionInFull) -> WebBackendConnectionRead:
    c, summary = full.connection, full.summary
    return WebBackendConnectionRead(
        connection_id=c.connection_id,
        name=c.name,
        source_id=c.source_id,
        destination_id=c.destination_id,
        workspace_id=c.workspace_id,
        status=c.status,
        sync_catalog=c.sync_catalog,
        sync_schema=c.sync_schema,
        schedule_type=c.schedule_type,
        schedule=c.schedule,
        sync_mode=c.sync_mode,
        schedule_data=c.schedule_data,
        namespace_definition=c.namespace_definition,
        namespace_format=c.namespace_format,
        prefix=c.prefix,
        operation_ids=c.operation_ids,
        resource_requirements=c.resource_requirements,
        catalog_id=c.source_catalog_id,
        geography=c.geography,
        # Airbyte's defaults for a connection created without them.
        non_breaking_changes_preference=c.non_breaking_changes_preference or "ignore",
        notify_schema_changes=bool(c.notify_schema_changes),
        notify_schema_changes_by_email=False,
        tags=[],
        on_demand_enabled=False,
        source=full.source,
        destination=full.destination,
        operations=full.operations,
        schema_change=full.change.schema_change,
        status_reason=full.change.status_reason,
        is_syncing=summary.is_syncing,
        latest_sync_job_status=summary.latest_job_status,
        latest_sync_job_created_at=summary.latest_job_created_at,
        last_sync=summary.last_sync,
    )


async def web_backend_get_connection(
    body: WebBackendConnectionRequestBody, ctx: Context
) -> WebBackendConnectionRead:
    """With `withRefreshedCatalog`, the source is discovered now: `syncCatalog` is the
    discovered catalog with the connection's stream configs (for review; nothing is saved
    but the diff, and the pause a breaking change asks for), `catalogDiff` what changed."""
    if not body.with_refreshed_catalog:
        return _read(await connection_views.get_connection_in_full(ctx, body.connection_id))
    refreshed = await schema_checks.refresh_connection(ctx, body.connection_id)
    read = _read(await connection_views.get_connection_in_full(ctx, body.connection_id))
    if refreshed.outcome is None:  # the discover failed: the stored catalog, no diff
        return read
    return msgspec.structs.replace(
        read,
        sync_catalog=refreshed.catalog,
        sync_schema=schema_from_catalog(refreshed.catalog),
        catalog_id=refreshed.catalog_id,
        catalog_diff=refreshed.outcome.diff,
        schema_change=refreshed.outcome.schema_change,
    )


async def web_backend_list_connections_for_workspace(
    body: WebBackendConnectionListRequestBody, ctx: Context
) -> WebBackendConnectionReadList:
    found = await connection_views.list_connections_in_full(
        ctx, body.workspace_id, body.page_size, body.row_offset
    )
    return WebBackendConnectionReadList(connections=[_read(full) for full in found])


async def web_backend_create_source(body: SourceCreate, ctx: Context) -> SourceRead:
    return await sources.create_source(
        ctx, body.workspace_id, body.source_definition_id, body.name, body.connection_configuration
    )


async def web_backend_recreate_source(body: SourceRecreate, ctx: Context) -> SourceRead:
    """A new source (new id, only the new configuration) replaces the old one, whose
    connections go with it, as in Airbyte's 2020 web backend."""
    return await sources.recreate_source(
        ctx,
        body.source_id,
        body.workspace_id,
        body.source_definition_id,
        body.name,
        body.connection_configuration,
    )


async def web_backend_create_destination(body: DestinationCreate, ctx: Context) -> DestinationRead:
    return await destinations.create_destination(
        ctx,
        body.workspace_id,
        body.destination_definition_id,
        body.name,
        body.connection_configuration,
    )


async def web_backend_recreate_destination(
    body: DestinationRecreate, ctx: Context
) -> DestinationRead:
    """As `web_backend_recreate_source`, for a destination."""
    return await destinations.recreate_destination(
        ctx,
        body.destination_id,
        body.workspace_id,
        body.destination_definition_id,
        body.name,
        body.connection_configuration,
    )


handlers = [
    web_backend_get_connection,
    web_backend_list_connections_for_workspace,
    web_backend_create_source,
    web_backend_recreate_source,
    web_backend_create_destination,
    web_backend_recreate_destination,
]
