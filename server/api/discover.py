"""Schema discovery (tags: source, scheduler): run the source's `discover` (the rules are the
core's, `server.core.discover`).

Results are cached per connector version and configuration (`disable_cache` forces a new
run). A discover that fails (including a configuration the spec refuses) is a 200 with
`jobInfo.succeeded: false` and no catalog, as Airbyte answers.
"""

from __future__ import annotations

from server.context import Context
from server.core import discover
from server.core.catalogs import api_catalog, schema_from_catalog
from server.models.checks import SourceCoreConfig
from server.models.discover import SourceDiscoverSchemaRead, SourceDiscoverSchemaRequestBody


def _read(found: discover.Discovery) -> SourceDiscoverSchemaRead:
    if found.catalog is None:
        return SourceDiscoverSchemaRead(job_info=found.job_info)
    api = api_catalog(found.catalog)
    return SourceDiscoverSchemaRead(
        job_info=found.job_info,
        catalog=api,
        catalog_id=found.catalog_id,
        schema=schema_from_catalog(api),
    )


async def discover_schema_for_source(
    body: SourceDiscoverSchemaRequestBody, ctx: Context
) -> SourceDiscoverSchemaRead:
    return _read(await discover.discover_source(ctx, body.source_id, not body.disable_cache))


async def execute_source_discover_schema(
    body: SourceCoreConfig, ctx: Context
) -> SourceDiscoverSchemaRead:
    found = await discover.discover_configuration(
        ctx, body.source_definition_id, body.connection_configuration, body.source_id
    )
    return _read(found)


handlers = [discover_schema_for_source, execute_source_discover_schema]
