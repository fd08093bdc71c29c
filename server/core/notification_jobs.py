"""What a job's end tells the workspace: success or failure, and, after too many failures in
a row, that the connection was disabled (Airbyte's auto-disable, with its warning at half),
which its `statusReason` then says.

Runs inside the transaction that records the job's end (`server.jobs.worker`), so the
notifications and the connection's new status are committed with it, or not at all.

Airbyte's rule (AutoDisableConnectionActivity): a connection is disabled when its last
`MAX_FAILED_JOBS_IN_A_ROW_BEFORE_CONNECTION_DISABLE` (100) jobs failed, or when it has only
failed for `MAX_DAYS_OF_ONLY_FAILED_JOBS_BEFORE_CONNECTION_DISABLE` (14) days; it is warned at
half of either. Sluice's settings: `max_consecutive_failures`, `max_failing_days` (0: off).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlite_utils import Database

from server.core.connections import stop
from server.core.errors import NotFound
from server.core.notifications import NotificationEvent, Trigger, base_url_of, queue_event
from server.jobs.attempts import AttemptStats
from server.settings import Settings
from server.store import notifications as outbox
from server.store.connections import get_connection, update_connection

DAY = 86400
log = logging.getLogger("sluice.notifications")


@dataclass(frozen=True)
class JobEnd:
    """A sync or reset job that ended for good (after its last attempt)."""

    job_id: int
    connection_id: str
    config_type: str
    status: str  # succeeded | failed
    started_at: int
    stats: AttemptStats | None
    failure_reason: str | None


def on_job_end(db: Database, end: JobEnd, settings: Settings, now: int) -> list[str]:
    """Queue the job's notifications and disable a connection that keeps failing; returns the
    lines for the job's log. A fault here never undoes the job's end: its writes are rolled
    back to a savepoint and the log says so."""
    db.execute("SAVEPOINT job_end_notifications")
    try:
        lines = _on_job_end(db, end, settings, now)
    except Exception as exc:
        log.exception("notifications for job %s failed", end.job_id)
        db.execute("ROLLBACK TO SAVEPOINT job_end_notifications")
        lines = [f"Notifications for job {end.job_id} could not be queued: {exc}"]
    db.execute("RELEASE SAVEPOINT job_end_notifications")
    return lines


def _on_job_end(db: Database, end: JobEnd, settings: Settings, now: int) -> list[str]:
    try:
        connection = get_connection(db, end.connection_id)
    except NotFound:
        return []
    workspace_id, name = str(connection.workspace_id), connection.name
    base = base_url_of(settings)
    lines: list[str] = []

    def send(trigger: Trigger, message: str) -> None:
        event = NotificationEvent(
            trigger=trigger,
            message=message,
            connection_id=end.connection_id,
            job_id=end.job_id,
            status=end.status,
            records=None if end.stats is None else end.stats.records_emitted,
            bytes=None if end.stats is None else end.stats.bytes_emitted,
            duration_seconds=max(0, now - end.started_at),
            failure_reason=end.failure_reason,
        )
        queued = queue_event(db, workspace_id, event, now, base)
        if queued:
            lines.append(f"Queued {queued} {trigger} notification(s) for job {end.job_id}")

    kind = "Sync" if end.config_type == "sync" else "Reset"
    if end.status == "succeeded":
        send("sendOnSuccess", f"{kind} of connection {name} succeeded (job {end.job_id})")
        return lines
    reason = f": {end.failure_reason}" if end.failure_reason else ""
    send("sendOnFailure", f"{kind} of connection {name} failed (job {end.job_id}){reason}")
    if connection.status != "active":
        return lines
    verdict = _verdict(outbox.failed_job_streak(db, end.connection_id), settings, now)
    if verdict is None:
        return lines
    disable, why = verdict
    if disable:
        update_connection(db, stop(connection, f"Disabled automatically: {why}"))
        lines.append(f"Connection {name} was disabled: {why}")
        send("sendOnSyncDisabled", f"Connection {name} was disabled: {why}")
    else:
        lines.append(f"Connection {name} will be disabled if it keeps failing: {why}")
        send(
            "sendOnSyncDisabledWarning",
            f"Connection {name} will be disabled if it keeps failing: {why}",
        )
    return lines


def _verdict(streak: list[int], settings: Settings, now: int) -> tuple[bool, str] | None:
    """(disable?, why) for a streak of failed jobs' end times (newest first), or None."""
    count, most = len(streak), settings.max_consecutive_failures
    if most > 0 and count >= most:
        return True, f"its last {count} jobs failed"
    days = settings.max_failing_days
    if days > 0 and count >= 2:
        failing = now - streak[-1]
        if failing >= days * DAY:
            return True, f"its jobs have only failed for {failing // DAY} days"
        # Warned once: when the streak first passes half the days.
        half, before = days * DAY / 2, streak[1] - streak[-1]
        if failing >= half > before:
            return False, f"its jobs have only failed for {failing // DAY} days"
    if most > 1 and count == most // 2:
        return False, f"its last {count} jobs failed (it is disabled after {most})"
    return None
