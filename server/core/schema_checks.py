"""When a connection's catalog is compared with its source's: before each sync (the job worker
calls `before_sync`), on `sources/discover_schema` with a `connectionId`, and on
`web_backend/connections/get` with `withRefreshedCatalog` (the rules are
`server.core.schema_changes`).

The discovers asked for by a client run fresh (Airbyte refreshes with `disable_cache`): a
source's schema can change while its configuration does not. The one before a sync does too,
unless `schema_refresh_seconds` is set: then a discover of the same configuration at most that
old is reused from the cache (Airbyte refreshes before a sync only when the source's catalog
was not fetched in the last 24 hours). Every result goes into the cache as any discover's does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import msgspec

from server.context import Context
from server.core import catalog_propagation, discover, schema_changes
from server.core.catalogs import api_catalog
from server.core.errors import InvalidInput
from server.core.schema_changes import Outcome
from server.models.connections import AirbyteCatalog, ConnectionRead
from server.runner import Runners
from server.settings import Settings
from server.store import connections as connection_store
from server.store.db import Store
from server.sync.attempt_log import append_line


async def check_discovered(
    ctx: Context,
    connection_id: uuid.UUID,
    found: discover.Discovery,
    apply: bool,
    job_id: int | None = None,
) -> Outcome | None:
    """Compare the connection's catalog with a discover's and record what came of it; None
    when the discover failed (there is nothing to compare)."""
    if found.catalog is None:
        return None
    catalog_id = None if found.catalog_id is None else str(found.catalog_id)
    return await ctx.store.write(
        schema_changes.record,
        str(connection_id),
        api_catalog(found.catalog),
        catalog_id,
        apply,
        ctx.now(),
        job_id,
    )


async def _connection(ctx: Context, connection_id: uuid.UUID) -> ConnectionRead:
    return await ctx.store.read(connection_store.get_connection, str(connection_id))


async def discover_for_connection(
    ctx: Context, source_id: uuid.UUID, connection_id: uuid.UUID, use_cache: bool
) -> tuple[discover.Discovery, Outcome | None]:
    """`sources/discover_schema` with a `connectionId`: the discover, and the connection's diff
    against it (recorded; the connection paused when the change asks for it). NotFound for a
    missing connection, InvalidInput for one of another source."""
    connection = await _connection(ctx, connection_id)
    if connection.source_id != source_id:
        raise InvalidInput(
            f"Connection {connection_id} does not read from source {source_id}",
            property_path="connectionId",
            invalid_value=str(connection_id),
        )
    found = await discover.discover_source(ctx, source_id, use_cache)
    return found, await check_discovered(ctx, connection_id, found, apply=False)


class Refreshed(msgspec.Struct, frozen=True):
    """A connection read with a refreshed catalog: the catalog to review, its discovered
    catalog's id, and the diff (None when the discover failed: the stored catalog is shown)."""

    connection: ConnectionRead
    catalog: AirbyteCatalog
    catalog_id: uuid.UUID | None = None
    outcome: Outcome | None = None


async def refresh_connection(ctx: Context, connection_id: uuid.UUID) -> Refreshed:
    """`withRefreshedCatalog`: discover now, record the diff, and give the catalog the client
    reviews (the discovered streams with the connection's configs)."""
    connection = await _connection(ctx, connection_id)
    found = await discover.discover_source(ctx, connection.source_id, use_cache=False)
    outcome = await check_discovered(ctx, connection_id, found, apply=False)
    if outcome is None or found.catalog is None:
        return Refreshed(connection, connection.sync_catalog)
    catalog = catalog_propagation.refreshed(
        outcome.connection.sync_catalog, api_catalog(found.catalog)
    )
    return Refreshed(outcome.connection, catalog, found.catalog_id, outcome)


class SyncCheck(msgspec.Struct, frozen=True):
    """What the check before a sync says: why the sync must not run (None: it may), and
    whether the connection's catalog changed (the attempt's plan is to be read again)."""

    blocked: str | None = None
    replan: bool = False


async def before_sync(
    store: Store,
    settings: Settings,
    runners: Runners,
    clock: Callable[[], float],
    job_id: int,
    connection_id: str,
    log_path: Path,
) -> SyncCheck:
    """The job worker's check before a sync attempt (its plan built): discover, compare,
    apply the connection's preference, and say in the attempt's log what changed and what was
    done.

    A discover that fails does not stop the sync (the read that follows reports a source that
    cannot run); the log says the check was skipped."""
    ctx = Context(settings=settings, store=store, clock=clock, runners=runners)
    connection = await _connection(ctx, uuid.UUID(connection_id))
    window = max(0, settings.schema_refresh_seconds)
    found = await discover.discover_source(
        ctx, connection.source_id, use_cache=window > 0, max_age=window
    )
    if found.cached:
        append_line(
            log_path,
            "platform",
            "INFO",
            f"Schema check: the source's discover from the last {window} s is reused "
            "(SLUICE_SCHEMA_REFRESH_SECONDS), not run again",
        )
    outcome = await check_discovered(ctx, connection.connection_id, found, True, job_id)
    if outcome is None:
        failure = found.job_info.failure_reason
        why = failure.external_message if failure is not None else "no catalog"
        append_line(
            log_path,
            "platform",
            "WARN",
            f"Schema check skipped: the source's discover failed ({why})",
        )
        return SyncCheck()
    level = "WARN" if outcome.blocked else "INFO"
    append_line(log_path, "platform", level, outcome.log_line())
    for note in outcome.notes:
        append_line(log_path, "platform", "INFO", note)
    return SyncCheck(outcome.blocked, outcome.action == "propagated")
