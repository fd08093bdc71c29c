"""Crash recovery of jobs: attempts a killed server left `running` are failed at the next
start-up and their jobs retried (or failed when attempts are used up), in one transaction.
"""

from __future__ import annotations

from sqlite_utils import Database

from server.jobs.attempts import FailureReason, JobStatus
from server.jobs.retry import end_attempt
from server.store import jobs as store
from server.store import recovery


def fail_orphans(
    db: Database, failure: FailureReason, now: int, max_attempts: int, backoff_seconds: float
) -> list[tuple[int, JobStatus]]:
    """Fail every orphaned attempt and retry (or fail) its job; return (job id, new status).

    Afterwards no job is `running`: the worker of this process has not claimed any yet.
    """
    ended: list[tuple[int, JobStatus]] = []
    for attempt in recovery.orphaned_attempts(db):
        status = end_attempt(
            db,
            attempt.job_id,
            attempt.attempt_number,
            succeeded=False,
            cancelled=False,
            stats=attempt.stats,
            failures=[failure],
            now=now,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
        )
        if status is not None:
            ended.append((attempt.job_id, status))
    # A job left running without a running attempt cannot resume either: retry or fail it.
    for job_id, tried in recovery.running_jobs(db):
        status = "incomplete" if tried < max_attempts else "failed"
        store.set_job_status(db, job_id, status, now, now)
        ended.append((job_id, status))
    recovery.close_attempts_of_ended_jobs(db, now)
    return ended
