"""Crash recovery of jobs: attempts a killed server left `running` are failed at the next
start-up and their jobs retried (or failed when attempts are used up), in one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from server.store.jobs import ATTEMPT_COLUMNS, Attempt, Stats, attempt_from_row, end_attempt


def orphaned_attempts(db: Database) -> list[Attempt]:
    """Attempts a previous server process was running when it stopped.

    Only jobs in `running` run an attempt; the first attempt of a pending job is waiting, not
    orphaned.
    """
    rows = db.execute(
        f"SELECT {', '.join('a.' + c.strip() for c in ATTEMPT_COLUMNS.split(','))} "
        "FROM attempts a JOIN jobs j ON j.id = a.job_id "
        "WHERE a.status = 'running' AND j.status = 'running'"
    ).fetchall()
    return [attempt_from_row(row) for row in rows]


def fail_orphans(
    db: Database, failure: dict[str, Any], now: int, max_attempts: int, backoff_seconds: float
) -> list[tuple[int, str]]:
    """Fail every orphaned attempt and retry (or fail) its job; return (job id, new status).

    Afterwards no job is `running`: the worker of this process has not claimed any yet.
    """
    ended: list[tuple[int, str]] = []
    for attempt in orphaned_attempts(db):
        stats = Stats(
            records_emitted=attempt.records_emitted,
            bytes_emitted=attempt.bytes_emitted,
            records_committed=attempt.records_committed,
            bytes_committed=attempt.bytes_committed,
            state_messages_emitted=attempt.state_messages_emitted,
            estimated_records=attempt.estimated_records,
            estimated_bytes=attempt.estimated_bytes,
            stream_stats=attempt.stream_stats,
        )
        status = end_attempt(
            db,
            attempt.job_id,
            attempt.attempt_number,
            succeeded=False,
            cancelled=False,
            stats=stats,
            failures=[failure],
            now=now,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
        )
        if status is not None:
            ended.append((attempt.job_id, status))
    # A job left running without a running attempt cannot resume either: retry or fail it.
    leftovers = db.execute(
        "SELECT j.id, COUNT(a.attempt_number) FROM jobs j LEFT JOIN attempts a "
        "ON a.job_id = j.id WHERE j.status = 'running' GROUP BY j.id"
    ).fetchall()
    for job_id, tried in leftovers:
        status = "incomplete" if tried < max_attempts else "failed"
        db.execute(
            "UPDATE jobs SET status = ?, updated_at = ?, next_attempt_at = ? WHERE id = ?",
            [status, now, now, job_id],
        )
        ended.append((job_id, status))
    # An ended job keeps no running attempt (nothing should leave one; be sure).
    db.execute(
        "UPDATE attempts SET status = 'failed', ended_at = ?, updated_at = ? WHERE status = "
        "'running' AND job_id IN (SELECT id FROM jobs WHERE status IN "
        "('failed', 'succeeded', 'cancelled'))",
        [now, now],
    )
    return ended
