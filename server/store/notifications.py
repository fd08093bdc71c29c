"""The notifications outbox in SQLite: deliveries queued with their event, sent by the delivery
loop, and kept as the record of what was sent and what the receiver answered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from server.store.pg import is_postgres

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# A receiver's answer is kept this long (characters): enough to say why, never a whole page.
EXCERPT_CHARS = 500

_COLUMNS = (
    "id, workspace_id, connection_id, job_id, event, kind, url, body, signature, status, "
    "attempts, next_attempt_at, created_at, sent_at, answer_status, answer_excerpt, last_error"
)


@dataclass(frozen=True)
class Delivery:
    """One outbox row."""

    id: int
    workspace_id: str
    connection_id: str | None
    job_id: int | None
    event: str
    kind: str  # slack | webhook
    url: str
    body: str
    signature: str | None
    status: str
    attempts: int
    next_attempt_at: int
    created_at: int
    sent_at: int | None
    answer_status: int | None
    answer_excerpt: str | None
    last_error: str | None


def _delivery(row: Sequence[object]) -> Delivery:
    return Delivery(*row)  # type: ignore[arg-type]  # the columns are _COLUMNS, in order


def insert_delivery(
    db: Database,
    *,
    workspace_id: str,
    connection_id: str | None,
    job_id: int | None,
    event: str,
    kind: str,
    url: str,
    body: str,
    signature: str | None,
    now: int,
) -> int:
    """Queue one delivery (due now) in the caller's transaction; returns its id."""
    cursor = db.execute(
        "INSERT INTO notifications (workspace_id, connection_id, job_id, event, kind, url, "
        "body, signature, status, attempts, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id",
        [workspace_id, connection_id, job_id, event, kind, url, body, signature, PENDING, now, now],
    )
    return int(cursor.fetchone()[0])


def due_deliveries(db: Database, now: int, limit: int) -> list[Delivery]:
    """Pending deliveries due by `now`, oldest first (on PostgreSQL locked, skipping rows
    another transaction holds: call it in a write)."""
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres(db) else ""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM notifications WHERE status = ? AND next_attempt_at <= ? "
        f"ORDER BY next_attempt_at, id LIMIT ?{lock}",
        [PENDING, now, limit],
    ).fetchall()
    return [_delivery(r) for r in rows]


def claim_deliveries(db: Database, now: int, limit: int, hold_seconds: int) -> list[Delivery]:
    """`due_deliveries`, claimed: each is put off by `hold_seconds` in the same transaction, so
    another process's delivery loop (several servers on one PostgreSQL) skips it while this one
    sends it; its answer sets the real next attempt. A process that dies mid-send leaves the row
    to be tried again once the hold is over."""
    claimed = due_deliveries(db, now, limit)
    for delivery in claimed:
        db.execute(
            "UPDATE notifications SET next_attempt_at = ? WHERE id = ?",
            [now + hold_seconds, delivery.id],
        )
    return claimed


def next_due(db: Database) -> int | None:
    row = db.execute(
        "SELECT min(next_attempt_at) FROM notifications WHERE status = ?", [PENDING]
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def record_answer(
    db: Database,
    delivery_id: int,
    *,
    status: str,
    now: int,
    next_attempt_at: int | None,
    answer_status: int | None,
    answer_excerpt: str | None,
    error: str | None,
) -> None:
    """Record one delivery attempt: succeeded, failed for good, or pending a retry."""
    excerpt = None if answer_excerpt is None else answer_excerpt[:EXCERPT_CHARS]
    db.execute(
        "UPDATE notifications SET status = ?, attempts = attempts + 1, "
        "next_attempt_at = coalesce(?, next_attempt_at), "
        "sent_at = CASE WHEN ? = 'succeeded' THEN ? ELSE sent_at END, "
        "answer_status = ?, answer_excerpt = ?, last_error = ? WHERE id = ?",
        [status, next_attempt_at, status, now, answer_status, excerpt, error, delivery_id],
    )


def get_delivery(db: Database, delivery_id: int) -> Delivery | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM notifications WHERE id = ?", [delivery_id]).fetchone()
    return None if row is None else _delivery(row)


def list_deliveries(
    db: Database,
    *,
    workspace_id: str | None,
    connection_id: str | None,
    limit: int,
    offset: int,
) -> list[Delivery]:
    """Deliveries of a workspace and/or a connection (None: any), newest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM notifications "
        "WHERE (CAST(? AS TEXT) IS NULL OR workspace_id = ?) "
        "AND (CAST(? AS TEXT) IS NULL OR connection_id = ?) "
        "ORDER BY id DESC LIMIT ? OFFSET ?",
        [workspace_id, workspace_id, connection_id, connection_id, limit, offset],
    ).fetchall()
    return [_delivery(r) for r in rows]


def failed_job_streak(db: Database, connection_id: str) -> list[int]:
    """The end times of the connection's sync and reset jobs that failed since its last one
    that succeeded, newest first (cancelled jobs neither count nor break the streak)."""
    rows = db.execute(
        "SELECT status, updated_at FROM jobs WHERE config_id = ? "
        "AND status IN ('succeeded', 'failed') ORDER BY id DESC",
        [connection_id],
    )
    streak = []
    for status, updated_at in rows:  # read lazily: the streak ends at the first success
        if status != "failed":
            break
        streak.append(int(updated_at))
    return streak
