"""Connector definitions (tag: definitions) over server.core.definitions.

Airbyte scopes custom definitions to a workspace; Sluice's definitions are shared by every
workspace, so a workspace's definitions are all of them (the workspace must exist), and
creating, changing or deleting one needs the admin (server.public.access). A definition made
here runs its image (`runner: docker`); DELETE answers the deleted definition, as Airbyte's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from server.context import Context
from server.core import definitions as core
from server.core import workspaces
from server.core.definitions import DefinitionChanges, NewDefinition, Scope
from server.models.base import uri_or_none
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead
from server.models.public.definitions import (
    ConnectorDefinitionResponse,
    ConnectorDefinitionsResponse,
    ConnectorType,
    CreateDefinitionRequest,
    DefinitionResponse,
    DefinitionsResponse,
    ListConnectorDefinitionsQuery,
    UpdateDefinitionRequest,
)

D = TypeVar("D", SourceDefinitionRead, DestinationDefinitionRead)


def _id(definition: SourceDefinitionRead | DestinationDefinitionRead) -> UUID:
    if isinstance(definition, SourceDefinitionRead):
        return definition.source_definition_id
    return definition.destination_definition_id


def shown(definition: SourceDefinitionRead | DestinationDefinitionRead) -> DefinitionResponse:
    return DefinitionResponse(
        id=_id(definition),
        name=definition.name,
        docker_repository=definition.docker_repository,
        docker_image_tag=definition.docker_image_tag,
        documentation_url=uri_or_none(definition.documentation_url),
    )


@dataclass(frozen=True)
class _Definitions(Generic[D]):
    """One kind's definitions, as a workspace's (server.core.definitions' functions for it)."""

    listed: Callable[[Context], Awaitable[list[D]]]
    create: Callable[[Context, NewDefinition, Scope], Awaitable[D]]
    get: Callable[[Context, UUID], Awaitable[D]]
    update: Callable[[Context, UUID, DefinitionChanges], Awaitable[D]]
    delete: Callable[[Context, UUID], Awaitable[None]]

    async def list_in(self, ctx: Context, workspace_id: UUID) -> DefinitionsResponse:
        await workspaces.get_workspace(ctx, workspace_id)
        return DefinitionsResponse(data=[shown(d) for d in await self.listed(ctx)])

    async def create_in(
        self, ctx: Context, workspace_id: UUID, body: CreateDefinitionRequest
    ) -> DefinitionResponse:
        new = NewDefinition(
            name=body.name,
            docker_repository=body.docker_repository,
            docker_image_tag=body.docker_image_tag,
            documentation_url=body.documentation_url or "",
        )
        return shown(await self.create(ctx, new, Scope(workspace_id=workspace_id)))

    async def get_in(
        self, ctx: Context, workspace_id: UUID, definition_id: UUID
    ) -> DefinitionResponse:
        await workspaces.get_workspace(ctx, workspace_id)
        return shown(await self.get(ctx, definition_id))

    async def update_in(
        self, ctx: Context, workspace_id: UUID, definition_id: UUID, body: UpdateDefinitionRequest
    ) -> DefinitionResponse:
        await workspaces.get_workspace(ctx, workspace_id)
        changes = DefinitionChanges(name=body.name, docker_image_tag=body.docker_image_tag)
        return shown(await self.update(ctx, definition_id, changes))

    async def delete_in(
        self, ctx: Context, workspace_id: UUID, definition_id: UUID
    ) -> DefinitionResponse:
        """The deleted definition, as Airbyte answers."""
        deleted = await self.get_in(ctx, workspace_id, definition_id)
        await self.delete(ctx, definition_id)
        return deleted


_SOURCES = _Definitions(
    core.list_source_definitions,
    core.create_source_definition,
    core.get_source_definition,
    core.update_source_definition,
    core.delete_source_definition,
)
_DESTINATIONS = _Definitions(
    core.list_destination_definitions,
    core.create_destination_definition,
    core.get_destination_definition,
    core.update_destination_definition,
    core.delete_destination_definition,
)


# --- sources -------------------------------------------------------------------------------


async def list_source_definitions(workspace_id: UUID, ctx: Context) -> DefinitionsResponse:
    return await _SOURCES.list_in(ctx, workspace_id)


async def create_source_definition(
    workspace_id: UUID, body: CreateDefinitionRequest, ctx: Context
) -> DefinitionResponse:
    return await _SOURCES.create_in(ctx, workspace_id, body)


async def get_source_definition(
    workspace_id: UUID, definition_id: UUID, ctx: Context
) -> DefinitionResponse:
    return await _SOURCES.get_in(ctx, workspace_id, definition_id)


async def update_source_definition(
    workspace_id: UUID, definition_id: UUID, body: UpdateDefinitionRequest, ctx: Context
) -> DefinitionResponse:
    return await _SOURCES.update_in(ctx, workspace_id, definition_id, body)


async def delete_source_definition(
    workspace_id: UUID, definition_id: UUID, ctx: Context
) -> DefinitionResponse:
    """Also deletes the sources built on it and their connections, as Airbyte does."""
    return await _SOURCES.delete_in(ctx, workspace_id, definition_id)


# --- destinations --------------------------------------------------------------------------


async def list_destination_definitions(workspace_id: UUID, ctx: Context) -> DefinitionsResponse:
    return await _DESTINATIONS.list_in(ctx, workspace_id)


async def create_destination_definition(
    workspace_id: UUID, body: CreateDefinitionRequest, ctx: Context
) -> DefinitionResponse:
    return await _DESTINATIONS.create_in(ctx, workspace_id, body)


async def get_destination_definition(
    workspace_id: UUID, definition_id: UUID, ctx: Context
) -> DefinitionResponse:
    return await _DESTINATIONS.get_in(ctx, workspace_id, definition_id)


async def update_destination_definition(
    workspace_id: UUID, definition_id: UUID, body: UpdateDefinitionRequest, ctx: Context
) -> DefinitionResponse:
    return await _DESTINATIONS.update_in(ctx, workspace_id, definition_id, body)


async def delete_destination_definition(
    workspace_id: UUID, definition_id: UUID, ctx: Context
) -> DefinitionResponse:
    """Also deletes the destinations built on it and their connections, as Airbyte does."""
    return await _DESTINATIONS.delete_in(ctx, workspace_id, definition_id)


# --- every connector -----------------------------------------------------------------------


async def list_connector_definitions(
    query: ListConnectorDefinitionsQuery, ctx: Context
) -> ConnectorDefinitionsResponse:
    if query.workspace_id is not None:
        await workspaces.get_workspace(ctx, query.workspace_id)
    kind: ConnectorType = query.type
    found = await (_SOURCES if kind == "source" else _DESTINATIONS).listed(ctx)
    return ConnectorDefinitionsResponse(
        data=[
            ConnectorDefinitionResponse(
                id=_id(d), name=d.name, connector_definition_type=kind, version=d.docker_image_tag
            )
            for d in found
        ]
    )


handlers = [
    list_source_definitions,
    create_source_definition,
    get_source_definition,
    update_source_definition,
    delete_source_definition,
    list_destination_definitions,
    create_destination_definition,
    get_destination_definition,
    update_destination_definition,
    delete_destination_definition,
    list_connector_definitions,
]
