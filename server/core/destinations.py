"""Destinations: the rules every face follows for them.

- A destination lives in an existing workspace and names an existing destination definition (checked
  when it is prepared, and again inside the write: either may have gone meanwhile).
- Its configuration is validated against the connector's spec and the definition's local path
  rule before it is stored; masked secrets sent back on update keep their stored values.
- Every destination handed out is masked by its connector's spec and by the secret paths stored
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
from server.models.definitions import DestinationDefinitionRead
from server.models.destinations import DestinationRead
from server.store import definitions, workspaces
from server.store import destinations as store

Paths = list[SecretPath] | None


class _Known(msgspec.Struct, frozen=True):
    """What one store read gives about a destination's definition: itself and its cached spec."""

    definition: DestinationDefinitionRead
    spec: SpecInHand


def _known(db: Database, definition_id: str) -> _Known:
    definition = definitions.get_destination_definition(db, definition_id)
    return _Known(definition, specs.cached_spec(db, definition))


def _in_workspace(db: Database, workspace_id: str, definition_id: str) -> _Known:
    """404 unless both the workspace and the definition exist."""
    workspaces.get_workspace(db, workspace_id)
    return _known(db, definition_id)


def _shown(destination: DestinationRead, spec: SpecInHand, paths: Paths) -> DestinationRead:
    configuration = specs.masked(destination.connection_configuration, spec.spec, paths)
    return msgspec.structs.replace(destination, connection_configuration=configuration)


class NewDestination(msgspec.Struct, frozen=True):
    """A destination ready to store (`prepare_destination`), with the spec it was validated with."""

    destination: DestinationRead
    spec: SpecInHand


async def prepare_destination(
    ctx: Context,
    workspace_id: uuid.UUID,
    definition_id: uuid.UUID,
    name: str,
    configuration: dict[str, Any],
) -> NewDestination:
    """A new destination (not yet stored), its configuration validated. One store read."""
    known = await ctx.store.read(_in_workspace, str(workspace_id), str(definition_id))
    held = await specs.spec_in_hand(ctx, known.definition, known.spec)
    assert held.spec is not None
    destination = DestinationRead(
        destination_definition_id=definition_id,
        destination_id=uuid.uuid4(),
        workspace_id=workspace_id,
        connection_configuration=specs.prepared(known.definition, held.spec, configuration),
        name=name,
        destination_name=known.definition.name,
        icon=known.definition.icon,
        created_at=ctx.now(),
    )
    return NewDestination(destination, held)


def _insert(db: Database, new: NewDestination, replaces: str | None = None) -> Paths:
    if replaces is not None:
        store.delete_destination(db, replaces)
    destination = new.destination
    _in_workspace(db, str(destination.workspace_id), str(destination.destination_definition_id))
    specs.store_spec(db, new.spec)
    paths = specs.paths_to_store(new.spec.spec)
    store.insert_destination(db, destination, paths)
    return paths


async def create_destination(
    ctx: Context,
    workspace_id: uuid.UUID,
    definition_id: uuid.UUID,
    name: str,
    configuration: dict[str, Any],
) -> DestinationRead:
    new = await prepare_destination(ctx, workspace_id, definition_id, name, configuration)
    paths = await ctx.store.write(_insert, new, None)
    return _shown(new.destination, new.spec, paths)


async def recreate_destination(
    ctx: Context,
    old_destination_id: uuid.UUID,
    workspace_id: uuid.UUID,
    definition_id: uuid.UUID,
    name: str,
    configuration: dict[str, Any],
) -> DestinationRead:
    """A new destination (new id, only the new configuration) replaces the old one, whose
    connections go with it, in one write (as for sources)."""
    await ctx.store.read(store.get_destination, str(old_destination_id))
    new = await prepare_destination(ctx, workspace_id, definition_id, name, configuration)
    paths = await ctx.store.write(_insert, new, str(old_destination_id))
    return _shown(new.destination, new.spec, paths)


class _Stored(msgspec.Struct, frozen=True):
    destination: DestinationRead
    known: _Known
    paths: Paths


def _stored(db: Database, destination_id: str) -> _Stored:
    destination = store.get_destination(db, destination_id)
    known = _known(db, str(destination.destination_definition_id))
    return _Stored(destination, known, store.get_secret_paths(db, destination_id))


async def get_destination(ctx: Context, destination_id: uuid.UUID) -> DestinationRead:
    found = await ctx.store.read(_stored, str(destination_id))
    definition_id = str(found.destination.destination_definition_id)
    page = _Page([(found.destination, found.paths)], {definition_id: found.known})
    return (await _present(ctx, page))[0]


class _Page(msgspec.Struct, frozen=True):
    destinations: list[tuple[DestinationRead, Paths]]
    known: dict[str, _Known]


def _page(db: Database, workspace_id: str, limit: int | None) -> _Page:
    workspaces.get_workspace(db, workspace_id)
    found = store.list_destinations_with_paths(db, workspace_id, limit)
    ids = {str(destination.destination_definition_id) for destination, _ in found}
    return _Page(found, {i: _known(db, i) for i in sorted(ids)})


async def list_destinations(
    ctx: Context, workspace_id: uuid.UUID, limit: int | None
) -> list[DestinationRead]:
    return await _present(ctx, await ctx.store.read(_page, str(workspace_id), limit))


async def _present(ctx: Context, page: _Page) -> list[DestinationRead]:
    """Mask a page of destinations; specs fetched for it are cached in one write."""
    held = {
        i: await specs.spec_if_available(ctx, k.definition, k.spec) for i, k in page.known.items()
    }
    fresh = [h for h in held.values() if h.fresh]
    if fresh:
        await ctx.store.write(_store_specs, fresh)
    return [
        _shown(destination, held[str(destination.destination_definition_id)], paths)
        for destination, paths in page.destinations
    ]


def _about(db: Database, destinations: list[DestinationRead]) -> _Page:
    ids = {str(destination.destination_definition_id) for destination in destinations}
    found = [
        (destination, store.get_secret_paths(db, str(destination.destination_id)))
        for destination in destinations
    ]
    return _Page(found, {i: _known(db, i) for i in sorted(ids)})


async def shown_destinations(
    ctx: Context, destinations: list[DestinationRead]
) -> list[DestinationRead]:
    """Stored destinations read elsewhere (a connection's ends) as handed out: masked, one read."""
    if not destinations:
        return []
    return await _present(ctx, await ctx.store.read(_about, destinations))


def _store_specs(db: Database, fresh: list[SpecInHand]) -> None:
    for held in fresh:
        specs.store_spec(db, held)


async def update_destination(
    ctx: Context, destination_id: uuid.UUID, name: str | None, configuration: dict[str, Any]
) -> DestinationRead:
    """Replace the configuration (and the name, when one is given). Masked secrets sent back
    keep their stored values; secret paths stored before stay secret."""
    found = await ctx.store.read(_stored, str(destination_id))
    held = await specs.spec_in_hand(ctx, found.known.definition, found.known.spec)
    assert held.spec is not None
    current = found.destination.connection_configuration
    configuration = specs.prepared(found.known.definition, held.spec, configuration, current)

    def update(db: Database) -> tuple[DestinationRead, Paths]:
        stored = store.get_destination(db, str(destination_id))
        changed = msgspec.structs.replace(
            stored, connection_configuration=configuration, name=name or stored.name
        )
        _known(db, str(stored.destination_definition_id))
        specs.store_spec(db, held)
        paths = specs.paths_to_store(held.spec, store.get_secret_paths(db, str(destination_id)))
        return store.update_destination(db, changed, paths), paths

    destination, paths = await ctx.store.write(update)
    return _shown(destination, held, paths)


async def delete_destination(ctx: Context, destination_id: uuid.UUID) -> None:
    """Delete the destination and the connections that write to it."""
    await ctx.store.write(store.delete_destination, str(destination_id))
