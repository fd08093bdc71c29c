"""Sources (tag: sources): list, get, create, PATCH, PUT, DELETE over server.core.sources, the
same sources the configuration API serves; the logic is server.public.actors', shared with
destinations. A source is created by `definitionId` or by `configuration.sourceType`.
"""

from __future__ import annotations

from uuid import UUID

from server.context import Context
from server.core import sources as core
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
from server.public.actors import Core, PublicActors
from server.public.rest import Links

SOURCES: PublicActors[SourceRead, SourceResponse, SourcesResponse] = PublicActors(
    "source",
    Core(
        kind=core.KIND,
        get=core.get_source,
        listed=core.list_sources,
        create=core.create_source,
        update=core.update_source,
        delete=core.delete_source,
    ),
    SourceResponse,
    SourcesResponse,
)


async def list_sources(query: ListSourcesQuery, links: Links, ctx: Context) -> SourcesResponse:
    return await SOURCES.listed(ctx, query, links)


async def get_source(source_id: UUID, query: GetSourceQuery, ctx: Context) -> SourceResponse:
    return await SOURCES.get(ctx, source_id)


async def create_source(body: SourceCreateRequest, ctx: Context) -> SourceResponse:
    return await SOURCES.create(ctx, body)


async def patch_source(source_id: UUID, body: SourcePatchRequest, ctx: Context) -> SourceResponse:
    """A `workspaceId` other than the source's is refused (422)."""
    return await SOURCES.patch(ctx, source_id, body)


async def put_source(source_id: UUID, body: SourcePutRequest, ctx: Context) -> SourceResponse:
    return await SOURCES.put(ctx, source_id, body)


async def delete_source(source_id: UUID, ctx: Context) -> None:
    await SOURCES.delete(ctx, source_id)


handlers = [list_sources, get_source, create_source, patch_source, put_source, delete_source]
