"""Sources (tag: sources): list, get, create, PATCH, PUT, DELETE over server.core.sources, the
same sources the configuration API serves.

A source is created by `definitionId` or by `configuration.sourceType` (server.core.
connector_types); the type is taken out of the configuration before the core validates it and
put back into every reply (server.public.connector_types).
"""

from __future__ import annotations

from uuid import UUID

from server.context import Context
from server.core import connector_types as types
from server.core import sources as core
from server.core import workspaces
from server.core.errors import InvalidInput
from server.models.public.sources import (
    GetSourceQuery,
    ListSourcesQuery,
    SourceCreateRequest,
    SourcePatchRequest,
    SourcePutRequest,
    SourceResponse,
    SourcesResponse,
)
from server.models.sources import SourceRead
from server.public import connector_types as configs
from server.public.rest import Links

KIND: types.ActorKind = "source"


def shown(source: SourceRead, names: dict[UUID, str]) -> SourceResponse:
    name = names.get(source.source_definition_id, "")
    return SourceResponse(
        source_id=source.source_id,
        name=source.name,
        source_type=name,
        definition_id=source.source_definition_id,
        workspace_id=source.workspace_id,
        configuration=configs.with_type(KIND, source.connection_configuration, name),
        created_at=source.created_at,
    )


async def _reply(ctx: Context, source: SourceRead) -> SourceResponse:
    return shown(source, await types.type_names(ctx, KIND))


async def list_sources(query: ListSourcesQuery, links: Links, ctx: Context) -> SourcesResponse:
    names = await types.type_names(ctx, KIND)
    data, after, before = await configs.paged(
        query,
        links,
        lambda: workspaces.list_workspaces(ctx),
        lambda workspace_id: core.list_sources(ctx, workspace_id, None),
        lambda source: shown(source, names),
    )
    return SourcesResponse(data=data, next=after, previous=before)


async def get_source(source_id: UUID, query: GetSourceQuery, ctx: Context) -> SourceResponse:
    return await _reply(ctx, await core.get_source(ctx, source_id))


async def create_source(body: SourceCreateRequest, ctx: Context) -> SourceResponse:
    definition_id, configuration = await configs.definition_for(
        ctx, KIND, body.definition_id, body.configuration
    )
    created = await configs.as_public(
        core.create_source(ctx, body.workspace_id, definition_id, body.name, configuration)
    )
    return await _reply(ctx, created)


async def patch_source(source_id: UUID, body: SourcePatchRequest, ctx: Context) -> SourceResponse:
    current = await core.get_source(ctx, source_id)
    if body.workspace_id is not None and body.workspace_id != current.workspace_id:
        raise InvalidInput(
            "A source cannot move to another workspace",
            property_path="workspaceId",
            invalid_value=str(body.workspace_id),
        )
    # The stored configuration comes back masked; the core restores the masked secrets.
    configuration = current.connection_configuration
    if body.configuration is not None:
        configuration = configs.merged(configuration, configs.split(KIND, body.configuration)[1])
    updated = await configs.as_public(core.update_source(ctx, source_id, body.name, configuration))
    return await _reply(ctx, updated)


async def put_source(source_id: UUID, body: SourcePutRequest, ctx: Context) -> SourceResponse:
    configuration = configs.split(KIND, body.configuration)[1]
    updated = await configs.as_public(core.update_source(ctx, source_id, body.name, configuration))
    return await _reply(ctx, updated)


async def delete_source(source_id: UUID, ctx: Context) -> None:
    await core.delete_source(ctx, source_id)


handlers = [list_sources, get_source, create_source, patch_source, put_source, delete_source]
