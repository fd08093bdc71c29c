"""Jobs as the public API shows them: each with its committed totals, listed by filter and
workspace, started and cancelled under the core's job rules (server.core.jobs).

Every function takes the store's `Database` and is one store call (`await ctx.store.read(...)`
or `.write(...)`): a page is one query whatever its size, and starting or cancelling a job
returns its new row from the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from server.core import jobs as rules
from server.jobs.attempts import JobType
from server.store import job_queries as store
from server.store.job_history import JobFilter
from server.store.job_queries import JobTotals

# What faces take and build, passed on so that they import the core only.
__all__ = ["JobFilter", "JobTotals", "cancel_job", "get_job", "list_jobs", "start_job"]


def get_job(db: Database, job_id: int) -> JobTotals:
    """The job with its totals (NotFound for an unknown id)."""
    return store.get_job_totals(db, job_id)


def list_jobs(
    db: Database, filter: JobFilter, workspace_ids: Sequence[str], limit: int, offset: int
) -> tuple[list[JobTotals], bool]:
    """A page of the jobs the filter selects in the given workspaces (any, when empty), and
    whether more follow it. One query: a row beyond the page says there are more."""
    found = store.list_job_totals(db, filter, workspace_ids, limit + 1, offset)
    return found[:limit], len(found) > limit


def start_job(db: Database, connection_id: str, now: int, config_type: JobType) -> JobTotals:
    """Queue a job of the connection (server.core.jobs.start_job's rules) and return it."""
    return store.get_job_totals(db, rules.start_job(db, connection_id, now, config_type))


def cancel_job(db: Database, job_id: int, now: int) -> JobTotals:
    """Cancel a waiting job at once (server.core.jobs.cancel_job's rules) and return it; a
    running one comes back still running, for the worker to stop."""
    rules.cancel_job(db, job_id, now)
    return store.get_job_totals(db, job_id)
