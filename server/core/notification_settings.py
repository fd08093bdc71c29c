"""A workspace's `notificationSettings`: its webhook secrets sealed at rest and masked in
replies, and which receivers a trigger names.

Only the generic webhook's `secret` is a secret here. A Slack webhook's URL carries its own
credential, but Airbyte returns it as set (its UI shows it), so Sluice does too.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlite_utils import Database

from server.models.notifications import (
    NotificationItem,
    NotificationSettings,
    WebhookNotificationConfiguration,
)
from server.models.workspaces import WorkspaceRead
from server.store import secret_box

MASK = "**********"

# Sluice's trigger names (Airbyte's `NotificationSettings` keys) -> the settings' attributes.
SETTING_OF: dict[str, str] = {
    "sendOnSuccess": "send_on_success",
    "sendOnFailure": "send_on_failure",
    "sendOnSyncDisabled": "send_on_sync_disabled",
    "sendOnSyncDisabledWarning": "send_on_sync_disabled_warning",
    "sendOnConnectionUpdate": "send_on_connection_update",
    "sendOnConnectionUpdateActionRequired": "send_on_connection_update_action_required",
    "sendOnBreakingChangeWarning": "send_on_breaking_change_warning",
    "sendOnBreakingChangeSyncsDisabled": "send_on_breaking_change_syncs_disabled",
}
# Airbyte's `NotificationTrigger` values (notifications/try_webhook) -> trigger names.
TRIGGER_OF: dict[str, str] = {
    "sync_success": "sendOnSuccess",
    "sync_failure": "sendOnFailure",
    "sync_disabled": "sendOnSyncDisabled",
    "sync_disabled_warning": "sendOnSyncDisabledWarning",
    "connection_update": "sendOnConnectionUpdate",
    "connection_update_action_required": "sendOnConnectionUpdateActionRequired",
    "breaking_change_warning": "sendOnBreakingChangeWarning",
    "breaking_change_syncs_disabled": "sendOnBreakingChangeSyncsDisabled",
    "connection_sync_queued": "sendOnConnectionSyncQueued",
}


def _map_webhooks(settings: NotificationSettings, fn: Any) -> NotificationSettings:
    """`settings` with `fn(name, webhook)` applied to each item's webhook configuration."""
    changes: dict[str, NotificationItem] = {}
    for name in NotificationSettings.__struct_fields__:
        item = getattr(settings, name)
        if item is not None and item.webhook_configuration is not None:
            hook = fn(name, item.webhook_configuration)
            changes[name] = msgspec.structs.replace(item, webhook_configuration=hook)
    return msgspec.structs.replace(settings, **changes) if changes else settings


def sealed(
    db: Database, given: NotificationSettings | None, current: NotificationSettings | None
) -> NotificationSettings | None:
    """`given` as it is stored: each webhook secret sealed; a masked one (sent back as
    received) replaced by the stored secret of the same trigger's webhook."""
    if given is None:
        return None

    def seal(name: str, hook: WebhookNotificationConfiguration) -> WebhookNotificationConfiguration:
        secret = hook.secret
        if secret == MASK:
            item = None if current is None else getattr(current, name)
            old = None if item is None else item.webhook_configuration
            return msgspec.structs.replace(hook, secret=None if old is None else old.secret)
        if secret is None or secret == "":
            return msgspec.structs.replace(hook, secret=None)
        token = secret_box.seal(secret_box.unlock(db), secret, [[]])
        return msgspec.structs.replace(hook, secret=token)

    return _map_webhooks(given, seal)


def masked(workspace: WorkspaceRead) -> WorkspaceRead:
    """The workspace as replies show it: each webhook secret as the mask."""
    settings = workspace.notification_settings
    if settings is None:
        return workspace

    def mask(_: str, hook: WebhookNotificationConfiguration) -> WebhookNotificationConfiguration:
        return hook if hook.secret is None else msgspec.structs.replace(hook, secret=MASK)

    return msgspec.structs.replace(workspace, notification_settings=_map_webhooks(settings, mask))


def open_secret(db: Database, secret: str | None) -> str | None:
    """A stored webhook secret in clear (for signing)."""
    if secret is None:
        return None
    value = secret_box.open_value(secret_box.unlock(db), secret)
    return str(value)


def items_for(workspace: WorkspaceRead, trigger: str) -> list[NotificationItem]:
    """The receivers a workspace names for a trigger. Without `notificationSettings`, the
    early `notifications` list still counts for success and failure (as Airbyte's did)."""
    settings = workspace.notification_settings
    if settings is not None:
        name = SETTING_OF.get(trigger)
        item = None if name is None else getattr(settings, name)
        return [] if item is None else [item]
    found = []
    for legacy in workspace.notifications or []:
        wanted = (trigger == "sendOnSuccess" and legacy.send_on_success) or (
            trigger == "sendOnFailure" and legacy.send_on_failure is not False
        )
        hook = (legacy.slack_configuration or {}).get("webhook")
        if wanted and legacy.notification_type == "slack" and isinstance(hook, str):
            found.append(
                msgspec.convert(
                    {"notificationType": ["slack"], "slackConfiguration": {"webhook": hook}},
                    NotificationItem,
                )
            )
    return found
