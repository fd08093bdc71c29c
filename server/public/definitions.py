"""Connector definitions (tag: definitions) over server.core.definitions.

Airbyte scopes custom definitions to a workspace; Sluice's definitions are shared by every
workspace, so a workspace's definitions are all of them (the workspace must exist), and
creating, changing or deleting one needs the admin (server.public.access). A definition made
here runs its image (`runner: docker`); DELETE answers the deleted definition, as Airbyte's.
"""

from __future__ import annotations

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
    CreateDefinitionRequest,
    DefinitionResponse,
    DefinitionsResponse,
    ListConnectorDefinitionsQuery,
    UpdateDefinitionRequest,
)

Definition = SourceDefinitionRead | DestinationDefinitionRead


def _id(definition: Definition) -> UUID:
    if isinstance(definition, SourceDefinitionRead):
        return definition.source_definition_id
    return definition.destination_definition_id


def shown(definition: Definition) -> DefinitionResponse:
    return DefinitionResponse(
        id=_id(definition),
        name=definition.name,
        docker_repository=definition.docker_repository,
        docker_image_tag=definition.docker_image_tag,
        documentation_url=uri_or_none(definition.documentation_url),
    )


def _new(body: CreateDefinitionRequest) -> NewDefinition:
    return NewDefinition(
        name=body.name,
        docker_repository=body.docker_repository,
        docker_image_tag=body.docker_image_tag,
        documentation_url=body.documentation_url or "",
    )


def _changes(body: UpdateDefinitionRequest) -> DefinitionChanges:
    return DefinitionChanges(name=body.name, docker_image_tag=body.docker_image_tag)


# --- sources -------------------------------------------------------------------------------


async def list_source_definitions(workspace_id: UUID, ctx: Context) -> DefinitionsResponse:
    await workspaces.get_workspace(ctx, workspace_id)
    return DefinitionsResponse(data=[shown(d) for d in await core.list_source_definitions(ctx)])


async def create_source_definition(
    workspace_id: UUID, body: CreateDefinitionRequest, ctx: Context
) -> DefinitionResponse:
    scope = Scope(workspace_id=workspace_id)
    return shown(await core.create_source_definition(ctx, _new(body), scope))


async def get_source_definition(
    workspace_id: UUID, definition_id: UUID, ctx: Context
) -> DefinitionResponse:
    await workspaces.get_workspace(ctx, workspace_id)
    return shown(await core.get_source_definition(ctx, definition_id))


async def update_source_definition(
    workspace_id: UUID, definition_id: UUID, body: UpdateDefinitionRequest, ctx: Context
) -> DefinitionResponse:
    await workspaces.get_workspace(ctx, workspace_id)
    return shown(await core.update_source_definition(ctx, definition_id, _changes(body)))


async def delete_source_definition(
    workspace_id: UUID, definition_id: UUID, ctx: Context
) -> DefinitionResponse:
    """Also deletes the sources built on it and their connections, as Airbyte does."""
    await workspaces.get_workspace(ctx, workspace_id)
    deleted = await core.get_source_definition(ctx, definition_id)
    await core.delete_source_definition(ctx, definition_id)
    return shown(deleted)


# --- destinations --------------------------------------------------------------------------


async def list_destination_definitions(workspace_id: UUID, ctx: Context) -> DefinitionsResponse:
    await workspaces.get_workspace(ctx, workspace_id)
    found = await core.list_destination_definitions(ctx)
    return DefinitionsResponse(data=[shown(d) for d in found])


async def create_destination_definition(
    workspace_id: UUID, body: CreateDefinitionRequest, ctx: Context
) -> DefinitionResponse:
    scope = Scope(workspace_id=workspace_id)
    return shown(await core.create_destination_definition(ctx, _new(body), scope))


async def get_destination_definition(
    workspace_id: UUID, definition_id: UUID, ctx: Context
) -> DefinitionResponse:
    await workspaces.get_workspace(ctx, workspace_id)
    return shown(await core.get_destination_definition(ctx, definition_id))


async def update_destination_definition(
    workspace_id: UUID, definition_id: UUID, body: UpdateDefinitionRequest, ctx: Context
) -> DefinitionResponse:
    await workspaces.get_workspace(ctx, workspace_id)
    return shown(await core.update_destination_definition(ctx, definition_id, _changes(body)))


async def delete_destination_definition(
    workspace_id: UUID, definition_id: UUID, ctx: Context
) -> DefinitionResponse:
    """Also deletes the destinations built on it and their connections, as Airbyte does."""
    await workspaces.get_workspace(ctx, workspace_id)
    deleted = await core.get_destination_definition(ctx, definition_id)
    await core.delete_destination_definition(ctx, definition_id)
    return shown(deleted)


# --- every connector -----------------------------------------------------------------------


async def list_connector_definitions(
    query: ListConnectorDefinitionsQuery, ctx: Context
) -> ConnectorDefinitionsResponse:
    if query.workspace_id is not None:
        await workspaces.get_workspace(ctx, query.workspace_id)
    found: list[SourceDefinitionRead] | list[DestinationDefinitionRead]
    if query.type == "source":
        found = await core.list_source_definitions(ctx)
    else:
        found = await core.list_destination_definitions(ctx)
    return ConnectorDefinitionsResponse(
        data=[
            ConnectorDefinitionResponse(
                id=_id(d),
                name=d.name,
                connector_definition_type=query.type,
                version=d.docker_image_tag,
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
