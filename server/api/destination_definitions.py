"""Destination definition endpoints (tag: destination_definition): wire model in, one core
call (`server.core.definitions`), wire model out."""

from __future__ import annotations

from server.api.source_definitions import changes, new_definition
from server.context import Context
from server.core import definitions as core
from server.models.definitions import (
    CustomDestinationDefinitionCreate,
    DestinationDefinitionCreate,
    DestinationDefinitionIdRequestBody,
    DestinationDefinitionRead,
    DestinationDefinitionReadList,
    DestinationDefinitionUpdate,
)


async def create_destination_definition(
    body: DestinationDefinitionCreate, ctx: Context
) -> DestinationDefinitionRead:
    """The 2020 API's flat create."""
    return await core.create_destination_definition(ctx, new_definition(body))


async def create_custom_destination_definition(
    body: CustomDestinationDefinitionCreate, ctx: Context
) -> DestinationDefinitionRead:
    """The modern wrapped create; a workspace named in it must exist."""
    return await core.create_destination_definition(
        ctx,
        new_definition(body.destination_definition),
        core.Scope(
            workspace_id=body.workspace_id,
            scope_workspace_id=body.scope_id if body.scope_type == "workspace" else None,
        ),
        at="destinationDefinition.",
    )


async def get_destination_definition(
    body: DestinationDefinitionIdRequestBody, ctx: Context
) -> DestinationDefinitionRead:
    return await core.get_destination_definition(ctx, body.destination_definition_id)


async def list_destination_definitions(ctx: Context) -> DestinationDefinitionReadList:
    definitions = await core.list_destination_definitions(ctx)
    return DestinationDefinitionReadList(destination_definitions=definitions)


async def update_destination_definition(
    body: DestinationDefinitionUpdate, ctx: Context
) -> DestinationDefinitionRead:
    definition_id = body.destination_definition_id
    return await core.update_destination_definition(ctx, definition_id, changes(body))


async def delete_destination_definition(
    body: DestinationDefinitionIdRequestBody, ctx: Context
) -> None:
    await core.delete_destination_definition(ctx, body.destination_definition_id)


handlers = [
    create_destination_definition,
    create_custom_destination_definition,
    get_destination_definition,
    list_destination_definitions,
    update_destination_definition,
    delete_destination_definition,
]
