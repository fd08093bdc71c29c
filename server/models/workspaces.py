"""Workspace models (tag: workspace)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.models.base import Model


class Notification(Model):
    notification_type: str | None = None
    send_on_success: bool | None = None
    send_on_failure: bool | None = None
    slack_configuration: dict[str, Any] | None = None
    customerio_configuration: dict[str, Any] | None = None


class WorkspaceCreate(Model):
    name: str
    email: str | None = None
    anonymous_data_collection: bool | None = None
    news: bool | None = None
    security_updates: bool | None = None
    notifications: list[Notification] | None = None
    display_setup_wizard: bool | None = None
    organization_id: UUID | None = None


class WorkspaceUpdate(Model):
    workspace_id: UUID
    name: str | None = None
    email: str | None = None
    initial_setup_complete: bool | None = None
    display_setup_wizard: bool | None = None
    anonymous_data_collection: bool | None = None
    news: bool | None = None
    security_updates: bool | None = None
    notifications: list[Notification] | None = None


class WorkspaceRead(Model):
    workspace_id: UUID
    customer_id: UUID
    name: str
    slug: str
    initial_setup_complete: bool
    email: str | None = None
    display_setup_wizard: bool | None = None
    anonymous_data_collection: bool | None = None
    news: bool | None = None
    security_updates: bool | None = None
    notifications: list[Notification] | None = None
    first_completed_sync: bool | None = None
    feedback_done: bool | None = None
    organization_id: UUID | None = None
    tombstone: bool | None = None


class WorkspaceReadList(Model):
    workspaces: list[WorkspaceRead]


class WorkspaceIdRequestBody(Model):
    workspace_id: UUID


class SlugRequestBody(Model):
    slug: str
