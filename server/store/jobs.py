"""Sync jobs and their attempts in SQLite.

A job belongs to a connection (`config_id`) and lives through `pending -> running ->
(incomplete -> running)* -> succeeded | failed | cancelled`. Each run of it is an attempt
(`running -> succeeded | failed`). The first attempt is created together with the job, so a
client polling `jobs/get` sees an attempt from the first reply on. Every status change below is
made inside the caller's one write transaction (`Store.write`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlite_utils import Database

from server.core.errors import NotFound
from server.jobs.attempts import (
    ACTIVE,
    RESET_TYPES,
    SYNC,
    TERMINAL,
    AttemptStats,
    AttemptStatus,
    FailureSummary,
    JobStatus,
    JobType,
)
from server.store.job_rows import (
    ATTEMPT_COLUMNS,
    JOB_COLUMNS,
    Attempt,
    Claim,
    Job,
    attempt_from_row,
    job_from_row,
    load_json,
)
from server.store.pg import is_postgres

# Re-exported: callers read jobs and attempts from here (their row decoding is job_rows.py).
__all__ = [
    "ACTIVE",
    "ATTEMPT_COLUMNS",
    "JOB_COLUMNS",
    "RESET_TYPES",
    "SYNC",
    "TERMINAL",
    "Attempt",
    "Claim",
    "Job",
    "attempt_from_row",
    "job_from_row",
]

_encode = msgspec.json.encode


def _json(value: Any) -> str:
    return _encode(value).decode()


def log_path_for(job_id: int, attempt_number: int) -> str:
    """Where an attempt's full log lives, relative to the data directory."""
    return f"jobs/{job_id}/attempt-{attempt_number}.log"


# --- creating -------------------------------------------------------------------------------


def connection_facts(db: Database, connection_id: str) -> tuple[str, dict[str, Any]]:
    """A connection's status and its stored document (404 if there is none)."""
    row = db.execute(
        "SELECT status, data FROM connections WHERE id = ?", [connection_id]
    ).fetchone()
    if row is None:
        raise NotFound(f"Could not find connection with id: {connection_id}", id=connection_id)
    return row[0], msgspec.json.decode(row[1])


def active_job(db: Database, connection_id: str) -> Job | None:
    """The connection's pending, running or incomplete job, if it has one."""
    row = db.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE config_id = ? AND status IN "
        "('pending', 'running', 'incomplete') ORDER BY id DESC LIMIT 1",
        [connection_id],
    ).fetchone()
    return None if row is None else job_from_row(row)


def insert_job(
    db: Database,
    connection_id: str,
    now: int,
    config_type: JobType,
    streams: list[dict[str, Any]] | None,
    enabled_streams: list[dict[str, Any]],
) -> int:
    """Queue a job with its first attempt; return the job id. The rules of who may queue one
    are `server.core.jobs`'; a unique index keeps one active job per connection."""
    cursor = db.execute(
        "INSERT INTO jobs (config_type, config_id, status, created_at, updated_at, "
        "next_attempt_at, streams, enabled_streams) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?) "
        "RETURNING id",
        [
            config_type,
            connection_id,
            now,
            now,
            now,
            None if streams is None else _json(streams),
            _json(enabled_streams),
        ],
    )
    job_id = int(cursor.fetchone()[0])
    _insert_attempt(db, job_id, 0, now)
    return job_id


def _insert_attempt(db: Database, job_id: int, attempt_number: int, now: int) -> str:
    path = log_path_for(job_id, attempt_number)
    db.execute(
        "INSERT INTO attempts (job_id, attempt_number, status, created_at, updated_at, log_path) "
        "VALUES (?, ?, 'running', ?, ?, ?)",
        [job_id, attempt_number, now, now, path],
    )
    return path


# --- reading --------------------------------------------------------------------------------


def lock_job(db: Database, job_id: int) -> None:
    """Hold the job's row to the end of the transaction (PostgreSQL; SQLite writes one
    transaction at a time): what is read of it next stays true until the commit."""
    if is_postgres(db):
        db.execute("SELECT 1 FROM jobs WHERE id = ? FOR UPDATE", [job_id])


def get_job(db: Database, job_id: int) -> Job:
    row = db.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", [job_id]).fetchone()
    if row is None:
        raise NotFound(f"Could not find job with id: {job_id}", id=str(job_id))
    return job_from_row(row)


def list_attempts(db: Database, job_ids: Sequence[int]) -> dict[int, list[Attempt]]:
    """Attempts of each job, in attempt order."""
    found: dict[int, list[Attempt]] = {job_id: [] for job_id in job_ids}
    if not job_ids:
        return found
    marks = ", ".join("?" for _ in job_ids)
    rows = db.execute(
        f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE job_id IN ({marks}) "
        "ORDER BY job_id, attempt_number",
        list(job_ids),
    ).fetchall()
    for row in rows:
        attempt = attempt_from_row(row)
        found[attempt.job_id].append(attempt)
    return found


def existing_job_ids(db: Database, job_ids: Sequence[int]) -> set[int]:
    """Those of the ids that name a job."""
    found: set[int] = set()
    for start in range(0, len(job_ids), 500):
        chunk = list(job_ids[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(f"SELECT id FROM jobs WHERE id IN ({marks})", chunk).fetchall()
        found.update(int(row[0]) for row in rows)
    return found


def last_job_for_connection(
    db: Database, connection_id: str, config_types: Sequence[str] = (SYNC,)
) -> Job | None:
    """The connection's newest job of these types (the scheduler and web_backend use it)."""
    marks = ", ".join("?" for _ in config_types)
    row = db.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE config_id = ? AND config_type IN ({marks}) "
        "ORDER BY id DESC LIMIT 1",
        [connection_id, *config_types],
    ).fetchone()
    return None if row is None else job_from_row(row)


# --- the worker's transitions ----------------------------------------------------------------


def next_due(db: Database) -> int | None:
    """When the earliest waiting job may start (epoch seconds), or None if none waits."""
    row = db.execute(
        "SELECT MIN(next_attempt_at) FROM jobs WHERE status IN ('pending', 'incomplete')"
    ).fetchone()
    return None if row[0] is None else int(row[0])


def claim_job(db: Database, now: int) -> Claim | None:
    """Move the oldest due job to `running` and give the attempt to run.

    The attempt created with the job is reused for its first run; a retry gets a new one.
    """
    # PostgreSQL, several workers: a job another worker is claiming now is skipped, not waited
    # for (and a job it claimed meanwhile no longer matches when its row is read).
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres(db) else ""
    row = db.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE status IN ('pending', 'incomplete') "
        "AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1" + lock,
        [now],
    ).fetchone()
    if row is None:
        return None
    job = job_from_row(row)
    db.execute(
        "UPDATE jobs SET status = 'running', updated_at = ?, cancel_requested = 0, "
        "started_at = COALESCE(started_at, ?) WHERE id = ?",
        [now, now, job.id],
    )
    job.status, job.updated_at = "running", now
    job.started_at = job.started_at or now
    last = db.execute(
        "SELECT attempt_number, status, log_path FROM attempts WHERE job_id = ? "
        "ORDER BY attempt_number DESC LIMIT 1",
        [job.id],
    ).fetchone()
    if last is not None and last[1] == "running":
        db.execute(
            "UPDATE attempts SET created_at = ?, updated_at = ? WHERE job_id = ? "
            "AND attempt_number = ?",
            [now, now, job.id, last[0]],
        )
        return Claim(job, int(last[0]), last[2])
    number = 0 if last is None else int(last[0]) + 1
    return Claim(job, number, _insert_attempt(db, job.id, number, now))


def save_progress(
    db: Database, job_id: int, attempt_number: int, stats: AttemptStats, now: int
) -> bool:
    """Store an attempt's running totals; False if the attempt is no longer running (the job
    was cancelled or its connection deleted)."""
    cursor = db.execute(
        "UPDATE attempts SET records_emitted = ?, bytes_emitted = ?, records_committed = ?, "
        "bytes_committed = ?, state_messages_emitted = ?, estimated_records = ?, "
        "estimated_bytes = ?, stream_stats = ?, updated_at = ? "
        "WHERE job_id = ? AND attempt_number = ? AND status = 'running'",
        [
            stats.records_emitted,
            stats.bytes_emitted,
            stats.records_committed,
            stats.bytes_committed,
            stats.state_messages_emitted,
            stats.estimated_records,
            stats.estimated_bytes,
            _json(stats.stream_stats),
            now,
            job_id,
            attempt_number,
        ],
    )
    return cursor.rowcount > 0


def add_process(db: Database, job_id: int, attempt_number: int, process: dict[str, Any]) -> None:
    """Remember a connector process of a running attempt, to clean it up after a crash."""
    row = db.execute(
        "SELECT processes FROM attempts WHERE job_id = ? AND attempt_number = ?",
        [job_id, attempt_number],
    ).fetchone()
    if row is not None:
        processes = [*(load_json(row[0]) or []), process]
        db.execute(
            "UPDATE attempts SET processes = ? WHERE job_id = ? AND attempt_number = ?",
            [_json(processes), job_id, attempt_number],
        )


def record_attempt_end(
    db: Database,
    job_id: int,
    attempt_number: int,
    status: AttemptStatus,
    stats: AttemptStats,
    summary: FailureSummary | None,
    now: int,
) -> bool:
    """Store how an attempt ended; False if its job no longer exists."""
    # PostgreSQL: the job's row first, as a claim takes it (job, then attempt): no deadlock.
    lock = " FOR UPDATE" if is_postgres(db) else ""
    if db.execute("SELECT 1 FROM jobs WHERE id = ?" + lock, [job_id]).fetchone() is None:
        return False
    db.execute(
        "UPDATE attempts SET status = ?, ended_at = ?, updated_at = ?, records_emitted = ?, "
        "bytes_emitted = ?, records_committed = ?, bytes_committed = ?, "
        "state_messages_emitted = ?, estimated_records = ?, estimated_bytes = ?, "
        "stream_stats = ?, failure_summary = ? WHERE job_id = ? AND attempt_number = ?",
        [
            status,
            now,
            now,
            stats.records_emitted,
            stats.bytes_emitted,
            stats.records_committed,
            stats.bytes_committed,
            stats.state_messages_emitted,
            stats.estimated_records,
            stats.estimated_bytes,
            _json(stats.stream_stats),
            None if summary is None else _json(summary),
            job_id,
            attempt_number,
        ],
    )
    return True


def set_job_status(
    db: Database, job_id: int, status: JobStatus, now: int, next_attempt_at: int | None = None
) -> None:
    """Move a job to `status` (and, when given, set when its next attempt is due)."""
    db.execute(
        "UPDATE jobs SET status = ?, updated_at = ?, "
        "next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
        [status, now, next_attempt_at, job_id],
    )


def cancel_waiting_job(db: Database, job_id: int, summary: FailureSummary, now: int) -> None:
    """Cancel a job that runs no attempt now (pending or incomplete): its waiting attempt
    fails with `summary`. Which jobs may be cancelled is `server.core.jobs`' rule. (The job's
    row first, then its attempts', in the order a claim takes them.)"""
    set_job_status(db, job_id, "cancelled", now)
    db.execute(
        "UPDATE attempts SET status = 'failed', ended_at = ?, updated_at = ?, "
        "failure_summary = ? WHERE job_id = ? AND status = 'running'",
        [now, now, _json(summary), job_id],
    )
