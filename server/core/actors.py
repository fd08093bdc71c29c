"""Sources and destinations (actors): the rules every face follows for them, written once.

- An actor lives in an existing workspace and names an existing definition of its kind
  (checked when it is prepared, and again inside the write: either may have gone meanwhile).
- Its configuration is validated against the connector's spec and the definition's local path
  rule before it is stored; masked secrets sent back on update keep their stored values.
- Every actor handed out is masked by its connector's spec and by the secret paths stored
  with it (the spec may not be available any more).

Store round trips: create and update read once and write once; get reads once; list reads once
for the whole page (plus one spec fetch per definition whose spec is not cached yet).

`Kind` says what differs between sources and destinations (the read model, its field names,
the store functions); server.core.sources and server.core.destinations each bind one `Actors`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.core import specs
from server.core.specs import SpecInHand
from server.domain.secrets import SecretPath
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead
from server.models.destinations import DestinationRead
from server.models.sources import SourceRead
from server.store import workspaces

Paths = list[SecretPath] | None

A = TypeVar("A", SourceRead, DestinationRead)
D = TypeVar("D", SourceDefinitionRead, DestinationDefinitionRead)


@dataclass(frozen=True)
class Kind(Generic[A, D]):
    """Sources or destinations: the read model, its field names, the store functions."""

    read: type[A]
    id_field: str  # e.g. "source_id"
    definition_id_field: str  # e.g. "source_definition_id"
    name_field: str  # the definition's name as the read model carries it, e.g. "source_name"
    get_definition: Callable[[Database, str], D]
    get: Callable[[Database, str], A]
    insert: Callable[[Database, A, Paths], A]
    update: Callable[[Database, A, Paths], A]
    delete: Callable[[Database, str], None]
    list_with_paths: Callable[[Database, str, int | None], list[tuple[A, Paths]]]
    get_secret_paths: Callable[[Database, str], Paths]


class Known(msgspec.Struct, Generic[D], frozen=True):
    """What one store read gives about an actor's definition: itself and its cached spec."""

    definition: D
    spec: SpecInHand


class New(msgspec.Struct, Generic[A], frozen=True):
    """An actor ready to store (`Actors.prepare`), with the spec it was validated with."""

    actor: A
    spec: SpecInHand


class _Stored(msgspec.Struct, Generic[A, D], frozen=True):
    actor: A
    known: Known[D]
    paths: Paths


class _Page(msgspec.Struct, Generic[A, D], frozen=True):
    actors: list[tuple[A, Paths]]
    known: dict[str, Known[D]]


def _shown(actor: A, spec: SpecInHand, paths: Paths) -> A:
    configuration = specs.masked(actor.connection_configuration, spec.spec, paths)
    return msgspec.structs.replace(actor, connection_configuration=configuration)


def _store_specs(db: Database, fresh: list[SpecInHand]) -> None:
    for held in fresh:
        specs.store_spec(db, held)


class Actors(Generic[A, D]):
    """The core's operations on one kind of actor."""

    def __init__(self, kind: Kind[A, D]) -> None:
        self.kind: Kind[A, D] = kind

    def _id(self, actor: A) -> str:
        return str(getattr(actor, self.kind.id_field))

    def _definition_id(self, actor: A) -> str:
        return str(getattr(actor, self.kind.definition_id_field))

    def _known(self, db: Database, definition_id: str) -> Known[D]:
        definition = self.kind.get_definition(db, definition_id)
        return Known(definition, specs.cached_spec(db, definition))

    def _in_workspace(self, db: Database, workspace_id: str, definition_id: str) -> Known[D]:
        """404 unless both the workspace and the definition exist."""
        workspaces.get_workspace(db, workspace_id)
        return self._known(db, definition_id)

    async def prepare(
        self,
        ctx: Context,
        workspace_id: uuid.UUID,
        definition_id: uuid.UUID,
        name: str,
        configuration: dict[str, Any],
    ) -> New[A]:
        """A new actor (not yet stored), its configuration validated. One store read."""
        known = await ctx.store.read(self._in_workspace, str(workspace_id), str(definition_id))
        held = await specs.spec_in_hand(ctx, known.definition, known.spec)
        assert held.spec is not None
        fields: dict[str, Any] = {
            self.kind.definition_id_field: definition_id,
            self.kind.id_field: uuid.uuid4(),
            "workspace_id": workspace_id,
            "connection_configuration": specs.prepared(known.definition, held.spec, configuration),
            "name": name,
            self.kind.name_field: known.definition.name,
            "icon": known.definition.icon,
            "created_at": ctx.now(),
        }
        return New(self.kind.read(**fields), held)

    def _insert(self, db: Database, new: New[A], replaces: str | None = None) -> Paths:
        if replaces is not None:
            self.kind.delete(db, replaces)
        actor = new.actor
        self._in_workspace(db, str(actor.workspace_id), self._definition_id(actor))
        specs.store_spec(db, new.spec)
        paths = specs.paths_to_store(new.spec.spec)
        self.kind.insert(db, actor, paths)
        return paths

    async def create(
        self,
        ctx: Context,
        workspace_id: uuid.UUID,
        definition_id: uuid.UUID,
        name: str,
        configuration: dict[str, Any],
    ) -> A:
        new = await self.prepare(ctx, workspace_id, definition_id, name, configuration)
        paths = await ctx.store.write(self._insert, new, None)
        return _shown(new.actor, new.spec, paths)

    async def recreate(
        self,
        ctx: Context,
        old_id: uuid.UUID,
        workspace_id: uuid.UUID,
        definition_id: uuid.UUID,
        name: str,
        configuration: dict[str, Any],
    ) -> A:
        """A new actor (new id, only the new configuration) replaces the old one, whose
        connections go with it, in one write (Airbyte's 2020 web backend)."""
        await ctx.store.read(self.kind.get, str(old_id))
        new = await self.prepare(ctx, workspace_id, definition_id, name, configuration)
        paths = await ctx.store.write(self._insert, new, str(old_id))
        return _shown(new.actor, new.spec, paths)

    def _stored(self, db: Database, actor_id: str) -> _Stored[A, D]:
        actor = self.kind.get(db, actor_id)
        known = self._known(db, self._definition_id(actor))
        return _Stored(actor, known, self.kind.get_secret_paths(db, actor_id))

    async def get(self, ctx: Context, actor_id: uuid.UUID) -> A:
        found = await ctx.store.read(self._stored, str(actor_id))
        definition_id = self._definition_id(found.actor)
        page = _Page([(found.actor, found.paths)], {definition_id: found.known})
        return (await self._present(ctx, page))[0]

    def _page(self, db: Database, workspace_id: str, limit: int | None) -> _Page[A, D]:
        workspaces.get_workspace(db, workspace_id)
        found = self.kind.list_with_paths(db, workspace_id, limit)
        ids = {self._definition_id(actor) for actor, _ in found}
        return _Page(found, {i: self._known(db, i) for i in sorted(ids)})

    async def listed(self, ctx: Context, workspace_id: uuid.UUID, limit: int | None) -> list[A]:
        return await self._present(ctx, await ctx.store.read(self._page, str(workspace_id), limit))

    async def _present(self, ctx: Context, page: _Page[A, D]) -> list[A]:
        """Mask a page of actors; specs fetched for it are cached in one write."""
        held = {
            i: await specs.spec_if_available(ctx, k.definition, k.spec)
            for i, k in page.known.items()
        }
        fresh = [h for h in held.values() if h.fresh]
        if fresh:
            await ctx.store.write(_store_specs, fresh)
        return [
            _shown(actor, held[self._definition_id(actor)], paths) for actor, paths in page.actors
        ]

    def _about(self, db: Database, actors: list[A]) -> _Page[A, D]:
        ids = {self._definition_id(actor) for actor in actors}
        found = [(actor, self.kind.get_secret_paths(db, self._id(actor))) for actor in actors]
        return _Page(found, {i: self._known(db, i) for i in sorted(ids)})

    async def shown(self, ctx: Context, actors: list[A]) -> list[A]:
        """Stored actors read elsewhere (a connection's ends) as handed out: masked, one read."""
        if not actors:
            return []
        return await self._present(ctx, await ctx.store.read(self._about, actors))

    async def update(
        self, ctx: Context, actor_id: uuid.UUID, name: str | None, configuration: dict[str, Any]
    ) -> A:
        """Replace the configuration (and the name, when one is given). Masked secrets sent
        back keep their stored values; secret paths stored before stay secret."""
        found = await ctx.store.read(self._stored, str(actor_id))
        held = await specs.spec_in_hand(ctx, found.known.definition, found.known.spec)
        assert held.spec is not None
        current = found.actor.connection_configuration
        configuration = specs.prepared(found.known.definition, held.spec, configuration, current)

        def update(db: Database) -> tuple[A, Paths]:
            stored = self.kind.get(db, str(actor_id))
            changed = msgspec.structs.replace(
                stored, connection_configuration=configuration, name=name or stored.name
            )
            self._known(db, self._definition_id(stored))
            specs.store_spec(db, held)
            paths = specs.paths_to_store(held.spec, self.kind.get_secret_paths(db, str(actor_id)))
            return self.kind.update(db, changed, paths), paths

        actor, paths = await ctx.store.write(update)
        return _shown(actor, held, paths)

    async def delete(self, ctx: Context, actor_id: uuid.UUID) -> None:
        """Delete the actor and the connections that read from it (a source) or write to it
        (a destination)."""
        await ctx.store.write(self.kind.delete, str(actor_id))
