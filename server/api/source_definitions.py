"""Source definition endpoints (tag: source_definition)."""

from __future__ import annotations

import uuid

from sqlite_utils import Database

from server.context import Context
from server.errors import InvalidInput
from server.models.base import merge
from server.models.definitions import (
    CustomSourceDefinitionCreate,
    DestinationDefinitionRead,
    SourceDefinitionCreate,
    SourceDefinitionIdRequestBody,
    SourceDefinitionRead,
    SourceDefinitionReadList,
    SourceDefinitionUpdate,
)
from server.runner.allowed import rules_for
from server.store import definitions as store
from server.store import workspaces


def default_command(docker_repository: str) -> list[str]:
    """`airbyte/source-faker` runs as the program `source-faker` unless told otherwise."""
    return [docker_repository.rsplit("/", 1)[-1]]


def refuse_unrunnable(
    ctx: Context, definition: SourceDefinitionRead | DestinationDefinitionRead, at: str = ""
) -> None:
    """A 422 naming the field when the definition names a program or image it may not run
    (the rule is server.runner.allowed's); `at` prefixes the path in a wrapped body."""
    refusal = rules_for(ctx.settings).refusal(
        definition.runner, definition.command, definition.docker_repository
    )
    if refusal is not None:
        value = definition.command if refusal.field == "command" else definition.docker_repository
        raise InvalidInput(refusal.message, property_path=at + refusal.field, invalid_value=value)


def new_source_definition(body: SourceDefinitionCreate) -> SourceDefinitionRead:
    return SourceDefinitionRead(
        source_definition_id=uuid.uuid4(),
        name=body.name,
        docker_repository=body.docker_repository,
        docker_image_tag=body.docker_image_tag,
        documentation_url=body.documentation_url,
        icon=body.icon,
        resource_requirements=body.resource_requirements,
        custom=True,
        release_stage="custom",
        source_type="custom",
        protocol_version="0.2.0",
        runner=body.runner,
        command=body.command or default_command(body.docker_repository),
    )


async def create_source_definition(
    body: SourceDefinitionCreate, ctx: Context
) -> SourceDefinitionRead:
    """The 2020 API's flat create."""
    definition = new_source_definition(body)
    refuse_unrunnable(ctx, definition)
    return await ctx.store.write(store.insert_source_definition, definition)


async def create_custom_source_definition(
    body: CustomSourceDefinitionCreate, ctx: Context
) -> SourceDefinitionRead:
    """The modern wrapped create; a workspace named in it must exist."""
    definition = new_source_definition(body.source_definition)
    refuse_unrunnable(ctx, definition, at="sourceDefinition.")

    def insert(db: Database) -> SourceDefinitionRead:
        if body.workspace_id is not None:
            workspaces.get_workspace(db, str(body.workspace_id))
        if body.scope_type == "workspace" and body.scope_id is not None:
            workspaces.get_workspace(db, str(body.scope_id))
        return store.insert_source_definition(db, definition)

    return await ctx.store.write(insert)


async def get_source_definition(
    body: SourceDefinitionIdRequestBody, ctx: Context
) -> SourceDefinitionRead:
    return await ctx.store.read(store.get_source_definition, str(body.source_definition_id))


async def list_source_definitions(ctx: Context) -> SourceDefinitionReadList:
    definitions = await ctx.store.read(store.list_source_definitions)
    return SourceDefinitionReadList(source_definitions=definitions)


async def update_source_definition(
    body: SourceDefinitionUpdate, ctx: Context
) -> SourceDefinitionRead:
    def update(db: Database) -> SourceDefinitionRead:
        current = store.get_source_definition(db, str(body.source_definition_id))
        # The result is checked, not the body: `runner: process` alone may switch a stored
        # command on.
        updated = merge(current, body)
        refuse_unrunnable(ctx, updated)
        return store.update_source_definition(db, updated)

    return await ctx.store.write(update)


async def delete_source_definition(body: SourceDefinitionIdRequestBody, ctx: Context) -> None:
    await ctx.store.write(store.delete_source_definition, str(body.source_definition_id))


handlers = [
    create_source_definition,
    create_custom_source_definition,
    get_source_definition,
    list_source_definitions,
    update_source_definition,
    delete_source_definition,
]
