"""Source definition endpoints (tag: source_definition): wire model in, one core call
(`server.core.definitions`, which owns the rules: what a definition may run, custom
definitions, their workspace), wire model out."""

from __future__ import annotations

from server.context import Context
from server.core import definitions as core
from server.models.definitions import (
    CustomSourceDefinitionCreate,
    DefinitionCreate,
    DefinitionUpdate,
    SourceDefinitionCreate,
    SourceDefinitionIdRequestBody,
    SourceDefinitionRead,
    SourceDefinitionReadList,
    SourceDefinitionUpdate,
)


def new_definition(body: DefinitionCreate) -> core.NewDefinition:
    return core.NewDefinition(**core.fields(body, core.NewDefinition))


def changes(body: DefinitionUpdate) -> core.DefinitionChanges:
    return core.DefinitionChanges(**core.fields(body, core.DefinitionChanges))


async def create_source_definition(
    body: SourceDefinitionCreate, ctx: Context
) -> SourceDefinitionRead:
    """The 2020 API's flat create."""
    return await core.create_source_definition(ctx, new_definition(body))


async def create_custom_source_definition(
    body: CustomSourceDefinitionCreate, ctx: Context
) -> SourceDefinitionRead:
    """The modern wrapped create; a workspace named in it must exist."""
    return await core.create_source_definition(
        ctx,
        new_definition(body.source_definition),
        core.Scope(
            workspace_id=body.workspace_id,
            scope_workspace_id=body.scope_id if body.scope_type == "workspace" else None,
        ),
        at="sourceDefinition.",
    )


async def get_source_definition(
    body: SourceDefinitionIdRequestBody, ctx: Context
) -> SourceDefinitionRead:
    return await core.get_source_definition(ctx, body.source_definition_id)


async def list_source_definitions(ctx: Context) -> SourceDefinitionReadList:
    return SourceDefinitionReadList(source_definitions=await core.list_source_definitions(ctx))


async def update_source_definition(
    body: SourceDefinitionUpdate, ctx: Context
) -> SourceDefinitionRead:
    return await core.update_source_definition(ctx, body.source_definition_id, changes(body))


async def delete_source_definition(body: SourceDefinitionIdRequestBody, ctx: Context) -> None:
    await core.delete_source_definition(ctx, body.source_definition_id)


handlers = [
    create_source_definition,
    create_custom_source_definition,
    get_source_definition,
    list_source_definitions,
    update_source_definition,
    delete_source_definition,
]
