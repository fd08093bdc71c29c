"""Connector definitions in the public API (tag: definitions): a workspace's source and
destination definitions, and the connector definitions list."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from server.models.base import Model, Uri
from server.models.definitions import DockerImageTag, DockerRepository, Name

ConnectorType = Literal["source", "destination"]


class DefinitionResponse(Model):
    id: UUID
    name: str
    docker_repository: str
    docker_image_tag: str
    documentation_url: str | None = None


class DefinitionsResponse(Model):
    data: list[DefinitionResponse]


class CreateDefinitionRequest(Model):
    """A custom connector, run from its image (`runner: docker`; the configuration API's
    `*_definitions/create_custom` can make one that runs as a local program)."""

    name: Name
    docker_repository: DockerRepository
    docker_image_tag: DockerImageTag
    documentation_url: Uri | None = None


class UpdateDefinitionRequest(Model):
    name: Name
    docker_image_tag: DockerImageTag


class ConnectorDefinitionResponse(Model):
    """`version` is the definition's image tag."""

    id: UUID
    name: str
    connector_definition_type: ConnectorType
    version: str


class ConnectorDefinitionsResponse(Model):
    data: list[ConnectorDefinitionResponse]


class ListConnectorDefinitionsQuery(Model):
    """`type` is required; `workspaceId`, when given, must name a workspace (Sluice's
    definitions are the same for every workspace)."""

    type: ConnectorType
    workspace_id: UUID | None = None
