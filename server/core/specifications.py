"""Connector specifications of definitions and of the sources and destinations that use
them: `spec` run once per connector version, then cached (server.core.specs). A workspace
named with a definition must exist."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, get_args

from sqlite_utils import Database

from server.context import Context
from server.core.specs import connector_spec
from server.models.connections import DestinationSyncMode
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead
from server.models.specifications import (
    DestinationDefinitionSpecificationRead,
    SourceDefinitionSpecificationRead,
)
from server.runner.images import connector_image
from server.store import definitions, destinations, sources, workspaces

_DESTINATION_MODES: set[str] = set(get_args(DestinationSyncMode))
D = TypeVar("D", SourceDefinitionRead, DestinationDefinitionRead)
R = TypeVar("R", SourceDefinitionSpecificationRead, DestinationDefinitionSpecificationRead)


async def _source_spec(
    ctx: Context, definition: SourceDefinitionRead
) -> SourceDefinitionSpecificationRead:
    spec, info = await connector_spec(ctx, connector_image(definition, "get_spec"))
    return SourceDefinitionSpecificationRead(
        source_definition_id=definition.source_definition_id,
        connection_specification=spec.connectionSpecification,
        documentation_url=spec.documentationUrl,
        advanced_auth=spec.advanced_auth,
        job_info=info,
    )


async def _destination_spec(
    ctx: Context, definition: DestinationDefinitionRead
) -> DestinationDefinitionSpecificationRead:
    spec, info = await connector_spec(ctx, connector_image(definition, "get_spec"))
    modes: list[DestinationSyncMode] = [
        mode  # type: ignore[misc]
        for mode in spec.supported_destination_sync_modes or []
        if mode in _DESTINATION_MODES
    ]
    return DestinationDefinitionSpecificationRead(
        destination_definition_id=definition.destination_definition_id,
        connection_specification=spec.connectionSpecification,
        documentation_url=spec.documentationUrl,
        advanced_auth=spec.advanced_auth,
        supported_destination_sync_modes=modes,
        supports_dbt=False,
        supports_normalization=False,
        job_info=info,
    )


@dataclass(frozen=True)
class _Kind(Generic[D, R]):
    """Sources or destinations: their definitions, how an actor's is found, the reply."""

    get_definition: Callable[[Database, str], D]
    definition_of: Callable[[Database, str], D]
    spec: Callable[[Context, D], Awaitable[R]]


class _Specifications(Generic[D, R]):
    def __init__(self, kind: _Kind[D, R]) -> None:
        self.kind: _Kind[D, R] = kind

    async def of_definition(
        self, ctx: Context, definition_id: uuid.UUID, workspace_id: uuid.UUID | None = None
    ) -> R:
        """A definition's specification; the workspace named with it must exist."""

        def read(db: Database) -> D:
            if workspace_id is not None:
                workspaces.get_workspace(db, str(workspace_id))
            return self.kind.get_definition(db, str(definition_id))

        return await self.kind.spec(ctx, await ctx.store.read(read))

    async def of_actor(self, ctx: Context, actor_id: uuid.UUID) -> R:
        """The specification of the definition a source or destination uses."""
        return await self.kind.spec(
            ctx, await ctx.store.read(self.kind.definition_of, str(actor_id))
        )


def _source_definition(db: Database, source_id: str) -> SourceDefinitionRead:
    return sources.get_source_with_definition(db, source_id)[1]


def _destination_definition(db: Database, destination_id: str) -> DestinationDefinitionRead:
    return destinations.get_destination_with_definition(db, destination_id)[1]


_sources = _Specifications(
    _Kind(definitions.get_source_definition, _source_definition, _source_spec)
)
_destinations = _Specifications(
    _Kind(definitions.get_destination_definition, _destination_definition, _destination_spec)
)
source_definition_specification = _sources.of_definition
source_specification = _sources.of_actor
destination_definition_specification = _destinations.of_definition
destination_specification = _destinations.of_actor
