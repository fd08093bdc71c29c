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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

import msgspec
from sqlite_utils import Database

from server.core.notification_queue import queue_deliveries

if TYPE_CHECKING:
    from server.context import Context
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


def queue_event(db: Database, workspace_id: str, event: NotificationEvent, now: int) -> int:
    """Queue the event's deliveries in the caller's transaction; return how many were queued
    (0 when the workspace asks for none for this trigger, or is gone)."""
    return queue_deliveries(db, workspace_id, event, now)


async def notify(ctx: Context, workspace_id: str, event: NotificationEvent) -> None:
    """Queue the event from async code (one write transaction of its own)."""
    await ctx.store.write(queue_event, workspace_id, event, ctx.now())


def notify_sync(store: Store, workspace_id: str, event: NotificationEvent, now: int) -> int:
    """Queue the event from a worker thread (one write transaction of its own)."""
    return store.write_sync(queue_event, workspace_id, event, now)
