"""Workspaces (tag: workspaces): list, get, create, PATCH, DELETE over server.core.workspaces."""

from __future__ import annotations

from uuid import UUID

from server.context import Context
from server.core import workspaces as core
from server.errors import InvalidInput
from server.models.public.workspaces import (
    ListWorkspacesQuery,
    WorkspaceCreateRequest,
    WorkspaceResponse,
    WorkspacesResponse,
    WorkspaceUpdateRequest,
)
from server.models.workspaces import WorkspaceRead
from server.public.rest import Links


def shown(workspace: WorkspaceRead) -> WorkspaceResponse:
    return WorkspaceResponse(
        workspace_id=workspace.workspace_id,
        name=workspace.name,
        data_residency="auto",
        notifications={},
        organization_id=workspace.organization_id,
    )


def _no_notifications(notifications: dict[str, object] | None) -> None:
    # Refused rather than dropped: a client must not believe its alerts are set up.
    if notifications:
        raise InvalidInput(
            "The public API's workspace notifications are not supported yet; set them with "
            "the configuration API's workspaces/update",
            property_path="notifications",
            invalid_value=notifications,
        )


async def list_workspaces(
    query: ListWorkspacesQuery, links: Links, ctx: Context
) -> WorkspacesResponse:
    wanted = {str(w) for w in query.workspace_ids}
    every = [
        w for w in await core.list_workspaces(ctx) if not wanted or str(w.workspace_id) in wanted
    ]
    page = every[query.offset : query.offset + query.limit]
    after, before = links.page(query.limit, query.offset, query.offset + len(page) < len(every))
    return WorkspacesResponse(data=[shown(w) for w in page], next=after, previous=before)


async def get_workspace(workspace_id: UUID, ctx: Context) -> WorkspaceResponse:
    return shown(await core.get_workspace(ctx, workspace_id))


async def create_workspace(body: WorkspaceCreateRequest, ctx: Context) -> WorkspaceResponse:
    _no_notifications(body.notifications)
    fields = core.WorkspaceFields(organization_id=body.organization_id)
    return shown(await core.create_workspace(ctx, body.name, fields))


async def update_workspace(
    workspace_id: UUID, body: WorkspaceUpdateRequest, ctx: Context
) -> WorkspaceResponse:
    _no_notifications(body.notifications)
    fields = core.WorkspaceFields(name=body.name)
    return shown(await core.update_workspace(ctx, workspace_id, fields))


async def delete_workspace(workspace_id: UUID, ctx: Context) -> None:
    await core.delete_workspace(ctx, workspace_id)


handlers = [list_workspaces, get_workspace, create_workspace, update_workspace, delete_workspace]
