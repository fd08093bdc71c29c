"""Schema discovery: run a source's `discover`, the rules every face follows for it.

- Results are cached per connector version and configuration (`use_cache=False` forces a run;
  `max_age` takes only a cached result at most that many seconds old).
- A discover that fails (including a configuration the spec refuses, when asked to validate)
  is a result, not an error: a failed `jobInfo` and no catalog, as Airbyte answers.
- Log lines are masked at the spec's secret paths and at the secret paths stored with the
  source; masked secrets sent back for a stored source keep their stored values.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.core.connectors import job_info, run_connector
from server.core.specs import (
    ConnectorUnavailable,
    configuration_problems,
    definition_spec,
    problems_message,
)
from server.domain.secrets import SecretPath, restore, secret_values
from server.models.definitions import SourceDefinitionRead
from server.models.sources import SourceRead
from server.models.synchronous_jobs import SynchronousJobRead
from server.protocol import ProtocolCatalog as AirbyteCatalog
from server.runner.cache_keys import spec_key
from server.runner.images import connector_image
from server.runner.oneshot import CommandFailed
from server.store import connector_cache, definitions, sources


class Discovery(msgspec.Struct, frozen=True):
    """What a discover gave: its job, and (when it succeeded) the catalog and its cached id;
    `cached` when no connector ran (the cache had it)."""

    job_info: SynchronousJobRead
    catalog_id: uuid.UUID | None = None
    catalog: AirbyteCatalog | None = None
    cached: bool = False


async def run_discover(
    ctx: Context,
    definition: SourceDefinitionRead,
    configuration: dict[str, Any],
    config_id: str | None = None,
    use_cache: bool = True,
    validate: bool = False,
    stored_paths: Sequence[SecretPath] | None = None,
    max_age: int | None = None,
) -> Discovery:
    """Discover with `configuration`; with `validate`, one the spec refuses fails at once.
    Log lines are masked at the spec's secret paths and at `stored_paths` (a stored source's)."""
    connector = connector_image(definition, "discover_schema")
    cache_key = spec_key(connector)
    started = ctx.now()
    if use_cache:
        found = await ctx.store.read(
            connector_cache.find_discovered_catalog, cache_key, configuration, max_age
        )
        if found is not None:
            info = job_info("discover_schema", started, ctx.now(), [], config_id)
            return Discovery(info, uuid.UUID(found[0]), found[1], cached=True)
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
        return Discovery(info)
    assert output.catalog is not None  # run_command raises unless the CATALOG came
    catalog_id = await ctx.store.write(
        connector_cache.put_discovered_catalog, cache_key, configuration, output.catalog
    )
    info = job_info("discover_schema", started, ctx.now(), output.log_lines, config_id)
    return Discovery(info, uuid.UUID(catalog_id), output.catalog)


def _source(
    db: Database, source_id: str
) -> tuple[SourceRead, SourceDefinitionRead, list[SecretPath] | None]:
    source, definition = sources.get_source_with_definition(db, source_id)
    return source, definition, sources.get_secret_paths(db, source_id)


async def discover_source(
    ctx: Context, source_id: uuid.UUID, use_cache: bool = True, max_age: int | None = None
) -> Discovery:
    """Discover a stored source with its stored configuration."""
    source, definition, paths = await ctx.store.read(_source, str(source_id))
    return await run_discover(
        ctx,
        definition,
        source.connection_configuration,
        str(source_id),
        use_cache=use_cache,
        stored_paths=paths,
        max_age=max_age,
    )


async def discover_configuration(
    ctx: Context,
    definition_id: uuid.UUID,
    configuration: dict[str, Any],
    source_id: uuid.UUID | None = None,
) -> Discovery:
    """Discover with a configuration not (yet) stored, validated against the spec first; for a
    stored `source_id`, masked secrets sent back keep the source's stored values."""
    definition = await ctx.store.read(definitions.get_source_definition, str(definition_id))
    paths = None
    if source_id is not None:
        source, _, paths = await ctx.store.read(_source, str(source_id))
        configuration = restore(configuration, source.connection_configuration)
    return await run_discover(ctx, definition, configuration, validate=True, stored_paths=paths)
