"""Sources: the rules every face follows for them.

- A source lives in an existing workspace and names an existing source definition (checked
  when it is prepared, and again inside the write: either may have gone meanwhile).
- Its configuration is validated against the connector's spec and the definition's local path
  rule before it is stored; masked secrets sent back on update keep their stored values.
- Every source handed out is masked by its connector's spec and by the secret paths stored
  with it (the spec may not be available any more).

Store round trips: create and update read once and write once; get reads once; list reads once
for the whole page (plus one spec fetch per definition whose spec is not cached yet).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.core import specs
from server.core.specs import SpecInHand
from server.domain.secrets import SecretPath
from server.models.definitions import SourceDefinitionRead
from server.models.sources import SourceRead
from server.store import definitions, workspaces
from server.store import sources as store

Paths = list[SecretPath] | None


class _Known(msgspec.Struct, frozen=True):
    """What one store read gives about a source's definition: itself and its cached spec."""

    definition: SourceDefinitionRead
    spec: SpecInHand


def _known(db: Database, definition_id: str) -> _Known:
    definition = definitions.get_source_definition(db, definition_id)
    return _Known(definition, specs.cached_spec(db, definition))


def _in_workspace(db: Database, workspace_id: str, definition_id: str) -> _Known:
    """404 unless both the workspace and the definition exist."""
    workspaces.get_workspace(db, workspace_id)
    return _known(db, definition_id)


def _shown(source: SourceRead, spec: SpecInHand, paths: Paths) -> SourceRead:
    configuration = specs.masked(source.connection_configuration, spec.spec, paths)
    return msgspec.structs.replace(source, connection_configuration=configuration)


class NewSource(msgspec.Struct, frozen=True):
    """A source ready to store (`prepare_source`), with the spec it was validated with."""

    source: SourceRead
    spec: SpecInHand


async def prepare_source(
    ctx: Context,
    workspace_id: uuid.UUID,
    definition_id: uuid.UUID,
    name: str,
    configuration: dict[str, Any],
) -> NewSource:
    """A new source (not yet stored), its configuration validated. One store read."""
    known = await ctx.store.read(_in_workspace, str(workspace_id), str(definition_id))
    held = await specs.spec_in_hand(ctx, known.definition, known.spec)
    assert held.spec is not None
    source = SourceRead(
        source_definition_id=definition_id,
        source_id=uuid.uuid4(),
        workspace_id=workspace_id,
        connection_configuration=specs.prepared(known.definition, held.spec, configuration),
        name=name,
        source_name=known.definition.name,
        icon=known.definition.icon,
        created_at=ctx.now(),
    )
    return NewSource(source, held)


def _insert(db: Database, new: NewSource, replaces: str | None = None) -> Paths:
    if replaces is not None:
        store.delete_source(db, replaces)
    source = new.source
    _in_workspace(db, str(source.workspace_id), str(source.source_definition_id))
    specs.store_spec(db, new.spec)
    paths = specs.paths_to_store(new.spec.spec)
    store.insert_source(db, source, paths)
    return paths


async def create_source(
    ctx: Context,
    workspace_id: uuid.UUID,
    definition_id: uuid.UUID,
    name: str,
    configuration: dict[str, Any],
) -> SourceRead:
    new = await prepare_source(ctx, workspace_id, definition_id, name, configuration)
    paths = await ctx.store.write(_insert, new, None)
    return _shown(new.source, new.spec, paths)


async def recreate_source(
    ctx: Context,
    old_source_id: uuid.UUID,
    workspace_id: uuid.UUID,
    definition_id: uuid.UUID,
    name: str,
    configuration: dict[str, Any],
) -> SourceRead:
    """A new source (new id, only the new configuration) replaces the old one, whose
    connections go with it, in one write (Airbyte's 2020 web backend)."""
    await ctx.store.read(store.get_source, str(old_source_id))
    new = await prepare_source(ctx, workspace_id, definition_id, name, configuration)
    paths = await ctx.store.write(_insert, new, str(old_source_id))
    return _shown(new.source, new.spec, paths)


class _Stored(msgspec.Struct, frozen=True):
    source: SourceRead
    known: _Known
    paths: Paths


def _stored(db: Database, source_id: str) -> _Stored:
    source = store.get_source(db, source_id)
    known = _known(db, str(source.source_definition_id))
    return _Stored(source, known, store.get_secret_paths(db, source_id))


async def get_source(ctx: Context, source_id: uuid.UUID) -> SourceRead:
    found = await ctx.store.read(_stored, str(source_id))
    definition_id = str(found.source.source_definition_id)
    page = _Page([(found.source, found.paths)], {definition_id: found.known})
    return (await _present(ctx, page))[0]


class _Page(msgspec.Struct, frozen=True):
    sources: list[tuple[SourceRead, Paths]]
    known: dict[str, _Known]


def _page(db: Database, workspace_id: str, limit: int | None) -> _Page:
    workspaces.get_workspace(db, workspace_id)
    found = store.list_sources_with_paths(db, workspace_id, limit)
    ids = {str(source.source_definition_id) for source, _ in found}
    return _Page(found, {i: _known(db, i) for i in sorted(ids)})


async def list_sources(
    ctx: Context, workspace_id: uuid.UUID, limit: int | None
) -> list[SourceRead]:
    return await _present(ctx, await ctx.store.read(_page, str(workspace_id), limit))


async def _present(ctx: Context, page: _Page) -> list[SourceRead]:
    """Mask a page of sources; specs fetched for it are cached in one write."""
    held = {
        i: await specs.spec_if_available(ctx, k.definition, k.spec) for i, k in page.known.items()
    }
    fresh = [h for h in held.values() if h.fresh]
    if fresh:
        await ctx.store.write(_store_specs, fresh)
    return [
        _shown(source, held[str(source.source_definition_id)], paths)
        for source, paths in page.sources
    ]


def _about(db: Database, sources: list[SourceRead]) -> _Page:
    ids = {str(source.source_definition_id) for source in sources}
    found = [(source, store.get_secret_paths(db, str(source.source_id))) for source in sources]
    return _Page(found, {i: _known(db, i) for i in sorted(ids)})


async def shown_sources(ctx: Context, sources: list[SourceRead]) -> list[SourceRead]:
    """Stored sources read elsewhere (a connection's ends) as handed out: masked, one read."""
    if not sources:
        return []
    return await _present(ctx, await ctx.store.read(_about, sources))


def _store_specs(db: Database, fresh: list[SpecInHand]) -> None:
    for held in fresh:
        specs.store_spec(db, held)


async def update_source(
    ctx: Context, source_id: uuid.UUID, name: str | None, configuration: dict[str, Any]
) -> SourceRead:
    """Replace the configuration (and the name, when one is given). Masked secrets sent back
    keep their stored values; secret paths stored before stay secret."""
    found = await ctx.store.read(_stored, str(source_id))
    held = await specs.spec_in_hand(ctx, found.known.definition, found.known.spec)
    assert held.spec is not None
    current = found.source.connection_configuration
    configuration = specs.prepared(found.known.definition, held.spec, configuration, current)

    def update(db: Database) -> tuple[SourceRead, Paths]:
        stored = store.get_source(db, str(source_id))
        changed = msgspec.structs.replace(
            stored, connection_configuration=configuration, name=name or stored.name
        )
        _known(db, str(stored.source_definition_id))
        specs.store_spec(db, held)
        paths = specs.paths_to_store(held.spec, store.get_secret_paths(db, str(source_id)))
        return store.update_source(db, changed, paths), paths

    source, paths = await ctx.store.write(update)
    return _shown(source, held, paths)


async def delete_source(ctx: Context, source_id: uuid.UUID) -> None:
    """Delete the source and the connections that read from it."""
    await ctx.store.write(store.delete_source, str(source_id))
