"""Destination endpoints (tag: destination): wire model in, one core call
(`server.core.destinations`, which owns the rules: references, spec validation, secrets), wire
model out."""

from __future__ import annotations

from server.context import Context
from server.core import destinations as core
from server.models.destinations import (
    DestinationCreate,
    DestinationIdRequestBody,
    DestinationListRequestBody,
    DestinationRead,
    DestinationReadList,
    DestinationUpdate,
)


async def create_destination(body: DestinationCreate, ctx: Context) -> DestinationRead:
    return await core.create_destination(
        ctx,
        body.workspace_id,
        body.destination_definition_id,
        body.name,
        body.connection_configuration,
    )


async def get_destination(body: DestinationIdRequestBody, ctx: Context) -> DestinationRead:
    return await core.get_destination(ctx, body.destination_id)


async def list_destinations_for_workspace(
    body: DestinationListRequestBody, ctx: Context
) -> DestinationReadList:
    return DestinationReadList(
        destinations=await core.list_destinations(ctx, body.workspace_id, body.page_size)
    )


async def update_destination(body: DestinationUpdate, ctx: Context) -> DestinationRead:
    return await core.update_destination(
        ctx, body.destination_id, body.name, body.connection_configuration
    )


async def delete_destination(body: DestinationIdRequestBody, ctx: Context) -> None:
    await core.delete_destination(ctx, body.destination_id)


handlers = [
    create_destination,
    get_destination,
    list_destinations_for_workspace,
    update_destination,
    delete_destination,
]
