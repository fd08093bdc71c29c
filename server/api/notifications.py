"""Notifications: trying a webhook, and what was delivered (tag: notifications)."""

from __future__ import annotations

from server.context import Context
from server.core import notifications as core
from server.core.errors import InvalidInput
from server.core.notification_settings import TRIGGER_OF
from server.models.notifications import (
    NotificationDeliveryList,
    NotificationListRequestBody,
    NotificationRead,
    NotificationWebhookConfigValidationRequestBody,
)
from server.models.workspaces import Notification
from server.rpc import Handler


async def list_notifications(
    body: NotificationListRequestBody, ctx: Context
) -> NotificationDeliveryList:
    found = await core.list_deliveries(
        ctx, body.workspace_id, body.connection_id, body.page_size, body.row_offset
    )
    return NotificationDeliveryList(notifications=found)


async def try_notification_config(body: Notification, ctx: Context) -> NotificationRead:
    """Airbyte's older test call: a Slack notification's webhook gets a test message."""
    hook = (body.slack_configuration or {}).get("webhook")
    web = isinstance(hook, str) and hook.lower().startswith(("http://", "https://"))
    if body.notification_type not in (None, "slack") or not web or not isinstance(hook, str):
        raise InvalidInput(
            "Only a slack notification with an http(s) slackConfiguration.webhook can be tried",
            property_path="slackConfiguration.webhook",
            invalid_value=hook,
        )
    trigger = "sendOnSuccess" if body.send_on_success else "sendOnFailure"
    return await core.try_slack(ctx, hook, trigger)


async def try_notification_webhook_config(
    body: NotificationWebhookConfigValidationRequestBody, ctx: Context
) -> NotificationRead:
    trigger = TRIGGER_OF[body.notification_trigger]
    return await core.try_slack(ctx, body.slack_configuration.webhook, trigger)


handlers: list[Handler] = [
    list_notifications,
    try_notification_config,
    try_notification_webhook_config,
]
