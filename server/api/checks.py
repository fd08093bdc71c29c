"""Connection checks (tags: source, destination, scheduler): run the connector's `check`.

A check that fails (the connector says FAILED, crashes, times out, or cannot start, or the
spec refuses the configuration) is a 200 with `status: failed` and a message; only unknown
ids are HTTP errors (404).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from server.context import Context
from server.core.connectors import job_info, run_connector
from server.core.specs import (
    ConnectorUnavailable,
    configuration_problems,
    definition_spec,
    problems_message,
)
from server.domain.secrets import SecretPath, mask_text, restore, secret_values
from server.models.checks import CheckConnectionRead, DestinationCoreConfig, SourceCoreConfig
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead
from server.models.destinations import (
    DestinationIdRequestBody,
    DestinationRead,
    DestinationUpdate,
)
from server.models.sources import SourceIdRequestBody, SourceRead, SourceUpdate
from server.models.synchronous_jobs import FailureOrigin, JobConfigType
from server.runner.images import connector_image
from server.runner.oneshot import CommandFailed
from server.store import definitions, destinations, sources


async def run_check(
    ctx: Context,
    definition: SourceDefinitionRead | DestinationDefinitionRead,
    configuration: dict[str, Any],
    config_id: str | None = None,
    validate: bool = False,
    stored_paths: Sequence[SecretPath] | None = None,
) -> CheckConnectionRead:
    """Check `configuration`; with `validate`, one the spec refuses fails without running.
    Log lines are masked at the spec's secret paths and at `stored_paths` (those a stored
    configuration was validated with: a secret an older spec named stays one)."""
    is_source = isinstance(definition, SourceDefinitionRead)
    config_type: JobConfigType = (
        "check_connection_source" if is_source else "check_connection_destination"
    )
    origin: FailureOrigin = "source" if is_source else "destination"
    started = ctx.now()
    try:
        spec = await definition_spec(ctx, definition)
        problems = configuration_problems(spec, configuration) if validate else []
        if problems:
            raise CommandFailed(problems_message(problems))
        secrets = secret_values(configuration, spec.connectionSpecification, stored_paths)
        output = await run_connector(
            ctx, connector_image(definition, "check_connection"), "check", configuration, secrets
        )
    except (CommandFailed, ConnectorUnavailable) as exc:
        failure = exc if isinstance(exc, CommandFailed) else CommandFailed(exc.message)
        return CheckConnectionRead(
            status="failed",
            message=failure.message,
            job_info=job_info(
                config_type, started, ctx.now(), failure.log_lines, config_id, failure, origin
            ),
        )
    status = output.connection_status
    assert status is not None  # run_command raises unless the CONNECTION_STATUS came
    message = mask_text(status.message, secrets) if status.message else None
    return CheckConnectionRead(
        status="succeeded" if status.status == "SUCCEEDED" else "failed",
        message=message,
        job_info=job_info(config_type, started, ctx.now(), output.log_lines, config_id),
    )


async def _checked(
    ctx: Context,
    definition: SourceDefinitionRead | DestinationDefinitionRead,
    configuration: dict[str, Any],
    stored: dict[str, Any] | None,
    config_id: str | None,
    stored_paths: Sequence[SecretPath] | None = None,
) -> CheckConnectionRead:
    """Check a configuration not yet saved: masked secrets come from `stored`; one the spec
    refuses fails with the property named (Airbyte would run the connector, which says so)."""
    if stored is not None:
        configuration = restore(configuration, stored)
    return await run_check(ctx, definition, configuration, config_id, True, stored_paths)


def _source(
    db: Database, source_id: str
) -> tuple[SourceRead, SourceDefinitionRead, list[SecretPath] | None]:
    source, definition = sources.get_source_with_definition(db, source_id)
    return source, definition, sources.get_secret_paths(db, source_id)


def _destination(
    db: Database, destination_id: str
) -> tuple[DestinationRead, DestinationDefinitionRead, list[SecretPath] | None]:
    destination, definition = destinations.get_destination_with_definition(db, destination_id)
    return destination, definition, destinations.get_secret_paths(db, destination_id)


async def check_connection_to_source(
    body: SourceIdRequestBody, ctx: Context
) -> CheckConnectionRead:
    source, definition, paths = await ctx.store.read(_source, str(body.source_id))
    return await run_check(
        ctx, definition, source.connection_configuration, str(body.source_id), False, paths
    )


async def check_connection_to_source_for_update(
    body: SourceUpdate, ctx: Context
) -> CheckConnectionRead:
    source, definition, paths = await ctx.store.read(_source, str(body.source_id))
    return await _checked(
        ctx,
        definition,
        body.connection_configuration,
        source.connection_configuration,
        str(body.source_id),
        paths,
    )


async def execute_source_check_connection(
    body: SourceCoreConfig, ctx: Context
) -> CheckConnectionRead:
    definition = await ctx.store.read(
        definitions.get_source_definition, str(body.source_definition_id)
    )
    stored = paths = None
    if body.source_id is not None:
        source, _, paths = await ctx.store.read(_source, str(body.source_id))
        stored = source.connection_configuration
    return await _checked(ctx, definition, body.connection_configuration, stored, None, paths)


async def check_connection_to_destination(
    body: DestinationIdRequestBody, ctx: Context
) -> CheckConnectionRead:
    destination, definition, paths = await ctx.store.read(_destination, str(body.destination_id))
    return await run_check(
        ctx,
        definition,
        destination.connection_configuration,
        str(body.destination_id),
        False,
        paths,
    )


async def check_connection_to_destination_for_update(
    body: DestinationUpdate, ctx: Context
) -> CheckConnectionRead:
    destination, definition, paths = await ctx.store.read(_destination, str(body.destination_id))
    return await _checked(
        ctx,
        definition,
        body.connection_configuration,
        destination.connection_configuration,
        str(body.destination_id),
        paths,
    )


async def execute_destination_check_connection(
    body: DestinationCoreConfig, ctx: Context
) -> CheckConnectionRead:
    definition = await ctx.store.read(
        definitions.get_destination_definition, str(body.destination_definition_id)
    )
    stored = paths = None
    if body.destination_id is not None:
        destination, _, paths = await ctx.store.read(_destination, str(body.destination_id))
        stored = destination.connection_configuration
    return await _checked(ctx, definition, body.connection_configuration, stored, None, paths)


handlers = [
    check_connection_to_source,
    check_connection_to_source_for_update,
    execute_source_check_connection,
    check_connection_to_destination,
    check_connection_to_destination_for_update,
    execute_destination_check_connection,
]
