"""Sources and destinations in the public API: the handlers' logic, written once.

server.public.sources and server.public.destinations each bind one `PublicActors` to their
kind (its core functions and wire models) and keep the typed handlers the routes and the
document are built from (their names are the operationIds).

- A list pages every actor of `workspaceIds` (every workspace's when empty), in workspace then
  creation order (server.public.connector_types.paged).
- An actor is created by `definitionId` or by `configuration.sourceType` / `destinationType`;
  the type is taken out of the configuration before the core validates it, and every reply
  names it (inside the configuration too for destinations and Airbyte's own source images,
  `Names`; server.public.connector_types).
- PATCH merges its configuration into the stored one; PUT replaces it. Either way masked
  secrets sent back keep their stored values (the core restores them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from server.context import Context
from server.core import connector_types as types
from server.core import workspaces
from server.core.actors import Kind
from server.core.errors import InvalidInput
from server.models.destinations import DestinationRead
from server.models.public.common import ListQuery
from server.models.sources import SourceRead
from server.public import connector_types as configs
from server.public.rest import Links

A = TypeVar("A", SourceRead, DestinationRead)
R = TypeVar("R")  # the kind's response, e.g. SourceResponse
P = TypeVar("P")  # the kind's page, e.g. SourcesResponse


@dataclass(frozen=True)
class Names:
    """What replies name: each definition's type, and the definitions whose configurations
    carry it too (None: all of them)."""

    names: dict[UUID, str]
    typed: set[UUID] | None


class CreateBody(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def workspace_id(self) -> UUID: ...
    @property
    def definition_id(self) -> UUID | None: ...
    @property
    def configuration(self) -> dict[str, Any]: ...


class PatchBody(Protocol):
    @property
    def name(self) -> str | None: ...
    @property
    def configuration(self) -> dict[str, Any] | None: ...


class PutBody(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def configuration(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Core(Generic[A]):
    """The core's operations on one kind (server.core.sources or server.core.destinations)."""

    kind: Kind[A, Any]
    get: Callable[[Context, UUID], Awaitable[A]]
    listed: Callable[[Context, UUID, int | None], Awaitable[list[A]]]
    create: Callable[[Context, UUID, UUID, str, dict[str, Any]], Awaitable[A]]
    update: Callable[[Context, UUID, str | None, dict[str, Any]], Awaitable[A]]
    delete: Callable[[Context, UUID], Awaitable[None]]


class PublicActors(Generic[A, R, P]):
    """The public API's operations on one kind of actor, replying with its wire models."""

    def __init__(
        self,
        kind: types.ActorKind,
        core: Core[A],
        response: Callable[..., R],
        page: Callable[..., P],
    ) -> None:
        self.kind: types.ActorKind = kind
        self.core: Core[A] = core
        self._response = response
        self._page = page

    def shown(self, actor: A, names: Names) -> R:
        """The actor as a reply: its type named, and inside the configuration too where
        clients expect it there (every destination; a source of Airbyte's own images)."""
        definition_id: UUID = getattr(actor, self.core.kind.definition_id_field)
        name = names.names.get(definition_id, "")
        fields = {
            f"{self.kind}_id": getattr(actor, self.core.kind.id_field),
            f"{self.kind}_type": name,
        }
        configuration = actor.connection_configuration
        if names.typed is None or definition_id in names.typed:
            configuration = configs.with_type(self.kind, configuration, name)
        return self._response(
            **fields,
            name=actor.name,
            definition_id=definition_id,
            workspace_id=actor.workspace_id,
            configuration=configuration,
            created_at=actor.created_at,
        )

    async def _names(self, ctx: Context) -> Names:
        names, published = await types.types_and_published(ctx, self.kind)
        # A destination's configuration always names its type: the SDK picks its model by it.
        return Names(names, published if self.kind == "source" else None)

    async def _reply(self, ctx: Context, actor: A) -> R:
        return self.shown(actor, await self._names(ctx))

    async def listed(self, ctx: Context, query: ListQuery, links: Links) -> P:
        names = await self._names(ctx)
        data, after, before = await configs.paged(
            query,
            links,
            lambda: workspaces.list_workspaces(ctx),
            lambda workspace_id: self.core.listed(ctx, workspace_id, None),
            lambda actor: self.shown(actor, names),
        )
        return self._page(data=data, next=after, previous=before)

    async def get(self, ctx: Context, actor_id: UUID) -> R:
        return await self._reply(ctx, await self.core.get(ctx, actor_id))

    async def create(self, ctx: Context, body: CreateBody) -> R:
        definition_id, configuration = await configs.definition_for(
            ctx, self.kind, body.definition_id, body.configuration
        )
        created = await configs.as_public(
            self.core.create(ctx, body.workspace_id, definition_id, body.name, configuration)
        )
        return await self._reply(ctx, created)

    async def patch(self, ctx: Context, actor_id: UUID, body: PatchBody) -> R:
        current = await self.core.get(ctx, actor_id)
        # Only a source's PATCH may name a workspace (Airbyte's SourcePatchRequest); its own.
        workspace_id: UUID | None = getattr(body, "workspace_id", None)
        if workspace_id is not None and workspace_id != current.workspace_id:
            raise InvalidInput(
                f"A {self.kind} cannot move to another workspace",
                property_path="workspaceId",
                invalid_value=str(workspace_id),
            )
        # The stored configuration comes back masked; the core restores the masked secrets.
        configuration = current.connection_configuration
        if body.configuration is not None:
            patch = configs.split(self.kind, body.configuration)[1]
            configuration = configs.merged(configuration, patch)
        return await self._update(ctx, actor_id, body.name, configuration)

    async def put(self, ctx: Context, actor_id: UUID, body: PutBody) -> R:
        configuration = configs.split(self.kind, body.configuration)[1]
        return await self._update(ctx, actor_id, body.name, configuration)

    async def _update(
        self, ctx: Context, actor_id: UUID, name: str | None, configuration: dict[str, Any]
    ) -> R:
        updated = await configs.as_public(self.core.update(ctx, actor_id, name, configuration))
        return await self._reply(ctx, updated)

    async def delete(self, ctx: Context, actor_id: UUID) -> None:
        await self.core.delete(ctx, actor_id)
