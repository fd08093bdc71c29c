"""Notifications: the workspace's `notificationSettings` per trigger (a Slack webhook URL, a
generic webhook URL and its signing secret), "Send a test" (notifications/try's path: a test
message to the Slack webhook typed in the form), and the latest deliveries.

A webhook secret is a password input that is never filled in (the core hands the settings out
masked): left empty, the mask is sent back and the core keeps the stored secret; "Remove the
secret" clears it. The settings are checked as the API checks them (an http(s) URL).
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.core import notifications as core
from server.core import workspaces
from server.core.errors import DomainError
from server.core.notification_settings import MASK
from server.models.notifications import NotificationItem, NotificationSettings
from server.ui import frame
from server.ui.actor_kinds import default_workspace

HERE = "/notifications"
RECENT_DELIVERIES = 25
# The settings' attributes, in the page's order, with what each trigger is in words.
TRIGGERS: dict[str, str] = {
    "send_on_failure": "A sync failed",
    "send_on_success": "A sync succeeded",
    "send_on_connection_sync_queued": "A sync was queued",
    "send_on_sync_disabled": "A connection was disabled after failing syncs",
    "send_on_sync_disabled_warning": "A connection is about to be disabled",
    "send_on_connection_update": "A connection's schema changed (non-breaking)",
    "send_on_connection_update_action_required": "A connection's schema change needs action",
    "send_on_breaking_change_warning": "A breaking change is coming",
    "send_on_breaking_change_syncs_disabled": "A breaking change stopped a connection",
}
_to_camel = {f.name: f.encode_name for f in msgspec.structs.fields(NotificationSettings)}


def _rows(settings: NotificationSettings | None) -> list[dict[str, Any]]:
    rows = []
    for name, words in TRIGGERS.items():
        item: NotificationItem | None = getattr(settings, name) if settings else None
        slack = item.slack_configuration if item else None
        hook = item.webhook_configuration if item else None
        rows.append(
            {
                "name": name,
                "words": words,
                "slack": slack.webhook if slack else "",
                "webhook": hook.url if hook else "",
                # Only whether one is set: the value never reaches the page.
                "has_secret": bool(hook and hook.secret),
            }
        )
    return rows


async def notifications_page(request: Request) -> Response:
    ctx = frame.context(request)
    workspace_id = await default_workspace(ctx)
    workspace = await workspaces.get_workspace(ctx, workspace_id)
    deliveries = await core.list_deliveries(ctx, workspace_id, None, RECENT_DELIVERIES, 0)
    values = {"rows": _rows(workspace.notification_settings), "deliveries": deliveries}
    return frame.page(request, "notifications/index.html", values)


def _item(data: FormData, name: str, current: NotificationItem | None) -> dict[str, Any] | None:
    slack = frame.field(data, f"{name}.slack").strip()
    url = frame.field(data, f"{name}.webhook").strip()
    secret = frame.field(data, f"{name}.secret")
    item: dict[str, Any] = {"notificationType": []}
    if slack:
        item["notificationType"].append("slack")
        item["slackConfiguration"] = {"webhook": slack}
    if url:
        item["notificationType"].append("webhook")
        old = current.webhook_configuration if current else None
        had = bool(old and old.secret)
        if frame.field(data, f"{name}.clear_secret") == "on":
            kept = None
        elif secret:
            kept = secret
        else:
            kept = MASK if had else None  # the mask: the core keeps the stored secret
        item["webhookConfiguration"] = {"url": url, "secret": kept}
    if current is not None and current.customerio_configuration is not None:
        # Airbyte Cloud's e-mail channel: not on this page, kept as it is.
        item["notificationType"].append("customerio")
        item["customerioConfiguration"] = {}
    return item if item["notificationType"] else None


async def save(request: Request) -> Response:
    ctx = frame.context(request)
    data = await frame.form(request)
    workspace_id = await default_workspace(ctx)
    current = (await workspaces.get_workspace(ctx, workspace_id)).notification_settings
    given = {
        _to_camel[name]: item
        for name in TRIGGERS
        if (item := _item(data, name, getattr(current, name) if current else None)) is not None
    }
    try:
        settings = msgspec.convert(given, NotificationSettings)
    except msgspec.ValidationError as exc:
        text = str(exc).replace("Expected `str` matching regex", "Expected an http(s) URL, not")
        return frame.back(request, HERE, f"Not saved: {text}", "error")
    try:
        await workspaces.update_workspace(
            ctx, workspace_id, workspaces.WorkspaceFields(notification_settings=settings)
        )
    except DomainError as exc:
        return frame.back(request, HERE, exc.message, "error")
    return frame.back(request, HERE, "Notification settings saved.", "ok")


async def try_send(request: Request) -> Response:
    """Send a test message to the Slack webhook typed for one trigger (saved or not)."""
    ctx = frame.context(request)
    data = await frame.form(request)
    name = frame.field(data, "trigger")
    if name not in TRIGGERS:
        raise frame.PageError(400, "Choose a trigger to test.")
    hook = frame.field(data, f"{name}.slack").strip()
    if not hook.lower().startswith(("http://", "https://")):
        return frame.back(
            request, HERE, "Give an http(s) Slack webhook URL for this trigger to test.", "error"
        )
    answer = await core.try_slack(ctx, hook, _to_camel[name])
    kind = "ok" if answer.status == "succeeded" else "error"
    return frame.back(
        request, HERE, f"Test of '{TRIGGERS[name]}': {answer.status}. {answer.message}", kind
    )


ROUTES = [
    frame.route(HERE, notifications_page),
    frame.route(HERE, save, methods=["POST"]),
    frame.route(HERE + "/try", try_send, methods=["POST"]),
]
