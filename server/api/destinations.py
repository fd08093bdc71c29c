"""Destination endpoints (tag: destination).

Two seams keep configuration handling in one place for every path that touches a destination
(these endpoints and web_backend's):
- `specs.prepare_configuration` is the only way a configuration gets into the store
  (validated against the connector's spec, masked secrets restored);
- `present_destination` builds every DestinationRead that is sent.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlite_utils import Database

from server.core import specs
from server.context import Context
from server.models.definitions import DestinationDefinitionRead
from server.models.destinations import (
    DestinationCreate,
    DestinationIdRequestBody,
    DestinationListRequestBody,
    DestinationRead,
    DestinationReadList,
    DestinationUpdate,
)
from server.domain.secrets import SecretPath
from server.store import definitions, workspaces
from server.store import destinations as store


async def present_destination(ctx: Context, destination: DestinationRead) -> DestinationRead:
    """The DestinationRead a client sees for a stored destination: masked by its connector's
    spec and by the secret paths stored with it (the spec may not be available any more)."""

    def read(db: Database) -> tuple[DestinationDefinitionRead, list[SecretPath] | None]:
        definition = definitions.get_destination_definition(
            db, str(destination.destination_definition_id)
        )
        return definition, store.get_secret_paths(db, str(destination.destination_id))

    definition, paths = await ctx.store.read(read)
    configuration = await specs.masked_configuration(
        ctx, definition, destination.connection_configuration, paths
    )
    return msgspec.structs.replace(destination, connection_configuration=configuration)


def _definition_in_workspace(
    db: Database, workspace_id: str, definition_id: str
) -> DestinationDefinitionRead:
    """404 unless both the workspace and the definition exist."""
    workspaces.get_workspace(db, workspace_id)
    return definitions.get_destination_definition(db, definition_id)


def _insert(db: Database, destination: DestinationRead) -> DestinationRead:
    # Checked again inside the write: the workspace or definition may have gone meanwhile.
    definition = _definition_in_workspace(
        db, str(destination.workspace_id), str(destination.destination_definition_id)
    )
    paths = specs.validated_secret_paths(db, definition)
    return store.insert_destination(db, destination, paths)


async def new_destination(
    ctx: Context,
    workspace_id: uuid.UUID,
    definition_id: uuid.UUID,
    name: str,
    configuration: dict[str, Any],
) -> DestinationRead:
    """A destination ready to insert (not yet stored), its configuration prepared."""
    definition = await ctx.store.read(
        _definition_in_workspace, str(workspace_id), str(definition_id)
    )
    prepared = await specs.prepare_configuration(ctx, definition, configuration)
    return DestinationRead(
        destination_definition_id=definition_id,
        destination_id=uuid.uuid4(),
        workspace_id=workspace_id,
        connection_configuration=prepared,
        name=name,
        destination_name=definition.name,
        icon=definition.icon,
        created_at=ctx.now(),
    )


async def create_destination(body: DestinationCreate, ctx: Context) -> DestinationRead:
    destination = await new_destination(
        ctx,
        body.workspace_id,
        body.destination_definition_id,
        body.name,
        body.connection_configuration,
    )
    return await present_destination(ctx, await ctx.store.write(_insert, destination))


async def replace_destination(
    ctx: Context, old_destination_id: uuid.UUID, destination: DestinationRead
) -> DestinationRead:
    """Store `destination`, delete `old_destination_id` (and its connections), in one write."""

    def swap(db: Database) -> DestinationRead:
        store.delete_destination(db, str(old_destination_id))
        return _insert(db, destination)

    return await present_destination(ctx, await ctx.store.write(swap))


async def get_destination(body: DestinationIdRequestBody, ctx: Context) -> DestinationRead:
    return await present_destination(
        ctx, await ctx.store.read(store.get_destination, str(body.destination_id))
    )


async def list_destinations_for_workspace(
    body: DestinationListRequestBody, ctx: Context
) -> DestinationReadList:
    def read(db: Database) -> list[DestinationRead]:
        workspaces.get_workspace(db, str(body.workspace_id))
        return store.list_destinations(db, str(body.workspace_id), body.page_size)

    destinations = await ctx.store.read(read)
    return DestinationReadList(
        destinations=[await present_destination(ctx, d) for d in destinations]
    )


async def update_destination(body: DestinationUpdate, ctx: Context) -> DestinationRead:
    destination_id = str(body.destination_id)
    current, definition = await ctx.store.read(
        store.get_destination_with_definition, destination_id
    )
    prepared = await specs.prepare_configuration(
        ctx, definition, body.connection_configuration, current.connection_configuration
    )

    def update(db: Database) -> DestinationRead:
        stored = store.get_destination(db, destination_id)
        changed = msgspec.structs.replace(
            stored, connection_configuration=prepared, name=body.name or stored.name
        )
        definition = definitions.get_destination_definition(
            db, str(stored.destination_definition_id)
        )
        previous = store.get_secret_paths(db, destination_id)
        paths = specs.validated_secret_paths(db, definition, previous)
        return store.update_destination(db, changed, paths)

    return await present_destination(ctx, await ctx.store.write(update))


async def delete_destination(body: DestinationIdRequestBody, ctx: Context) -> None:
    await ctx.store.write(store.delete_destination, str(body.destination_id))


handlers = [
    create_destination,
    get_destination,
    list_destinations_for_workspace,
    update_destination,
    delete_destination,
]
