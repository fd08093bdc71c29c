"""Destinations (tag: destinations): list, get, create, PATCH, PUT, DELETE over
server.core.destinations, the same destinations the configuration API serves; the logic is
server.public.actors', shared with sources. A destination is created by `definitionId` or by
`configuration.destinationType`, which every reply's configuration carries too: the airbyte-api
SDK reads a destination's configuration as a union tagged by it.
"""

from __future__ import annotations

from uuid import UUID

from server.context import Context
from server.core import destinations as core
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
from server.public.actors import Core, PublicActors
from server.public.rest import Links

DESTINATIONS: PublicActors[DestinationRead, DestinationResponse, DestinationsResponse] = (
    PublicActors(
        "destination",
        Core(
            kind=core.KIND,
            get=core.get_destination,
            listed=core.list_destinations,
            create=core.create_destination,
            update=core.update_destination,
            delete=core.delete_destination,
        ),
        DestinationResponse,
        DestinationsResponse,
    )
)


async def list_destinations(
    query: ListDestinationsQuery, links: Links, ctx: Context
) -> DestinationsResponse:
    return await DESTINATIONS.listed(ctx, query, links)


async def get_destination(
    destination_id: UUID, query: GetDestinationQuery, ctx: Context
) -> DestinationResponse:
    return await DESTINATIONS.get(ctx, destination_id)


async def create_destination(body: DestinationCreateRequest, ctx: Context) -> DestinationResponse:
    return await DESTINATIONS.create(ctx, body)


async def patch_destination(
    destination_id: UUID, body: DestinationPatchRequest, ctx: Context
) -> DestinationResponse:
    return await DESTINATIONS.patch(ctx, destination_id, body)


async def put_destination(
    destination_id: UUID, body: DestinationPutRequest, ctx: Context
) -> DestinationResponse:
    return await DESTINATIONS.put(ctx, destination_id, body)


async def delete_destination(destination_id: UUID, ctx: Context) -> None:
    await DESTINATIONS.delete(ctx, destination_id)


handlers = [
    list_destinations,
    get_destination,
    create_destination,
    patch_destination,
    put_destination,
    delete_destination,
]
