"""Destination definition endpoints (tag: destination_definition)."""

from __future__ import annotations

import uuid

from sqlite_utils import Database

from server.api.source_definitions import default_command, refuse_unrunnable
from server.context import Context
from server.models.base import merge
from server.models.definitions import (
    CustomDestinationDefinitionCreate,
    DestinationDefinitionCreate,
    DestinationDefinitionIdRequestBody,
    DestinationDefinitionRead,
    DestinationDefinitionReadList,
    DestinationDefinitionUpdate,
    NormalizationDestinationDefinitionConfig,
)
from server.store import definitions as store
from server.store import workspaces


def new_destination_definition(body: DestinationDefinitionCreate) -> DestinationDefinitionRead:
    return DestinationDefinitionRead(
        destination_definition_id=uuid.uuid4(),
        name=body.name,
        docker_repository=body.docker_repository,
        docker_image_tag=body.docker_image_tag,
        documentation_url=body.documentation_url,
        icon=body.icon,
        resource_requirements=body.resource_requirements,
        custom=True,
        release_stage="custom",
        protocol_version="0.2.0",
        supports_dbt=False,
        normalization_config=NormalizationDestinationDefinitionConfig(supported=False),
        runner=body.runner,
        command=body.command or default_command(body.docker_repository),
    )


async def create_destination_definition(
    body: DestinationDefinitionCreate, ctx: Context
) -> DestinationDefinitionRead:
    """The 2020 API's flat create."""
    definition = new_destination_definition(body)
    refuse_unrunnable(ctx, definition)
    return await ctx.store.write(store.insert_destination_definition, definition)


async def create_custom_destination_definition(
    body: CustomDestinationDefinitionCreate, ctx: Context
) -> DestinationDefinitionRead:
    """The modern wrapped create; a workspace named in it must exist."""
    definition = new_destination_definition(body.destination_definition)
    refuse_unrunnable(ctx, definition, at="destinationDefinition.")

    def insert(db: Database) -> DestinationDefinitionRead:
        if body.workspace_id is not None:
            workspaces.get_workspace(db, str(body.workspace_id))
        if body.scope_type == "workspace" and body.scope_id is not None:
            workspaces.get_workspace(db, str(body.scope_id))
        return store.insert_destination_definition(db, definition)

    return await ctx.store.write(insert)


async def get_destination_definition(
    body: DestinationDefinitionIdRequestBody, ctx: Context
) -> DestinationDefinitionRead:
    definition_id = str(body.destination_definition_id)
    return await ctx.store.read(store.get_destination_definition, definition_id)


async def list_destination_definitions(ctx: Context) -> DestinationDefinitionReadList:
    definitions = await ctx.store.read(store.list_destination_definitions)
    return DestinationDefinitionReadList(destination_definitions=definitions)


async def update_destination_definition(
    body: DestinationDefinitionUpdate, ctx: Context
) -> DestinationDefinitionRead:
    def update(db: Database) -> DestinationDefinitionRead:
        current = store.get_destination_definition(db, str(body.destination_definition_id))
        updated = merge(current, body)  # checked as a whole, as for sources
        refuse_unrunnable(ctx, updated)
        return store.update_destination_definition(db, updated)

    return await ctx.store.write(update)


async def delete_destination_definition(
    body: DestinationDefinitionIdRequestBody, ctx: Context
) -> None:
    definition_id = str(body.destination_definition_id)
    await ctx.store.write(store.delete_destination_definition, definition_id)


handlers = [
    create_destination_definition,
    create_custom_destination_definition,
    get_destination_definition,
    list_destination_definitions,
    update_destination_definition,
    delete_destination_definition,
]
