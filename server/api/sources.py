"""Source endpoints (tag: source).

Two seams keep configuration handling in one place for every path that touches a source
(these endpoints and web_backend's):
- `specs.prepare_configuration` is the only way a configuration gets into the store
  (validated against the connector's spec, masked secrets restored);
- `present_source` builds every SourceRead that is sent.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlite_utils import Database

from server.core import specs
from server.context import Context
from server.models.definitions import SourceDefinitionRead
from server.models.sources import (
    SourceCreate,
    SourceIdRequestBody,
    SourceListRequestBody,
    SourceRead,
    SourceReadList,
    SourceUpdate,
)
from server.domain.secrets import SecretPath
from server.store import definitions, workspaces
from server.store import sources as store


async def present_source(ctx: Context, source: SourceRead) -> SourceRead:
    """The SourceRead a client sees for a stored source: masked by its connector's spec and
    by the secret paths stored with it (the spec may not be available any more)."""

    def read(db: Database) -> tuple[SourceDefinitionRead, list[SecretPath] | None]:
        definition = definitions.get_source_definition(db, str(source.source_definition_id))
        return definition, store.get_secret_paths(db, str(source.source_id))

    definition, paths = await ctx.store.read(read)
    configuration = await specs.masked_configuration(
        ctx, definition, source.connection_configuration, paths
    )
    return msgspec.structs.replace(source, connection_configuration=configuration)


def _definition_in_workspace(
    db: Database, workspace_id: str, definition_id: str
) -> SourceDefinitionRead:
    """404 unless both the workspace and the definition exist."""
    workspaces.get_workspace(db, workspace_id)
    return definitions.get_source_definition(db, definition_id)


def _insert(db: Database, source: SourceRead) -> SourceRead:
    # Checked again inside the write: the workspace or definition may have gone meanwhile.
    definition = _definition_in_workspace(
        db, str(source.workspace_id), str(source.source_definition_id)
    )
    return store.insert_source(db, source, specs.validated_secret_paths(db, definition))


async def new_source(
    ctx: Context,
    workspace_id: uuid.UUID,
    definition_id: uuid.UUID,
    name: str,
    configuration: dict[str, Any],
) -> SourceRead:
    """A source ready to insert (not yet stored), its configuration prepared."""
    definition = await ctx.store.read(
        _definition_in_workspace, str(workspace_id), str(definition_id)
    )
    prepared = await specs.prepare_configuration(ctx, definition, configuration)
    return SourceRead(
        source_definition_id=definition_id,
        source_id=uuid.uuid4(),
        workspace_id=workspace_id,
        connection_configuration=prepared,
        name=name,
        source_name=definition.name,
        icon=definition.icon,
        created_at=ctx.now(),
    )


async def create_source(body: SourceCreate, ctx: Context) -> SourceRead:
    source = await new_source(
        ctx, body.workspace_id, body.source_definition_id, body.name, body.connection_configuration
    )
    return await present_source(ctx, await ctx.store.write(_insert, source))


async def replace_source(ctx: Context, old_source_id: uuid.UUID, source: SourceRead) -> SourceRead:
    """Store `source` and delete `old_source_id` (and its connections) in one transaction."""

    def swap(db: Database) -> SourceRead:
        store.delete_source(db, str(old_source_id))
        return _insert(db, source)

    return await present_source(ctx, await ctx.store.write(swap))


async def get_source(body: SourceIdRequestBody, ctx: Context) -> SourceRead:
    return await present_source(ctx, await ctx.store.read(store.get_source, str(body.source_id)))


async def list_sources_for_workspace(body: SourceListRequestBody, ctx: Context) -> SourceReadList:
    def read(db: Database) -> list[SourceRead]:
        workspaces.get_workspace(db, str(body.workspace_id))
        return store.list_sources(db, str(body.workspace_id), body.page_size)

    sources = await ctx.store.read(read)
    return SourceReadList(sources=[await present_source(ctx, s) for s in sources])


async def update_source(body: SourceUpdate, ctx: Context) -> SourceRead:
    source_id = str(body.source_id)
    current, definition = await ctx.store.read(store.get_source_with_definition, source_id)
    prepared = await specs.prepare_configuration(
        ctx, definition, body.connection_configuration, current.connection_configuration
    )

    def update(db: Database) -> SourceRead:
        stored = store.get_source(db, source_id)
        changed = msgspec.structs.replace(
            stored, connection_configuration=prepared, name=body.name or stored.name
        )
        definition = definitions.get_source_definition(db, str(stored.source_definition_id))
        previous = store.get_secret_paths(db, source_id)
        paths = specs.validated_secret_paths(db, definition, previous)
        return store.update_source(db, changed, paths)

    return await present_source(ctx, await ctx.store.write(update))


async def delete_source(body: SourceIdRequestBody, ctx: Context) -> None:
    await ctx.store.write(store.delete_source, str(body.source_id))


handlers = [
    create_source,
    get_source,
    list_sources_for_workspace,
    update_source,
    delete_source,
]
