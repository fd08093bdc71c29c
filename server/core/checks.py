"""Connection checks: run the connector's `check` on a stored or a proposed configuration.

A check that fails (the connector says FAILED, crashes, times out, or cannot start, or the
spec refuses the configuration) is a 200 with `status: failed` and a message; only unknown
ids are HTTP errors (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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

A = TypeVar("A", SourceRead, DestinationRead)
D = TypeVar("D", SourceDefinitionRead, DestinationDefinitionRead)


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


@dataclass(frozen=True)
class _Kind(Generic[A, D]):
    """Sources or destinations: how one is read with its definition, and its definition."""

    get_with_definition: Callable[[Database, str], tuple[A, D]]
    get_secret_paths: Callable[[Database, str], list[SecretPath] | None]
    get_definition: Callable[[Database, str], D]


class _Checks(Generic[A, D]):
    """The checks of one kind of actor: as stored, as it would be updated, or a configuration
    for a definition."""

    def __init__(self, kind: _Kind[A, D]) -> None:
        self.kind: _Kind[A, D] = kind

    def _stored(self, db: Database, actor_id: str) -> tuple[A, D, list[SecretPath] | None]:
        actor, definition = self.kind.get_with_definition(db, actor_id)
        return actor, definition, self.kind.get_secret_paths(db, actor_id)

    async def stored(self, ctx: Context, actor_id: uuid.UUID) -> CheckConnectionRead:
        """Check a stored actor as it is."""
        actor, definition, paths = await ctx.store.read(self._stored, str(actor_id))
        return await run_check(
            ctx, definition, actor.connection_configuration, str(actor_id), False, paths
        )

    async def update(
        self, ctx: Context, actor_id: uuid.UUID, configuration: dict[str, Any]
    ) -> CheckConnectionRead:
        """Check a stored actor's proposed configuration (masked secrets keep theirs)."""
        actor, definition, paths = await ctx.store.read(self._stored, str(actor_id))
        stored = actor.connection_configuration
        return await _checked(ctx, definition, configuration, stored, str(actor_id), paths)

    async def configuration(
        self,
        ctx: Context,
        definition_id: uuid.UUID,
        configuration: dict[str, Any],
        actor_id: uuid.UUID | None = None,
    ) -> CheckConnectionRead:
        """Check a configuration for a definition; masked secrets come from `actor_id`'s."""
        definition = await ctx.store.read(self.kind.get_definition, str(definition_id))
        stored = paths = None
        if actor_id is not None:
            actor, _, paths = await ctx.store.read(self._stored, str(actor_id))
            stored = actor.connection_configuration
        return await _checked(ctx, definition, configuration, stored, None, paths)


_sources: _Checks[SourceRead, SourceDefinitionRead] = _Checks(
    _Kind(
        sources.get_source_with_definition,
        sources.get_secret_paths,
        definitions.get_source_definition,
    )
)
_destinations: _Checks[DestinationRead, DestinationDefinitionRead] = _Checks(
    _Kind(
        destinations.get_destination_with_definition,
        destinations.get_secret_paths,
        definitions.get_destination_definition,
    )
)
check_source = _sources.stored
check_source_update = _sources.update
check_source_configuration = _sources.configuration
check_destination = _destinations.stored
check_destination_update = _destinations.update
check_destination_configuration = _destinations.configuration
