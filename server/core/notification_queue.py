"""Turning an event into outbox rows: which receivers, and what each is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlite_utils import Database

if TYPE_CHECKING:
    from server.core.notifications import NotificationEvent


def queue_deliveries(db: Database, workspace_id: str, event: NotificationEvent, now: int) -> int:
    """One outbox row per receiver the workspace names for the event's trigger."""
    return 0
