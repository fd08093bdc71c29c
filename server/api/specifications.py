"""Connector specifications (tags: source_definition_specification,
destination_definition_specification): wire model in, one core call
(`server.core.specifications`), wire model out."""

from __future__ import annotations

from server.context import Context
from server.core import specifications as core
from server.models.destinations import DestinationIdRequestBody
from server.models.sources import SourceIdRequestBody
from server.models.specifications import (
    DestinationDefinitionIdWithWorkspaceId,
    DestinationDefinitionSpecificationRead,
    SourceDefinitionIdWithWorkspaceId,
    SourceDefinitionSpecificationRead,
)


async def get_source_definition_specification(
    body: SourceDefinitionIdWithWorkspaceId, ctx: Context
) -> SourceDefinitionSpecificationRead:
    return await core.source_definition_specification(
        ctx, body.source_definition_id, body.workspace_id
    )


async def get_specification_for_source_id(
    body: SourceIdRequestBody, ctx: Context
) -> SourceDefinitionSpecificationRead:
    return await core.source_specification(ctx, body.source_id)


async def get_destination_definition_specification(
    body: DestinationDefinitionIdWithWorkspaceId, ctx: Context
) -> DestinationDefinitionSpecificationRead:
    return await core.destination_definition_specification(
        ctx, body.destination_definition_id, body.workspace_id
    )


async def get_specification_for_destination_id(
    body: DestinationIdRequestBody, ctx: Context
) -> DestinationDefinitionSpecificationRead:
    return await core.destination_specification(ctx, body.destination_id)


handlers = [
    get_source_definition_specification,
    get_specification_for_source_id,
    get_destination_definition_specification,
    get_specification_for_destination_id,
]
