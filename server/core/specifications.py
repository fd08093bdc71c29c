"""Connector specifications of definitions and of the sources and destinations that use
them: `spec` run once per connector version, then cached (server.core.specs). A workspace
named with a definition must exist."""

from __future__ import annotations

import uuid
from typing import get_args

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


async def source_definition_specification(
    ctx: Context, definition_id: uuid.UUID, workspace_id: uuid.UUID | None = None
) -> SourceDefinitionSpecificationRead:
    if workspace_id is not None:
        await ctx.store.read(workspaces.get_workspace, str(workspace_id))
    definition = await ctx.store.read(definitions.get_source_definition, str(definition_id))
    return await _source_spec(ctx, definition)


async def source_specification(
    ctx: Context, source_id: uuid.UUID
) -> SourceDefinitionSpecificationRead:
    _, definition = await ctx.store.read(sources.get_source_with_definition, str(source_id))
    return await _source_spec(ctx, definition)


async def destination_definition_specification(
    ctx: Context, definition_id: uuid.UUID, workspace_id: uuid.UUID | None = None
) -> DestinationDefinitionSpecificationRead:
    if workspace_id is not None:
        await ctx.store.read(workspaces.get_workspace, str(workspace_id))
    definition = await ctx.store.read(definitions.get_destination_definition, str(definition_id))
    return await _destination_spec(ctx, definition)


async def destination_specification(
    ctx: Context, destination_id: uuid.UUID
) -> DestinationDefinitionSpecificationRead:
    _, definition = await ctx.store.read(
        destinations.get_destination_with_definition, str(destination_id)
    )
    return await _destination_spec(ctx, definition)
