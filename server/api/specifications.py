"""Connector specifications (tags: source_definition_specification,
destination_definition_specification): `spec` run once per connector version, then cached."""

from __future__ import annotations

from typing import get_args

from server.context import Context
from server.core.specs import connector_spec
from server.models.connections import DestinationSyncMode
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead
from server.models.destinations import DestinationIdRequestBody
from server.models.sources import SourceIdRequestBody
from server.models.specifications import (
    DestinationDefinitionIdWithWorkspaceId,
    DestinationDefinitionSpecificationRead,
    SourceDefinitionIdWithWorkspaceId,
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


async def get_source_definition_specification(
    body: SourceDefinitionIdWithWorkspaceId, ctx: Context
) -> SourceDefinitionSpecificationRead:
    if body.workspace_id is not None:
        await ctx.store.read(workspaces.get_workspace, str(body.workspace_id))
    definition = await ctx.store.read(
        definitions.get_source_definition, str(body.source_definition_id)
    )
    return await _source_spec(ctx, definition)


async def get_specification_for_source_id(
    body: SourceIdRequestBody, ctx: Context
) -> SourceDefinitionSpecificationRead:
    _, definition = await ctx.store.read(sources.get_source_with_definition, str(body.source_id))
    return await _source_spec(ctx, definition)


async def get_destination_definition_specification(
    body: DestinationDefinitionIdWithWorkspaceId, ctx: Context
) -> DestinationDefinitionSpecificationRead:
    if body.workspace_id is not None:
        await ctx.store.read(workspaces.get_workspace, str(body.workspace_id))
    definition = await ctx.store.read(
        definitions.get_destination_definition, str(body.destination_definition_id)
    )
    return await _destination_spec(ctx, definition)


async def get_specification_for_destination_id(
    body: DestinationIdRequestBody, ctx: Context
) -> DestinationDefinitionSpecificationRead:
    _, definition = await ctx.store.read(
        destinations.get_destination_with_definition, str(body.destination_id)
    )
    return await _destination_spec(ctx, definition)


handlers = [
    get_source_definition_specification,
    get_specification_for_source_id,
    get_destination_definition_specification,
    get_specification_for_destination_id,
]
