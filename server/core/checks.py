"""Connection checks: run the connector's `check` on a stored or a proposed configuration.

A check that fails (the connector says FAILED, crashes, times out, or cannot start, or the
spec refuses the configuration) is a 200 with `status: failed` and a message; only unknown
ids are HTTP errors (404).
"""

from __future__ import annotations

import uuid
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
from server.models.checks import CheckConnectionRead
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead
from server.models.destinations import DestinationRead
from server.models.sources import SourceRead
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


async def check_source(ctx: Context, source_id: uuid.UUID) -> CheckConnectionRead:
    """Check a stored source as it is."""
    source, definition, paths = await ctx.store.read(_source, str(source_id))
    return await run_check(
        ctx, definition, source.connection_configuration, str(source_id), False, paths
    )


async def check_source_update(
    ctx: Context, source_id: uuid.UUID, configuration: dict[str, Any]
) -> CheckConnectionRead:
    """Check a stored source's proposed configuration (masked secrets keep theirs)."""
    source, definition, paths = await ctx.store.read(_source, str(source_id))
    return await _checked(
        ctx, definition, configuration, source.connection_configuration, str(source_id), paths
    )


async def check_source_configuration(
    ctx: Context,
    definition_id: uuid.UUID,
    configuration: dict[str, Any],
    source_id: uuid.UUID | None = None,
) -> CheckConnectionRead:
    """Check a configuration for a definition; masked secrets come from `source_id`'s."""
    definition = await ctx.store.read(definitions.get_source_definition, str(definition_id))
    stored = paths = None
    if source_id is not None:
        source, _, paths = await ctx.store.read(_source, str(source_id))
        stored = source.connection_configuration
    return await _checked(ctx, definition, configuration, stored, None, paths)


async def check_destination(ctx: Context, destination_id: uuid.UUID) -> CheckConnectionRead:
    """Check a stored destination as it is."""
    destination, definition, paths = await ctx.store.read(_destination, str(destination_id))
    return await run_check(
        ctx, definition, destination.connection_configuration, str(destination_id), False, paths
    )


async def check_destination_update(
    ctx: Context, destination_id: uuid.UUID, configuration: dict[str, Any]
) -> CheckConnectionRead:
    """Check a stored destination's proposed configuration (masked secrets keep theirs)."""
    destination, definition, paths = await ctx.store.read(_destination, str(destination_id))
    return await _checked(
        ctx,
        definition,
        configuration,
        destination.connection_configuration,
        str(destination_id),
        paths,
    )


async def check_destination_configuration(
    ctx: Context,
    definition_id: uuid.UUID,
    configuration: dict[str, Any],
    destination_id: uuid.UUID | None = None,
) -> CheckConnectionRead:
    """Check a configuration for a definition; masked secrets come from `destination_id`'s."""
    definition = await ctx.store.read(definitions.get_destination_definition, str(definition_id))
    stored = paths = None
    if destination_id is not None:
        destination, _, paths = await ctx.store.read(_destination, str(destination_id))
        stored = destination.connection_configuration
    return await _checked(ctx, definition, configuration, stored, None, paths)
