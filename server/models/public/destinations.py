"""Destinations in the public API (tag: destinations)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.models.base import Model
from server.models.public.actors import ActorPutRequest, GetActorQuery
from server.models.public.common import ListQuery, PageLinks
from server.models.sources import ActorName


class DestinationResponse(Model):
    """`configuration` is masked as the configuration API masks it and carries `destinationType`
    (the connector's type name, also in `destinationType`: the airbyte-api SDK reads the
    configuration as a union tagged by it); `createdAt` is epoch seconds."""

    destination_id: UUID
    name: str
    destination_type: str
    definition_id: UUID
    workspace_id: UUID
    configuration: dict[str, Any]
    created_at: int


class DestinationsResponse(PageLinks):
    data: list[DestinationResponse]


class DestinationCreateRequest(Model):
    """The connector is `definitionId`, else the one `configuration.destinationType` names."""

    name: ActorName
    workspace_id: UUID
    configuration: dict[str, Any]
    definition_id: UUID | None = None


class DestinationPatchRequest(Model):
    """`configuration` is merged into the stored one (objects key by key); masked secrets sent
    back keep their stored values."""

    name: ActorName | None = None
    configuration: dict[str, Any] | None = None


class DestinationPutRequest(ActorPutRequest):
    """The whole configuration; masked secrets sent back keep their stored values."""


class ListDestinationsQuery(ListQuery):
    pass


# Query models name no component of the document: one serves both kinds.
GetDestinationQuery = GetActorQuery
