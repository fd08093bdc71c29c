"""Notification models (tag: notifications): Airbyte's workspace `notificationSettings`, its
`notifications/try` bodies, and Sluice's record of each delivery."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from server.models.base import Model, RowOffset

# Only http and https receivers: a `file:` or other scheme is refused at the edge (422).
HttpUrl = Annotated[
    str, msgspec.Meta(pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+", max_length=2048)
]
NotificationPageSize = Annotated[int, msgspec.Meta(ge=1, le=1000)]

# Airbyte's types, and Sluice's generic signed webhook (Airbyte's enum has it commented out).
NotificationType = Literal["slack", "customerio", "webhook"]
NotificationTrigger = Literal[
    "sync_success",
    "sync_failure",
    "sync_disabled",
    "sync_disabled_warning",
    "connection_update",
    "connection_update_action_required",
    "breaking_change_warning",
    "breaking_change_syncs_disabled",
    "connection_sync_queued",
]


class SlackNotificationConfiguration(Model):
    """A Slack incoming webhook (or anything that takes Slack's `{text, blocks}` JSON)."""

    webhook: HttpUrl


class CustomerioNotificationConfiguration(Model):
    """Airbyte Cloud's e-mail channel: accepted and kept, never sent by Sluice."""


class WebhookNotificationConfiguration(Model):
    """Sluice's generic webhook: a JSON payload POSTed to `url`, signed when `secret` is set
    (header `X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the raw body>`). The secret is
    stored sealed and sent back masked; an update that sends the mask keeps it."""

    url: HttpUrl
    secret: str | None = None


class NotificationItem(Model):
    """Where one trigger's notifications go: each type named in `notificationType`."""

    notification_type: list[NotificationType] | None = None
    slack_configuration: SlackNotificationConfiguration | None = None
    customerio_configuration: CustomerioNotificationConfiguration | None = None
    webhook_configuration: WebhookNotificationConfiguration | None = None


class NotificationSettings(Model):
    """Airbyte's per-trigger settings of a workspace."""

    send_on_success: NotificationItem | None = None
    send_on_failure: NotificationItem | None = None
    send_on_sync_disabled: NotificationItem | None = None
    send_on_sync_disabled_warning: NotificationItem | None = None
    send_on_connection_update: NotificationItem | None = None
    send_on_connection_update_action_required: NotificationItem | None = None
    send_on_breaking_change_warning: NotificationItem | None = None
    send_on_breaking_change_syncs_disabled: NotificationItem | None = None
    send_on_connection_sync_queued: NotificationItem | None = None


class NotificationRead(Model):
    """What `notifications/try` answers: whether the receiver took the test message."""

    status: Literal["succeeded", "failed"]
    message: str | None = None


class NotificationWebhookConfigValidationRequestBody(Model):
    """`notifications/try_webhook`: send a test message for a trigger to a Slack webhook."""

    slack_configuration: SlackNotificationConfiguration
    notification_trigger: NotificationTrigger = "sync_success"


class NotificationListRequestBody(Model):
    """`notifications/list` (Sluice's): a workspace's deliveries, or one connection's,
    newest first."""

    workspace_id: UUID | None = None
    connection_id: UUID | None = None
    page_size: NotificationPageSize = 20
    row_offset: RowOffset = 0


class NotificationDeliveryRead(Model):
    """One delivery: what was sent where, when, and what the receiver answered. `target` is
    the receiver's address without its path (a Slack webhook's path is its credential)."""

    notification_id: int
    workspace_id: UUID
    event: str
    notification_type: str
    target: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    created_at: int
    payload: str
    connection_id: UUID | None = None
    job_id: int | None = None
    next_attempt_at: int | None = None
    sent_at: int | None = None
    answer_status_code: int | None = None
    answer_excerpt: str | None = None
    last_error: str | None = None


class NotificationDeliveryList(Model):
    notifications: list[NotificationDeliveryRead]
