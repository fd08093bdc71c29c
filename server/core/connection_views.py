"""A connection in full, as the web app shows it (its mapper secrets masked): with its source
and destination (masked, as the core hands them out), its operations and what the job queue
knows of it.

Store round trips: one read for the connections of a page and their ends and operations, one
for their jobs, one each to mask the sources and the destinations, whatever the page size.
"""

from __future__ import annotations

import uuid

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.core import destinations, schema_changes, sources
from server.core.schema_changes import CurrentChange
from server.models.connections import ConnectionRead
from server.models.destinations import DestinationRead
from server.models.operations import OperationRead
from server.models.sources import SourceRead
from server.models.web_backend import JobStatus
from server.store import connections, job_history, operations, workspaces
from server.store import destinations as destination_store
from server.store import sources as source_store


class SyncSummary(msgspec.Struct, frozen=True):
    """What the job queue knows of a connection (defaults: it has no jobs)."""

    is_syncing: bool = False
    latest_job_status: JobStatus | None = None
    latest_job_created_at: int | None = None
    last_sync: int | None = None


class ConnectionInFull(msgspec.Struct, frozen=True):
    connection: ConnectionRead
    source: SourceRead
    destination: DestinationRead
    operations: list[OperationRead]
    summary: SyncSummary
    # Its schemaChange, and its statusReason (why Sluice stopped it, if it did).
    change: CurrentChange = CurrentChange()


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


class _Parts(msgspec.Struct, frozen=True):
    connections: list[ConnectionRead]
    sources: dict[str, SourceRead]
    destinations: dict[str, DestinationRead]
    operations: dict[str, OperationRead]
    changes: dict[str, CurrentChange]


def _with_parts(db: Database, opened: list[ConnectionRead]) -> _Parts:
    # The store opens mapper secrets for the core; a view is a reply: masked.
    found = [connections.masked(c) for c in opened]
    ends: dict[str, SourceRead] = {}
    targets: dict[str, DestinationRead] = {}
    for c in found:
        source_id, destination_id = str(c.source_id), str(c.destination_id)
        if source_id not in ends:
            ends[source_id] = source_store.get_source(db, source_id)
        if destination_id not in targets:
            targets[destination_id] = destination_store.get_destination(db, destination_id)
    ids = {str(i) for c in found for i in c.operation_ids}
    named = {str(o.operation_id): o for o in operations.list_operations(db, ids)}
    changes = schema_changes.current_changes(db, found)
    return _Parts(found, ends, targets, named, changes)


async def _in_full(ctx: Context, parts: _Parts) -> list[ConnectionInFull]:
    summaries = await sync_summaries(ctx, [str(c.connection_id) for c in parts.connections])
    shown_sources = await sources.shown_sources(ctx, list(parts.sources.values()))
    shown_destinations = await destinations.shown_destinations(
        ctx, list(parts.destinations.values())
    )
    source_of = {str(s.source_id): s for s in shown_sources}
    destination_of = {str(d.destination_id): d for d in shown_destinations}
    return [
        ConnectionInFull(
            connection=c,
            source=source_of[str(c.source_id)],
            destination=destination_of[str(c.destination_id)],
            operations=[
                parts.operations[str(i)] for i in c.operation_ids if str(i) in parts.operations
            ],
            summary=summaries.get(str(c.connection_id), SyncSummary()),
            change=parts.changes.get(str(c.connection_id), CurrentChange()),
        )
        for c in parts.connections
    ]


def _one(db: Database, connection_id: str) -> _Parts:
    return _with_parts(db, [connections.get_connection(db, connection_id)])


async def get_connection_in_full(ctx: Context, connection_id: uuid.UUID) -> ConnectionInFull:
    return (await _in_full(ctx, await ctx.store.read(_one, str(connection_id))))[0]


def _page(db: Database, workspace_id: str, limit: int | None, offset: int) -> _Parts:
    workspaces.get_workspace(db, workspace_id)
    return _with_parts(db, connections.list_connections(db, workspace_id, limit, offset))


async def list_connections_in_full(
    ctx: Context, workspace_id: uuid.UUID, limit: int | None, offset: int
) -> list[ConnectionInFull]:
    """A page of the workspace's connections in full; NotFound for a missing workspace."""
    return await _in_full(ctx, await ctx.store.read(_page, str(workspace_id), limit, offset))
