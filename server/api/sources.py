"""Source endpoints (tag: source): wire model in, one core call (`server.core.sources`, which
owns the rules: references, spec validation, secrets), wire model out."""

from __future__ import annotations

from server.context import Context
from server.core import sources as core
from server.models.sources import (
    SourceCreate,
    SourceIdRequestBody,
    SourceListRequestBody,
    SourceRead,
    SourceReadList,
    SourceUpdate,
)


async def create_source(body: SourceCreate, ctx: Context) -> SourceRead:
    return await core.create_source(
        ctx, body.workspace_id, body.source_definition_id, body.name, body.connection_configuration
    )


async def get_source(body: SourceIdRequestBody, ctx: Context) -> SourceRead:
    return await core.get_source(ctx, body.source_id)


async def list_sources_for_workspace(body: SourceListRequestBody, ctx: Context) -> SourceReadList:
    return SourceReadList(sources=await core.list_sources(ctx, body.workspace_id, body.page_size))


async def update_source(body: SourceUpdate, ctx: Context) -> SourceRead:
    return await core.update_source(ctx, body.source_id, body.name, body.connection_configuration)


async def delete_source(body: SourceIdRequestBody, ctx: Context) -> None:
    await core.delete_source(ctx, body.source_id)


handlers = [
    create_source,
    get_source,
    list_sources_for_workspace,
    update_source,
    delete_source,
]
