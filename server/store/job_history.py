"""Reading jobs for the API's lists and views: filters, ordering, pages, summaries.

The rows and their dataclasses are `server.store.jobs`'; this module only queries them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from server.store.jobs import JOB_COLUMNS, Job, job_from_row


@dataclass
class JobFilter:
    config_types: list[str] | None = None
    config_id: str | None = None
    statuses: list[str] | None = None
    created_after: int | None = None  # epoch seconds, inclusive
    created_before: int | None = None
    updated_after: int | None = None
    updated_before: int | None = None
    order_by: str = "created_at"  # or updated_at
    descending: bool = True

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        for column, values in (("config_type", self.config_types), ("status", self.statuses)):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                args += values
        for clause, value in (
            ("config_id = ?", self.config_id),
            ("created_at >= ?", self.created_after),
            ("created_at <= ?", self.created_before),
            ("updated_at >= ?", self.updated_after),
            ("updated_at <= ?", self.updated_before),
        ):
            if value is not None:
                clauses.append(clause)
                args.append(value)
        return " AND ".join(clauses) or "1 = 1", args

    def order(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        # The id breaks ties between jobs created in the same second: newest first.
        return f"{self.order_by} {direction}, id {direction}"


def count_jobs(db: Database, filter: JobFilter) -> int:
    where, args = filter.where()
    return int(db.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", args).fetchone()[0])


def list_jobs(db: Database, filter: JobFilter, limit: int, offset: int = 0) -> list[Job]:
    where, args = filter.where()
    rows = db.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE {where} ORDER BY {filter.order()} LIMIT ? OFFSET ?",
        [*args, limit, offset],
    ).fetchall()
    return [job_from_row(row) for row in rows]


def position_of(db: Database, filter: JobFilter, job_id: int) -> int | None:
    """The 0-based place of a job in the filtered, ordered list, or None if it is not in it."""
    where, args = filter.where()
    ids = db.execute(f"SELECT id FROM jobs WHERE {where} ORDER BY {filter.order()}", args)
    for index, (found,) in enumerate(ids):
        if found == job_id:
            return index
    return None


@dataclass
class SyncSummary:
    latest: Job | None  # the connection's newest sync job
    running: bool  # a job of the connection is running or about to retry
    last_success_at: int | None  # when its last successful sync ended


def sync_summaries(db: Database, connection_ids: Sequence[str]) -> dict[str, SyncSummary]:
    """For each connection that has jobs: its newest sync job and whether one runs now."""
    if not connection_ids:
        return {}
    marks = ", ".join("?" for _ in connection_ids)
    ids = list(connection_ids)
    latest = {
        job.config_id: job
        for job in map(
            job_from_row,
            db.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE id IN (SELECT MAX(id) FROM jobs "
                f"WHERE config_type = 'sync' AND config_id IN ({marks}) GROUP BY config_id)",
                ids,
            ).fetchall(),
        )
    }
    running = {
        row[0]
        for row in db.execute(
            f"SELECT config_id FROM jobs WHERE status IN ('running', 'incomplete') "
            f"AND config_id IN ({marks})",
            ids,
        ).fetchall()
    }
    succeeded = dict(
        db.execute(
            f"SELECT config_id, MAX(updated_at) FROM jobs WHERE status = 'succeeded' "
            f"AND config_type = 'sync' AND config_id IN ({marks}) GROUP BY config_id",
            ids,
        ).fetchall()
    )
    return {
        cid: SyncSummary(latest.get(cid), cid in running, succeeded.get(cid))
        for cid in ids
        if cid in latest or cid in running
    }
