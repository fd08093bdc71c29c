"""Source models (tag: source)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta

from server.models.base import Model, PageSize

ActorName = Annotated[str, Meta(min_length=1, max_length=256)]


class SourceCreate(Model):
    source_definition_id: UUID
    connection_configuration: dict[str, Any]
    workspace_id: UUID
    name: ActorName
    secret_id: str | None = None


class SourceUpdate(Model):
    """`connectionConfiguration` replaces the stored one; a left-out `name` is kept."""

    source_id: UUID
    connection_configuration: dict[str, Any]
    name: ActorName | None = None
    secret_id: str | None = None


class SourceRecreate(Model):
    """The 2020 web app's "recreate": a new source replaces `sourceId`."""

    source_id: UUID
    source_definition_id: UUID
    workspace_id: UUID
    connection_configuration: dict[str, Any]
    name: ActorName


class SourceRead(Model):
    source_definition_id: UUID
    source_id: UUID
    workspace_id: UUID
    connection_configuration: dict[str, Any]
    name: str
    source_name: str
    created_at: int
    icon: str | None = None


class SourceIdRequestBody(Model):
    source_id: UUID


class SourceListRequestBody(Model):
    """`sources/list`: Airbyte's `ActorListCursorPaginatedRequestBody`; a bare `{workspaceId}`
    (the 2020 body) is the common case. `pageSize` bounds the reply."""

    workspace_id: UUID
    page_size: PageSize | None = None


class SourceReadList(Model):
    sources: list[SourceRead]
