"""Workspaces: the rules every face follows for them.

- A new workspace gets fresh ids, a slug made unique from its name (in the same write), and
  Airbyte's default organization unless it names one; its setup starts incomplete.
- An update changes only the fields it sets (None keeps the stored value).
- Deleting a workspace deletes what lives in it (the store's cascade).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.core.notification_settings import masked, sealed
from server.models.notifications import NotificationSettings
from server.models.workspaces import DEFAULT_ORGANIZATION_ID, Notification, WorkspaceRead
from server.store import workspaces as store


class WorkspaceFields(msgspec.Struct, frozen=True, kw_only=True):
    """What a face may set on a workspace; None leaves a field as it is (unset on create)."""

    name: str | None = None
    email: str | None = None
    initial_setup_complete: bool | None = None
    onboarding_complete: bool | None = None
    display_setup_wizard: bool | None = None
    anonymous_data_collection: bool | None = None
    news: bool | None = None
    security_updates: bool | None = None
    notifications: list[Notification] | None = None
    notification_settings: NotificationSettings | None = None
    organization_id: uuid.UUID | None = None


def fields_of(struct: msgspec.Struct) -> WorkspaceFields:
    """The WorkspaceFields a face's model sets (its other fields are not a workspace's)."""
    names = set(WorkspaceFields.__struct_fields__)
    given: dict[str, Any] = {n: getattr(struct, n) for n in struct.__struct_fields__ if n in names}
    return WorkspaceFields(**given)


async def create_workspace(ctx: Context, name: str, fields: WorkspaceFields) -> WorkspaceRead:
    def insert(db: Database) -> WorkspaceRead:
        workspace = WorkspaceRead(
            workspace_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            name=name,
            slug=store.unique_slug(db, name),
            initial_setup_complete=False,
            onboarding_complete=False,
            email=fields.email,
            display_setup_wizard=fields.display_setup_wizard,
            anonymous_data_collection=fields.anonymous_data_collection,
            news=fields.news,
            security_updates=fields.security_updates,
            notifications=fields.notifications,
            notification_settings=sealed(db, fields.notification_settings, None),
            organization_id=fields.organization_id or DEFAULT_ORGANIZATION_ID,
        )
        return masked(store.insert_workspace(db, workspace))

    return await ctx.store.write(insert)


async def get_workspace(ctx: Context, workspace_id: uuid.UUID) -> WorkspaceRead:
    return masked(await ctx.store.read(store.get_workspace, str(workspace_id)))


async def get_workspace_by_slug(ctx: Context, slug: str) -> WorkspaceRead:
    return masked(await ctx.store.read(store.get_workspace_by_slug, slug))


async def list_workspaces(ctx: Context) -> list[WorkspaceRead]:
    return [masked(w) for w in await ctx.store.read(store.list_workspaces)]


async def update_workspace(
    ctx: Context, workspace_id: uuid.UUID, fields: WorkspaceFields
) -> WorkspaceRead:
    changes = {
        n: v
        for n in WorkspaceFields.__struct_fields__
        if n != "organization_id" and (v := getattr(fields, n)) is not None
    }

    def update(db: Database) -> WorkspaceRead:
        current = store.get_workspace(db, str(workspace_id))
        if "notification_settings" in changes:
            # A webhook secret sent back masked keeps the stored one.
            given = changes["notification_settings"]
            changes["notification_settings"] = sealed(db, given, current.notification_settings)
        return masked(store.update_workspace(db, msgspec.structs.replace(current, **changes)))

    return await ctx.store.write(update)


async def delete_workspace(ctx: Context, workspace_id: uuid.UUID) -> None:
    """Delete the workspace and everything in it."""
    await ctx.store.write(store.delete_workspace, str(workspace_id))
