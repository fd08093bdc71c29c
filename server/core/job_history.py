"""Which jobs a face shows, for every face: one job with its attempts, a page of a filtered
listing (widened to include a given job), a connection's newest sync. Each runs in one store
read (`await ctx.store.read(list_jobs, ...)`).
"""

from __future__ import annotations

import math

from sqlite_utils import Database

from server.store import job_history as history
from server.store import jobs as store
from server.store.connections import get_connection
from server.store.job_history import JobFilter
from server.store.jobs import Attempt, Job

# The job types a face renders and the filter it builds from a request: the store's, passed on,
# so that faces import the core only.
__all__ = ["Attempt", "Job", "JobFilter", "job_with_attempts", "last_sync_job", "list_jobs"]


def job_with_attempts(db: Database, job_id: int) -> tuple[store.Job, list[store.Attempt]]:
    """The job (NotFound for an unknown id) and its attempts, oldest first."""
    job = store.get_job(db, job_id)
    return job, store.list_attempts(db, [job_id])[job_id]


def list_jobs(
    db: Database,
    filter: history.JobFilter,
    size: int,
    offset: int,
    including_job_id: int | None = None,
) -> tuple[list[store.Job], int, dict[int, list[store.Attempt]]]:
    """One page of the jobs the filter selects, the count of all of them, and their attempts.

    With `including_job_id` the page starts at the first job and is widened, in whole pages
    of `size`, until the job is on it; nothing is listed if the filter does not select it.
    """
    limit, start = size, offset
    if including_job_id is not None:
        place = history.position_of(db, filter, including_job_id)
        if place is None:
            return [], history.count_jobs(db, filter), {}
        limit, start = max(1, math.ceil((place + 1) / size)) * size, 0
    found = history.list_jobs(db, filter, limit, start)
    return found, history.count_jobs(db, filter), store.list_attempts(db, [j.id for j in found])


def last_sync_job(db: Database, connection_id: str) -> tuple[store.Job, list[store.Attempt]] | None:
    """The connection's newest sync job with its attempts (NotFound for an unknown
    connection; None if it never synced)."""
    get_connection(db, connection_id)
    job = store.last_job_for_connection(db, connection_id)
    return None if job is None else (job, store.list_attempts(db, [job.id])[job.id])
