"""Crash recovery of jobs: attempts a killed server left `running` are failed at the next
start-up and their jobs retried (or failed when attempts are used up), in one transaction.
"""

from __future__ import annotations

from sqlite_utils import Database

from server.jobs.attempts import FailureReason, JobStatus
from server.jobs.retry import fail_attempts
from server.store import jobs as store
from server.store import recovery


def fail_orphans(
    db: Database, failure: FailureReason, now: int, max_attempts: int, backoff_seconds: float
) -> list[tuple[int, JobStatus]]:
    """Fail every orphaned attempt and retry (or fail) its job; return (job id, new status).

    Afterwards no job is `running`: the worker of this process has not claimed any yet.
    """
    orphans = recovery.orphaned_attempts(db)
    ended: list[tuple[int, JobStatus]] = [
        (job_id, status)
        for job_id, _, status in fail_attempts(
            db, orphans, failure, now, max_attempts, backoff_seconds
        )
    ]
    # A job left running without a running attempt cannot resume either: retry or fail it.
    for job_id, tried in recovery.running_jobs(db):
        again: JobStatus = "incomplete" if tried < max_attempts else "failed"
        store.set_job_status(db, job_id, again, now, now)
        ended.append((job_id, again))
    recovery.close_attempts_of_ended_jobs(db, now)
    return ended
