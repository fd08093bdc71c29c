"""Jobs with their committed totals, for the public API's job views: one query a page.

The public API shows a job's `rowsSynced` and `bytesSynced` (Airbyte's aggregated committed
counts) but none of its attempts, so the totals are summed in SQL next to the job's row rather
than read attempt by attempt. A listing may also be pinned to workspaces (through the jobs'
connections), which `server.store.job_history.JobFilter` does not know about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from server.core.errors import NotFound
from server.store.job_history import JobFilter
from server.store.job_rows import JOB_COLUMNS, Job, job_from_row


@dataclass
class JobTotals:
    job: Job
    records_committed: int  # summed over the job's attempts
    bytes_committed: int


# Correlated sums over the job's attempts (the attempts' (job_id, attempt_number) index).
_TOTALS = (
    "(SELECT COALESCE(SUM(a.records_committed), 0) FROM attempts a WHERE a.job_id = jobs.id), "
    "(SELECT COALESCE(SUM(a.bytes_committed), 0) FROM attempts a WHERE a.job_id = jobs.id)"
)
_WIDTH = len(JOB_COLUMNS.split(","))


def _totals(row: Sequence[Any]) -> JobTotals:
    return JobTotals(job_from_row(row), int(row[_WIDTH]), int(row[_WIDTH + 1]))


def get_job_totals(db: Database, job_id: int) -> JobTotals:
    """The job and its totals (NotFound for an unknown id)."""
    row = db.execute(f"SELECT {JOB_COLUMNS}, {_TOTALS} FROM jobs WHERE id = ?", [job_id]).fetchone()
    if row is None:
        raise NotFound(f"Could not find job with id: {job_id}", id=str(job_id))
    return _totals(row)


def list_job_totals(
    db: Database, filter: JobFilter, workspace_ids: Sequence[str], limit: int, offset: int
) -> list[JobTotals]:
    """A page of the jobs the filter selects (of connections in `workspace_ids`, when given),
    in the filter's order, with their totals."""
    where, args = filter.where()
    if workspace_ids:
        marks = ", ".join("?" for _ in workspace_ids)
        where += f" AND config_id IN (SELECT id FROM connections WHERE workspace_id IN ({marks}))"
        args = [*args, *workspace_ids]
    rows = db.execute(
        f"SELECT {JOB_COLUMNS}, {_TOTALS} FROM jobs WHERE {where} "
        f"ORDER BY {filter.order()} LIMIT ? OFFSET ?",
        [*args, limit, offset],
    ).fetchall()
    return [_totals(row) for row in rows]
