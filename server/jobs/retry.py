"""The retry policy: when a failed attempt's job is tried again, and after how long.

These rules run inside the caller's write transaction, over the store's job functions: the
store records facts, this module decides what they mean for the job.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from server.jobs.attempts import (
    AttemptStats,
    AttemptStatus,
    FailureReason,
    FailureSummary,
    JobStatus,
)
from server.store import jobs as store
from server.store.jobs import Attempt

MAX_BACKOFF_SECONDS = 3600


def retry_delay(attempts: Sequence[store.Attempt], base_seconds: float) -> int:
    """Seconds to wait before the next attempt, after the last one failed.

    As Airbyte does: the wait triples with each failed attempt in a row that committed
    nothing (10 s, 30 s, 90 s ... from a 10 s base, at most an hour), and an attempt that
    committed some data resets it, so a long sync that keeps progressing retries at once.
    """
    streak = 0
    for attempt in reversed(attempts):
        if attempt.status != "failed" or attempt.stats.records_committed > 0:
            break
        streak += 1
    if streak == 0:
        return 0
    return int(min(base_seconds * 3 ** (streak - 1), MAX_BACKOFF_SECONDS))


def end_attempt(
    db: Database,
    job_id: int,
    attempt_number: int,
    *,
    succeeded: bool,
    cancelled: bool,
    stats: AttemptStats,
    failures: list[FailureReason],
    now: int,
    max_attempts: int,
    backoff_seconds: float,
    retry: bool = True,
) -> JobStatus | None:
    """Record how an attempt ended and move its job on; return the job's new status.

    succeeded -> job succeeded; cancelled -> job cancelled; failed -> job `incomplete` with
    the next attempt due after the backoff, or `failed` when attempts are used up (or `retry`
    is False: a failure that a retry cannot fix). None if the job no longer exists.
    """
    summary = None
    if not succeeded:
        summary = FailureSummary(failures=failures, partial_success=stats.records_committed > 0)
    status: AttemptStatus = "succeeded" if succeeded else "failed"
    if not store.record_attempt_end(db, job_id, attempt_number, status, stats, summary, now):
        return None
    next_at = now
    job_status: JobStatus
    if succeeded:
        job_status = "succeeded"
    elif cancelled:
        job_status = "cancelled"
    elif retry and attempt_number + 1 < max_attempts:
        job_status = "incomplete"
        attempts = store.list_attempts(db, [job_id])[job_id]
        next_at = now + retry_delay(attempts, backoff_seconds)
    else:
        job_status = "failed"
    store.set_job_status(db, job_id, job_status, now, next_at)
    return job_status


def fail_attempts(
    db: Database,
    attempts: list[Attempt],
    reason: FailureReason,
    now: int,
    max_attempts: int,
    backoff_seconds: float,
) -> list[tuple[int, int, JobStatus]]:
    """Fail each of `attempts` with `reason` and retry (or fail) its job; return (job id,
    attempt number, new job status) of each whose job it ended or moved on."""
    ended: list[tuple[int, int, JobStatus]] = []
    for attempt in attempts:
        status = end_attempt(
            db,
            attempt.job_id,
            attempt.attempt_number,
            succeeded=False,
            cancelled=False,
            stats=attempt.stats,
            failures=[reason],
            now=now,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
        )
        if status is not None:
            ended.append((attempt.job_id, attempt.attempt_number, status))
    return ended
