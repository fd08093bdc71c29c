"""Destinations (tag: destinations): list, get, create, PATCH, PUT, DELETE over
server.core.destinations, the same destinations the configuration API serves.

A destination is created by `definitionId` or by `configuration.destinationType` (server.core.
connector_types); the type is taken out of the configuration before the core validates it and
put back into every reply (server.public.connector_types): the airbyte-api SDK reads a
destination's configuration as a union tagged by `destinationType`.
"""

from __future__ import annotations

from uuid import UUID

from server.context import Context
from server.core import connector_types as types
from server.core import destinations as core
from server.core import workspaces
from server.models.destinations import DestinationRead
from server.models.public.destinations import (
    DestinationCreateRequest,
    DestinationPatchRequest,
    DestinationPutRequest,
    DestinationResponse,
    DestinationsResponse,
    GetDestinationQuery,
    ListDestinationsQuery,
)
from server.public import connector_types as configs
from server.public.rest import Links

KIND: types.ActorKind = "destination"


def shown(destination: DestinationRead, names: dict[UUID, str]) -> DestinationResponse:
    name = names.get(destination.destination_definition_id, "")
    return DestinationResponse(
        destination_id=destination.destination_id,
        name=destination.name,
        destination_type=name,
        definition_id=destination.destination_definition_id,
        workspace_id=destination.workspace_id,
        configuration=configs.with_type(KIND, destination.connection_configuration, name),
        created_at=destination.created_at,
    )


async def _reply(ctx: Context, destination: DestinationRead) -> DestinationResponse:
    return shown(destination, await types.type_names(ctx, KIND))


async def list_destinations(
    query: ListDestinationsQuery, links: Links, ctx: Context
) -> DestinationsResponse:
    names = await types.type_names(ctx, KIND)
    data, after, before = await configs.paged(
        query,
        links,
        lambda: workspaces.list_workspaces(ctx),
        lambda workspace_id: core.list_destinations(ctx, workspace_id, None),
        lambda destination: shown(destination, names),
    )
    return DestinationsResponse(data=data, next=after, previous=before)


async def get_destination(
    destination_id: UUID, query: GetDestinationQuery, ctx: Context
) -> DestinationResponse:
    return await _reply(ctx, await core.get_destination(ctx, destination_id))


async def create_destination(body: DestinationCreateRequest, ctx: Context) -> DestinationResponse:
    definition_id, configuration = await configs.definition_for(
        ctx, KIND, body.definition_id, body.configuration
    )
    created = await configs.as_public(
        core.create_destination(ctx, body.workspace_id, definition_id, body.name, configuration)
    )
    return await _reply(ctx, created)


async def patch_destination(
    destination_id: UUID, body: DestinationPatchRequest, ctx: Context
) -> DestinationResponse:
    current = await core.get_destination(ctx, destination_id)
    # The stored configuration comes back masked; the core restores the masked secrets.
    configuration = current.connection_configuration
    if body.configuration is not None:
        configuration = configs.merged(configuration, configs.split(KIND, body.configuration)[1])
    updated = await configs.as_public(
        core.update_destination(ctx, destination_id, body.name, configuration)
    )
    return await _reply(ctx, updated)


async def put_destination(
    destination_id: UUID, body: DestinationPutRequest, ctx: Context
) -> DestinationResponse:
    configuration = configs.split(KIND, body.configuration)[1]
    updated = await configs.as_public(
        core.update_destination(ctx, destination_id, body.name, configuration)
    )
    return await _reply(ctx, updated)


async def delete_destination(destination_id: UUID, ctx: Context) -> None:
    await core.delete_destination(ctx, destination_id)


handlers = [
    list_destinations,
    get_destination,
    create_destination,
    patch_destination,
    put_destination,
    delete_destination,
]
