"""Destination models (tag: destination)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.models.base import Model, PageSize
from server.models.sources import ActorName


class DestinationCreate(Model):
    destination_definition_id: UUID
    connection_configuration: dict[str, Any]
    workspace_id: UUID
    name: ActorName
    secret_id: str | None = None


class DestinationUpdate(Model):
    """`connectionConfiguration` replaces the stored one; a left-out `name` is kept."""

    destination_id: UUID
    connection_configuration: dict[str, Any]
    name: ActorName | None = None
    secret_id: str | None = None


class DestinationRecreate(Model):
    """The 2020 web app's "recreate": a new destination replaces `destinationId`."""

    destination_id: UUID
    destination_definition_id: UUID
    workspace_id: UUID
    connection_configuration: dict[str, Any]
    name: ActorName


class DestinationRead(Model):
    destination_definition_id: UUID
    destination_id: UUID
    workspace_id: UUID
    connection_configuration: dict[str, Any]
    name: str
    destination_name: str
    created_at: int
    icon: str | None = None


class DestinationIdRequestBody(Model):
    destination_id: UUID


class DestinationListRequestBody(Model):
    """`destinations/list`: Airbyte's `ActorListCursorPaginatedRequestBody`; a bare `{workspaceId}`
    (the 2020 body) is the common case. `pageSize` bounds the reply."""

    workspace_id: UUID
    page_size: PageSize | None = None


class DestinationReadList(Model):
    destinations: list[DestinationRead]
