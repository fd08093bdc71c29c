"""Web backend endpoints (tag: web_backend): connections with their source, destination and
latest sync embedded, and the 2020 web app's source/destination create and recreate.

Embedded sources and destinations are masked by the core (`shown_sources`/`shown_destinations`,
one store read for the page); sources and destinations are created by the core.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from server.context import Context
from server.core import destinations, sources
from server.models.connections import ConnectionRead
from server.models.destinations import DestinationCreate, DestinationRead, DestinationRecreate
from server.models.operations import OperationRead
from server.models.sources import SourceCreate, SourceRead, SourceRecreate
from server.models.web_backend import (
    JobStatus,
    WebBackendConnectionListRequestBody,
    WebBackendConnectionRead,
    WebBackendConnectionReadList,
    WebBackendConnectionRequestBody,
)
from server.store import connections, job_history, operations, workspaces
from server.store import destinations as destination_store
from server.store import sources as source_store


@dataclass(frozen=True)
class SyncSummary:
    is_syncing: bool = False
    latest_job_status: JobStatus | None = None
    latest_job_created_at: int | None = None
    last_sync: int | None = None


async def sync_summaries(ctx: Context, connection_ids: list[str]) -> dict[str, SyncSummary]:
    """What the job queue knows of each connection (running now? last job?); connections
    without jobs are left out."""
    found = await ctx.store.read(job_history.sync_summaries, connection_ids)
    return {
        cid: SyncSummary(
            is_syncing=s.running,
            latest_job_status=None if s.latest is None else s.latest.status,
            latest_job_created_at=None if s.latest is None else s.latest.created_at,
            last_sync=s.last_success_at,
        )
        for cid, s in found.items()
    }


@dataclass
class _Parts:
    connections: list[ConnectionRead]
    sources: dict[str, SourceRead]
    destinations: dict[str, DestinationRead]
    operations: dict[str, OperationRead]


def _with_parts(db: Database, found: list[ConnectionRead]) -> _Parts:
    parts = _Parts(found, {}, {}, {})
    for c in found:
        source_id, destination_id = str(c.source_id), str(c.destination_id)
        if source_id not in parts.sources:
            parts.sources[source_id] = source_store.get_source(db, source_id)
        if destination_id not in parts.destinations:
            parts.destinations[destination_id] = destination_store.get_destination(
                db, destination_id
            )
    ids = {str(i) for c in found for i in c.operation_ids}
    parts.operations = {str(o.operation_id): o for o in operations.list_operations(db, ids)}
    return parts


async def _present(ctx: Context, parts: _Parts) -> list[WebBackendConnectionRead]:
    summaries = await sync_summaries(ctx, [str(c.connection_id) for c in parts.connections])
    shown_sources = await sources.shown_sources(ctx, list(parts.sources.values()))
    shown_destinations = await destinations.shown_destinations(
        ctx, list(parts.destinations.values())
    )
    source_of = {str(s.source_id): s for s in shown_sources}
    destination_of = {str(d.destination_id): d for d in shown_destinations}
    replies = []
    for c in parts.connections:
        summary = summaries.get(str(c.connection_id), SyncSummary())
        replies.append(
            WebBackendConnectionRead(
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
                source=source_of[str(c.source_id)],
                destination=destination_of[str(c.destination_id)],
                operations=[
                    parts.operations[str(i)] for i in c.operation_ids if str(i) in parts.operations
                ],
                schema_change="breaking" if c.breaking_change else "no_change",
                is_syncing=summary.is_syncing,
                latest_sync_job_status=summary.latest_job_status,
                latest_sync_job_created_at=summary.latest_job_created_at,
                last_sync=summary.last_sync,
            )
        )
    return replies


async def web_backend_get_connection(
    body: WebBackendConnectionRequestBody, ctx: Context
) -> WebBackendConnectionRead:
    def read(db: Database) -> _Parts:
        return _with_parts(db, [connections.get_connection(db, str(body.connection_id))])

    return (await _present(ctx, await ctx.store.read(read)))[0]


async def web_backend_list_connections_for_workspace(
    body: WebBackendConnectionListRequestBody, ctx: Context
) -> WebBackendConnectionReadList:
    def read(db: Database) -> _Parts:
        workspace_id = str(body.workspace_id)
        workspaces.get_workspace(db, workspace_id)
        found = connections.list_connections(db, workspace_id, body.page_size, body.row_offset)
        return _with_parts(db, found)

    return WebBackendConnectionReadList(connections=await _present(ctx, await ctx.store.read(read)))


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
