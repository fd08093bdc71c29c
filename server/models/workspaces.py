"""Workspace models (tag: workspace)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.models.base import Model
from server.models.notifications import NotificationSettings

# Airbyte's default organization: every workspace belongs to one, and OSS has only this one.
DEFAULT_ORGANIZATION_ID = UUID("00000000-0000-0000-0000-000000000000")


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
    notification_settings: NotificationSettings | None = None
    display_setup_wizard: bool | None = None
    organization_id: UUID | None = None


class WorkspaceUpdate(Model):
    workspace_id: UUID
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


class WorkspaceRead(Model):
    """`organizationId` is required by Airbyte's schema today, `onboardingComplete` by the early
    API's; both are always sent."""

    workspace_id: UUID
    customer_id: UUID
    name: str
    slug: str
    initial_setup_complete: bool
    onboarding_complete: bool
    organization_id: UUID
    email: str | None = None
    display_setup_wizard: bool | None = None
    anonymous_data_collection: bool | None = None
    news: bool | None = None
    security_updates: bool | None = None
    notifications: list[Notification] | None = None
    notification_settings: NotificationSettings | None = None
    first_completed_sync: bool | None = None
    feedback_done: bool | None = None
    tombstone: bool | None = None


class WorkspaceReadList(Model):
    workspaces: list[WorkspaceRead]


class WorkspaceIdRequestBody(Model):
    workspace_id: UUID


class SlugRequestBody(Model):
    slug: str
