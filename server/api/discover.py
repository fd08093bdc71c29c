"""Schema discovery (tags: source, scheduler): run the source's `discover` (the rules are the
core's, `server.core.discover`).

Results are cached per connector version and configuration (`disable_cache` forces a new
run). With a `connectionId`, the connection's catalog is compared with the discovered one
(`server.core.schema_checks`). A discover that fails (including a configuration the spec
refuses) is a 200 with `jobInfo.succeeded: false` and no catalog, as Airbyte answers.
"""

from __future__ import annotations

from server.context import Context
from server.core import discover, schema_checks
from server.core.catalogs import api_catalog, schema_from_catalog
from server.core.schema_changes import Outcome
from server.models.checks import SourceCoreConfig
from server.models.discover import SourceDiscoverSchemaRead, SourceDiscoverSchemaRequestBody


def _read(found: discover.Discovery, outcome: Outcome | None = None) -> SourceDiscoverSchemaRead:
    if found.catalog is None:
        return SourceDiscoverSchemaRead(job_info=found.job_info)
    api = api_catalog(found.catalog)
    return SourceDiscoverSchemaRead(
        job_info=found.job_info,
        catalog=api,
        catalog_id=found.catalog_id,
        schema=schema_from_catalog(api),
        catalog_diff=None if outcome is None else outcome.diff,
        breaking_change=None if outcome is None else outcome.schema_change == "breaking",
        connection_status=None if outcome is None else outcome.connection.status,
    )


async def discover_schema_for_source(
    body: SourceDiscoverSchemaRequestBody, ctx: Context
) -> SourceDiscoverSchemaRead:
    """With a `connectionId`, the reply's `catalogDiff` compares that connection's catalog with
    the discovered one, recorded for the connection (which is paused if the change is
    breaking, or if its preference is `disable`)."""
    use_cache = not body.disable_cache
    if body.connection_id is None:
        return _read(await discover.discover_source(ctx, body.source_id, use_cache))
    found, outcome = await schema_checks.discover_for_connection(
        ctx, body.source_id, body.connection_id, use_cache
    )
    return _read(found, outcome)


async def execute_source_discover_schema(
    body: SourceCoreConfig, ctx: Context
) -> SourceDiscoverSchemaRead:
    found = await discover.discover_configuration(
        ctx, body.source_definition_id, body.connection_configuration, body.source_id
    )
    return _read(found)


handlers = [discover_schema_for_source, execute_source_discover_schema]
