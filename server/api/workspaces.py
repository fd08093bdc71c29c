"""Workspace endpoints (tag: workspace): wire model in, one core call
(`server.core.workspaces`), wire model out."""

from __future__ import annotations

from server.context import Context
from server.core import workspaces as core
from server.models.workspaces import (
    SlugRequestBody,
    WorkspaceCreate,
    WorkspaceIdRequestBody,
    WorkspaceRead,
    WorkspaceReadList,
    WorkspaceUpdate,
)


async def create_workspace(body: WorkspaceCreate, ctx: Context) -> WorkspaceRead:
    return await core.create_workspace(ctx, body.name, core.fields_of(body))


async def get_workspace(body: WorkspaceIdRequestBody, ctx: Context) -> WorkspaceRead:
    return await core.get_workspace(ctx, body.workspace_id)


async def get_workspace_by_slug(body: SlugRequestBody, ctx: Context) -> WorkspaceRead:
    return await core.get_workspace_by_slug(ctx, body.slug)


async def list_workspaces(ctx: Context) -> WorkspaceReadList:
    return WorkspaceReadList(workspaces=await core.list_workspaces(ctx))


async def update_workspace(body: WorkspaceUpdate, ctx: Context) -> WorkspaceRead:
    return await core.update_workspace(ctx, body.workspace_id, core.fields_of(body))


async def delete_workspace(body: WorkspaceIdRequestBody, ctx: Context) -> None:
    await core.delete_workspace(ctx, body.workspace_id)


handlers = [
    create_workspace,
    get_workspace,
    get_workspace_by_slug,
    list_workspaces,
    update_workspace,
    delete_workspace,
]
