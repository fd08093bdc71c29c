"""Notifications: what the server tells a workspace's receivers when something happens.

An event (a job ended, a connection was disabled, its source's schema changed) is queued, not
sent: `queue_event` writes one outbox row per receiver the workspace's `notificationSettings`
names for the event's trigger, in the caller's transaction, so an event is recorded exactly
when the change that caused it is, and a crash before delivery loses nothing. The server's
delivery loop (`server.notify`) sends the rows later, with retries; nothing here waits on
the network, so a sync is never held up by a slow receiver.

Three ways in, all the same underneath:
- `queue_event(db, workspace_id, event, now)`: inside a store function (a transaction that
  also records what happened, such as a job's end);
- `notify(ctx, workspace_id, event)`: from async code (a request handler);
- `notify_sync(store, workspace_id, event, now)`: from a worker thread (the relay).

Each queued delivery is for the delivery loop to send; the job's log says it was queued.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Literal, get_args

import httpx
import msgspec
from sqlite_utils import Database

from server.core.errors import InvalidInput
from server.core.notification_queue import queue_deliveries
from server.models.notifications import NotificationDeliveryRead, NotificationRead
from server.notify.send import deliver, shown_target
from server.store import notifications as outbox

if TYPE_CHECKING:
    from server.context import Context
    from server.settings import Settings
    from server.store.db import Store

# Airbyte's notification triggers, spelled as the keys of its `NotificationSettings`.
Trigger = Literal[
    "sendOnSuccess",
    "sendOnFailure",
    "sendOnSyncDisabled",
    "sendOnSyncDisabledWarning",
    "sendOnConnectionUpdate",
    "sendOnConnectionUpdateActionRequired",
    "sendOnBreakingChangeWarning",
    "sendOnBreakingChangeSyncsDisabled",
]
TRIGGERS: tuple[Trigger, ...] = get_args(Trigger)


class NotificationEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Something a workspace may want to hear about. `message` is the one line a person
    reads (Slack's text); the other fields fill the generic webhook's payload. `details`
    carries what is particular to a trigger (for schema changes, the `catalogDiff` in
    Airbyte's shape), sent as is."""

    trigger: Trigger
    message: str
    connection_id: str | None = None
    job_id: int | None = None
    # The job's status at its end: succeeded, failed, cancelled.
    status: str | None = None
    records: int | None = None
    bytes: int | None = None
    duration_seconds: int | None = None
    failure_reason: str | None = None
    details: dict[str, Any] | None = None


def queue_event(
    db: Database, workspace_id: str, event: NotificationEvent, now: int, base_url: str = ""
) -> int:
    """Queue the event's deliveries in the caller's transaction; return how many were queued
    (0 when the workspace asks for none for this trigger, or is gone). `base_url` (see
    `base_url_of`) makes the payload's links; without it they are left out."""
    return queue_deliveries(db, workspace_id, event, now, base_url)


def base_url_of(settings: Settings) -> str:
    """Sluice's address for links: `public_url`, else the address it listens on."""
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"


async def notify(ctx: Context, workspace_id: str, event: NotificationEvent) -> None:
    """Queue the event from async code (one write transaction of its own)."""
    base = base_url_of(ctx.settings)
    await ctx.store.write(queue_event, workspace_id, event, ctx.now(), base)


def notify_sync(
    store: Store, workspace_id: str, event: NotificationEvent, now: int, base_url: str = ""
) -> int:
    """Queue the event from a worker thread (one write transaction of its own)."""
    return store.write_sync(queue_event, workspace_id, event, now, base_url)


# --- what the API shows and tries ---------------------------------------------------------


def _read(row: outbox.Delivery) -> NotificationDeliveryRead:
    return NotificationDeliveryRead(
        notification_id=row.id,
        workspace_id=uuid.UUID(row.workspace_id),
        connection_id=None if row.connection_id is None else uuid.UUID(row.connection_id),
        job_id=row.job_id,
        event=row.event,
        notification_type=row.kind,
        target=shown_target(row.url),
        status=row.status,  # type: ignore[arg-type]  # the store writes only the three
        attempts=row.attempts,
        created_at=row.created_at,
        payload=row.body,
        next_attempt_at=row.next_attempt_at if row.status == outbox.PENDING else None,
        sent_at=row.sent_at,
        answer_status_code=row.answer_status,
        answer_excerpt=row.answer_excerpt,
        last_error=row.last_error,
    )


async def list_deliveries(
    ctx: Context,
    workspace_id: uuid.UUID | None,
    connection_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> list[NotificationDeliveryRead]:
    """A workspace's or a connection's deliveries, newest first."""
    if workspace_id is None and connection_id is None:
        raise InvalidInput(
            "Name a workspaceId or a connectionId", property_path="workspaceId", invalid_value=None
        )
    rows = await ctx.store.read(
        outbox.list_deliveries,
        workspace_id=None if workspace_id is None else str(workspace_id),
        connection_id=None if connection_id is None else str(connection_id),
        limit=limit,
        offset=offset,
    )
    return [_read(r) for r in rows]


def test_message(trigger: str) -> str:
    return f"Hello from Sluice: this is a test of the {trigger} notification."


async def try_slack(ctx: Context, webhook: str, trigger: str) -> NotificationRead:
    """Send a test message to a Slack webhook now (not through the outbox) and say how the
    receiver answered; a receiver's failure is a `failed` reply, not an HTTP error."""
    text = test_message(trigger)
    body = msgspec.json.encode(
        {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
    )
    settings = ctx.settings
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        answer = await deliver(
            client,
            webhook,
            body,
            None,
            settings.notification_timeout_seconds,
            settings.notification_allowed_hosts,
        )
    if answer.ok:
        return NotificationRead(status="succeeded", message=f"Sent to {shown_target(webhook)}")
    why = answer.error or f"the receiver answered {answer.status_code}: {answer.excerpt or ''}"
    return NotificationRead(status="failed", message=why.strip())
