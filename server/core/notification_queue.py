"""Turning an event into outbox rows: which receivers, and what each is sent.

Two kinds of receiver:
- `slack`: Slack's incoming-webhook JSON, `{"text": ..., "blocks": [...]}`, as Airbyte's
  SlackNotificationClient sends (any Slack-compatible receiver takes it);
- `webhook` (Sluice's): the generic payload below, with `X-Sluice-Signature:
  sha256=<hex>`, the HMAC-SHA256 of the raw body keyed with the receiver's secret. The body
  and its signature are fixed when queued, so a retry sends the same bytes and the sender
  never needs the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

import msgspec
from sqlite_utils import Database

from server.core.errors import NotFound
from server.core.notification_settings import items_for, open_secret
from server.models.notifications import NotificationItem
from server.store import notifications as outbox
from server.store.connections import get_connection
from server.store.secret_box import SecretKeyError
from server.store.workspaces import get_workspace

if TYPE_CHECKING:
    from server.core.notifications import NotificationEvent

SIGNATURE_HEADER = "X-Sluice-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def kinds(item: NotificationItem) -> list[tuple[str, str, str | None]]:
    """(kind, url, stored secret) for each receiver an item names. Without `notificationType`,
    each configuration given counts; customer.io (Airbyte Cloud's e-mail) is never sent."""
    # An empty list turns the trigger off while keeping its configuration (Airbyte's UI does).
    given = item.notification_type
    types: list[str] = [] if given is None else list(given)
    if given is None:
        types = [
            t
            for t, c in (
                ("slack", item.slack_configuration),
                ("webhook", item.webhook_configuration),
            )
            if c is not None
        ]
    found: list[tuple[str, str, str | None]] = []
    if "slack" in types and item.slack_configuration is not None:
        found.append(("slack", item.slack_configuration.webhook, None))
    if "webhook" in types and item.webhook_configuration is not None:
        hook = item.webhook_configuration
        found.append(("webhook", hook.url, hook.secret))
    return found


def links(base_url: str, workspace_id: str, event: NotificationEvent) -> dict[str, str]:
    """Where a person looks next (the paths of Airbyte's web app)."""
    if not base_url or event.connection_id is None:
        return {}
    connection = (
        f"{base_url.rstrip('/')}/workspaces/{workspace_id}/connections/{event.connection_id}"
    )
    found = {"connection": connection}
    if event.job_id is not None:
        found["job"] = f"{connection}/job-history#{event.job_id}"
    return found


def webhook_payload(
    event: NotificationEvent,
    workspace: dict[str, str],
    connection: dict[str, str] | None,
    urls: dict[str, str],
    now: int,
) -> dict[str, Any]:
    """The generic webhook's payload (documented in the README's Notifications section)."""
    job = None
    if event.job_id is not None:
        job = {
            "id": event.job_id,
            "status": event.status,
            "records": event.records,
            "bytes": event.bytes,
            "durationSeconds": event.duration_seconds,
            "failureReason": event.failure_reason,
        }
    return {
        "event": event.trigger,
        "message": event.message,
        "createdAt": now,
        "workspace": workspace,
        "connection": connection,
        "job": job,
        "details": event.details,
        "links": urls,
    }


def slack_body(event: NotificationEvent, urls: dict[str, str]) -> dict[str, Any]:
    """Slack's message: the summary as text (what notifications show) and as blocks."""
    lines = [event.message]
    if event.failure_reason:
        lines.append(f"> {event.failure_reason}")
    if event.records is not None:
        lines.append(f"{event.records} records, {event.bytes or 0} bytes")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}
    ]
    if urls:
        shown = " | ".join(f"<{url}|{name.capitalize()}>" for name, url in urls.items())
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": shown}]})
    return {"text": event.message, "blocks": blocks}


def queue_deliveries(
    db: Database, workspace_id: str, event: NotificationEvent, now: int, base_url: str = ""
) -> int:
    """One outbox row per receiver the workspace names for the event's trigger."""
    try:
        workspace = get_workspace(db, workspace_id)
    except NotFound:
        return 0
    receivers = [k for item in items_for(workspace, event.trigger) for k in kinds(item)]
    if not receivers:
        return 0
    connection = None
    if event.connection_id is not None:
        try:
            found = get_connection(db, event.connection_id)
            connection = {"id": str(found.connection_id), "name": found.name}
        except NotFound:
            connection = {"id": event.connection_id, "name": ""}
    urls = links(base_url, workspace_id, event)
    about = {"id": workspace_id, "name": workspace.name}
    for kind, url, secret in receivers:
        broken = False
        if kind == "slack":
            body = msgspec.json.encode(slack_body(event, urls))
            signature = None
        else:
            body = msgspec.json.encode(webhook_payload(event, about, connection, urls, now))
            try:
                clear = open_secret(db, secret)
            except SecretKeyError:  # sealed with a key rotated away since: set it again
                clear, broken = None, True
            signature = None if clear is None else sign(clear, body)
        delivery_id = outbox.insert_delivery(
            db,
            workspace_id=workspace_id,
            connection_id=event.connection_id,
            job_id=event.job_id,
            event=event.trigger,
            kind=kind,
            url=url,
            body=body.decode(),
            signature=signature,
            now=now,
        )
        if broken:  # never sent unsigned: recorded as failed, with what to do
            outbox.record_answer(
                db,
                delivery_id,
                status=outbox.FAILED,
                now=now,
                next_attempt_at=None,
                answer_status=None,
                answer_excerpt=None,
                error="the webhook's secret does not open with the secret key; set it again",
            )
    return len(receivers)
