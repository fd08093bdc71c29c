"""Sources in the public API (tag: sources)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.models.base import Model
from server.models.public.actors import ActorPutRequest, GetActorQuery
from server.models.public.common import ListQuery, PageLinks
from server.models.sources import ActorName


class SourceResponse(Model):
    """`configuration` is masked as the configuration API masks it and carries `sourceType`
    (the connector's type name, also in `sourceType`); `createdAt` is epoch seconds."""

    source_id: UUID
    name: str
    source_type: str
    definition_id: UUID
    workspace_id: UUID
    configuration: dict[str, Any]
    created_at: int


class SourcesResponse(PageLinks):
    data: list[SourceResponse]


class SourceCreateRequest(Model):
    """The connector is `definitionId`, else the one `configuration.sourceType` names.
    `secretId` (Airbyte's OAuth flow) is accepted and not used: Sluice has no such flow."""

    name: ActorName
    workspace_id: UUID
    configuration: dict[str, Any]
    definition_id: UUID | None = None
    secret_id: str | None = None


class SourcePatchRequest(Model):
    """`configuration` is merged into the stored one (objects key by key); masked secrets sent
    back keep their stored values. A `workspaceId` other than the source's is refused."""

    name: ActorName | None = None
    workspace_id: UUID | None = None
    configuration: dict[str, Any] | None = None
    secret_id: str | None = None


class SourcePutRequest(ActorPutRequest):
    """The whole configuration; masked secrets sent back keep their stored values."""


class ListSourcesQuery(ListQuery):
    pass


# Query models name no component of the document: one serves both kinds.
GetSourceQuery = GetActorQuery
