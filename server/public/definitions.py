"""Connector definitions (tag: definitions) over server.core.definitions.

Airbyte scopes custom definitions to a workspace; Sluice's definitions are shared by every
workspace, so a workspace's definitions are all of them (the workspace must exist), and
creating, changing or deleting one needs the admin (server.public.access). A definition made
here runs its image (`runner: docker`); DELETE answers the deleted definition, as Airbyte's.

Source and destination definitions take and answer the same models, so one set of handlers is
built for each kind (`_handlers`), named by their operationIds (`list_source_definitions`, ...).
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
from server.public.rest import Handler

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
    """One kind's definitions: server.core.definitions' functions for it."""

    kind: ConnectorType
    listed: Callable[[Context], Awaitable[list[D]]]
    create: Callable[[Context, NewDefinition, Scope], Awaitable[D]]
    get: Callable[[Context, UUID], Awaitable[D]]
    update: Callable[[Context, UUID, DefinitionChanges], Awaitable[D]]
    delete: Callable[[Context, UUID], Awaitable[None]]


_SOURCES = _Definitions(
    "source",
    core.list_source_definitions,
    core.create_source_definition,
    core.get_source_definition,
    core.update_source_definition,
    core.delete_source_definition,
)
_DESTINATIONS = _Definitions(
    "destination",
    core.list_destination_definitions,
    core.create_destination_definition,
    core.get_destination_definition,
    core.update_destination_definition,
    core.delete_destination_definition,
)


def _named(handler: Handler, name: str) -> Handler:
    handler.__name__ = handler.__qualname__ = name
    return handler


def _handlers(defs: _Definitions[D]) -> list[Handler]:
    """A workspace's definitions of one kind: `list_source_definitions`,
    `create_source_definition`, `get_`, `update_`, `delete_` (the operationIds); the
    destinations' likewise. Both kinds take and answer the same models."""

    async def list_in(workspace_id: UUID, ctx: Context) -> DefinitionsResponse:
        await workspaces.get_workspace(ctx, workspace_id)
        return DefinitionsResponse(data=[shown(d) for d in await defs.listed(ctx)])

    async def create_in(
        workspace_id: UUID, body: CreateDefinitionRequest, ctx: Context
    ) -> DefinitionResponse:
        new = NewDefinition(
            name=body.name,
            docker_repository=body.docker_repository,
            docker_image_tag=body.docker_image_tag,
            documentation_url=body.documentation_url or "",
        )
        return shown(await defs.create(ctx, new, Scope(workspace_id=workspace_id)))

    async def get_in(workspace_id: UUID, definition_id: UUID, ctx: Context) -> DefinitionResponse:
        await workspaces.get_workspace(ctx, workspace_id)
        return shown(await defs.get(ctx, definition_id))

    async def update_in(
        workspace_id: UUID, definition_id: UUID, body: UpdateDefinitionRequest, ctx: Context
    ) -> DefinitionResponse:
        await workspaces.get_workspace(ctx, workspace_id)
        changes = DefinitionChanges(name=body.name, docker_image_tag=body.docker_image_tag)
        return shown(await defs.update(ctx, definition_id, changes))

    async def delete_in(
        workspace_id: UUID, definition_id: UUID, ctx: Context
    ) -> DefinitionResponse:
        """Also deletes the sources (destinations) built on it and their connections, and
        answers the deleted definition, as Airbyte does."""
        deleted = await get_in(workspace_id, definition_id, ctx)
        await defs.delete(ctx, definition_id)
        return deleted

    kind = defs.kind
    return [
        _named(list_in, f"list_{kind}_definitions"),
        _named(create_in, f"create_{kind}_definition"),
        _named(get_in, f"get_{kind}_definition"),
        _named(update_in, f"update_{kind}_definition"),
        _named(delete_in, f"delete_{kind}_definition"),
    ]


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


handlers = [*_handlers(_SOURCES), *_handlers(_DESTINATIONS), list_connector_definitions]
