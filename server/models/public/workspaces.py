"""Workspaces in the public API (tag: workspaces)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

from server.models.base import Model
from server.models.public.common import ListQuery, PageLinks

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class WorkspaceResponse(Model):
    """`dataResidency` is always `auto` (one machine); `notifications` is `{}` until Sluice
    keeps the public API's notification settings."""

    workspace_id: UUID
    name: str
    data_residency: str
    notifications: dict[str, Any]
    organization_id: UUID | None = None


class WorkspacesResponse(PageLinks):
    data: list[WorkspaceResponse]


class WorkspaceCreateRequest(Model):
    name: Name
    organization_id: UUID | None = None
    notifications: dict[str, Any] | None = None
    region_id: UUID | None = None


class WorkspaceUpdateRequest(Model):
    name: Name | None = None
    notifications: dict[str, Any] | None = None


class ListWorkspacesQuery(ListQuery):
    pass
