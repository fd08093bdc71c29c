"""Schema discovery (tags: source, scheduler): run the source's `discover`.

Results are cached per connector version and configuration (`disable_cache` forces a new
run). A discover that fails (including a configuration the spec refuses) is a 200 with
`jobInfo.succeeded: false` and no catalog, as Airbyte answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from server.context import Context
from server.core.catalogs import api_catalog, schema_from_catalog
from server.core.connectors import job_info, run_connector
from server.core.specs import (
    ConnectorUnavailable,
    configuration_problems,
    definition_spec,
    problems_message,
)
from server.domain.secrets import SecretPath, restore, secret_values
from server.models.checks import SourceCoreConfig
from server.models.definitions import SourceDefinitionRead
from server.models.discover import SourceDiscoverSchemaRead, SourceDiscoverSchemaRequestBody
from server.models.sources import SourceRead
from server.protocol import AirbyteCatalog
from server.runner.cache_keys import spec_key
from server.runner.images import connector_image
from server.runner.oneshot import CommandFailed
from server.store import connector_cache, definitions, sources


def _read(catalog_id: str, catalog: AirbyteCatalog, info: Any) -> SourceDiscoverSchemaRead:
    api = api_catalog(catalog)
    return SourceDiscoverSchemaRead(
        job_info=info,
        catalog=api,
        catalog_id=uuid.UUID(catalog_id),
        schema=schema_from_catalog(api),
    )


async def run_discover(
    ctx: Context,
    definition: SourceDefinitionRead,
    configuration: dict[str, Any],
    config_id: str | None = None,
    use_cache: bool = True,
    validate: bool = False,
    stored_paths: Sequence[SecretPath] | None = None,
) -> SourceDiscoverSchemaRead:
    """Discover with `configuration`; with `validate`, one the spec refuses fails at once.
    Log lines are masked at the spec's secret paths and at `stored_paths` (a stored source's)."""
    connector = connector_image(definition, "discover_schema")
    cache_key = spec_key(connector)
    started = ctx.now()
    if use_cache:
        found = await ctx.store.read(
            connector_cache.find_discovered_catalog, cache_key, configuration
        )
        if found is not None:
            info = job_info("discover_schema", started, ctx.now(), [], config_id)
            return _read(found[0], found[1], info)
    try:
        spec = await definition_spec(ctx, definition)
        problems = configuration_problems(spec, configuration) if validate else []
        if problems:
            raise CommandFailed(problems_message(problems))
        secrets = secret_values(configuration, spec.connectionSpecification, stored_paths)
        output = await run_connector(ctx, connector, "discover", configuration, secrets)
    except (CommandFailed, ConnectorUnavailable) as exc:
        failure = exc if isinstance(exc, CommandFailed) else CommandFailed(exc.message)
        info = job_info(
            "discover_schema", started, ctx.now(), failure.log_lines, config_id, failure
        )
        return SourceDiscoverSchemaRead(job_info=info)
    assert output.catalog is not None  # run_command raises unless the CATALOG came
    catalog_id = await ctx.store.write(
        connector_cache.put_discovered_catalog, cache_key, configuration, output.catalog
    )
    info = job_info("discover_schema", started, ctx.now(), output.log_lines, config_id)
    return _read(catalog_id, output.catalog, info)


def _source(
    db: Database, source_id: str
) -> tuple[SourceRead, SourceDefinitionRead, list[SecretPath] | None]:
    source, definition = sources.get_source_with_definition(db, source_id)
    return source, definition, sources.get_secret_paths(db, source_id)


async def discover_schema_for_source(
    body: SourceDiscoverSchemaRequestBody, ctx: Context
) -> SourceDiscoverSchemaRead:
    source, definition, paths = await ctx.store.read(_source, str(body.source_id))
    return await run_discover(
        ctx,
        definition,
        source.connection_configuration,
        str(body.source_id),
        use_cache=not body.disable_cache,
        stored_paths=paths,
    )


async def execute_source_discover_schema(
    body: SourceCoreConfig, ctx: Context
) -> SourceDiscoverSchemaRead:
    definition = await ctx.store.read(
        definitions.get_source_definition, str(body.source_definition_id)
    )
    configuration, paths = body.connection_configuration, None
    if body.source_id is not None:
        source, _, paths = await ctx.store.read(_source, str(body.source_id))
        configuration = restore(configuration, source.connection_configuration)
    return await run_discover(ctx, definition, configuration, validate=True, stored_paths=paths)


handlers = [discover_schema_for_source, execute_source_discover_schema]
