"""Workspace endpoints (tag: workspace)."""

from __future__ import annotations

import uuid

from sqlite_utils import Database

from server.context import Context
from server.models.base import merge
from server.models.workspaces import (
    DEFAULT_ORGANIZATION_ID,
    SlugRequestBody,
    WorkspaceCreate,
    WorkspaceIdRequestBody,
    WorkspaceRead,
    WorkspaceReadList,
    WorkspaceUpdate,
)
from server.store import workspaces as store


async def create_workspace(body: WorkspaceCreate, ctx: Context) -> WorkspaceRead:
    def insert(db: Database) -> WorkspaceRead:
        workspace_id = uuid.uuid4()
        workspace = WorkspaceRead(
            workspace_id=workspace_id,
            customer_id=uuid.uuid4(),
            name=body.name,
            slug=store.unique_slug(db, body.name),
            initial_setup_complete=False,
            onboarding_complete=False,
            email=body.email,
            display_setup_wizard=body.display_setup_wizard,
            anonymous_data_collection=body.anonymous_data_collection,
            news=body.news,
            security_updates=body.security_updates,
            notifications=body.notifications,
            organization_id=body.organization_id or DEFAULT_ORGANIZATION_ID,
        )
        return store.insert_workspace(db, workspace)

    return await ctx.store.write(insert)


async def get_workspace(body: WorkspaceIdRequestBody, ctx: Context) -> WorkspaceRead:
    return await ctx.store.read(store.get_workspace, str(body.workspace_id))


async def get_workspace_by_slug(body: SlugRequestBody, ctx: Context) -> WorkspaceRead:
    return await ctx.store.read(store.get_workspace_by_slug, body.slug)


async def list_workspaces(ctx: Context) -> WorkspaceReadList:
    return WorkspaceReadList(workspaces=await ctx.store.read(store.list_workspaces))


async def update_workspace(body: WorkspaceUpdate, ctx: Context) -> WorkspaceRead:
    def update(db: Database) -> WorkspaceRead:
        current = store.get_workspace(db, str(body.workspace_id))
        return store.update_workspace(db, merge(current, body))

    return await ctx.store.write(update)


async def delete_workspace(body: WorkspaceIdRequestBody, ctx: Context) -> None:
    await ctx.store.write(store.delete_workspace, str(body.workspace_id))


handlers = [
    create_workspace,
    get_workspace,
    get_workspace_by_slug,
    list_workspaces,
    update_workspace,
    delete_workspace,
]
