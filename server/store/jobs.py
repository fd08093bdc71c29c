"""Sync jobs and their attempts in SQLite.

A job belongs to a connection (`config_id`) and lives through `pending -> running ->
(incomplete -> running)* -> succeeded | failed | cancelled`. Each run of it is an attempt
(`running -> succeeded | failed`). The first attempt is created together with the job, so a
client polling `jobs/get` sees an attempt from the first reply on. Every status change below is
made inside the caller's one write transaction (`Store.write`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlite_utils import Database

from server.errors import Conflict, InvalidInput, NotFound

ACTIVE = ("pending", "running", "incomplete")
TERMINAL = ("failed", "succeeded", "cancelled")
SYNC = "sync"
RESET_TYPES = ("reset_connection", "clear")

_encode = msgspec.json.encode


def _json(value: Any) -> str:
    return _encode(value).decode()


def _load(text: str | None) -> Any:
    return None if text is None else msgspec.json.decode(text)


@dataclass
class Job:
    id: int
    config_type: str
    config_id: str
    status: str
    created_at: int
    updated_at: int
    started_at: int | None
    next_attempt_at: int
    streams: list[dict[str, Any]] | None  # streams a reset clears (None: every stream)
    enabled_streams: list[dict[str, Any]] | None


@dataclass
class Attempt:
    job_id: int
    attempt_number: int
    status: str
    created_at: int
    updated_at: int
    ended_at: int | None
    records_emitted: int
    bytes_emitted: int
    records_committed: int
    bytes_committed: int
    state_messages_emitted: int
    estimated_records: int | None
    estimated_bytes: int | None
    stream_stats: list[dict[str, Any]]
    failure_summary: dict[str, Any] | None
    log_path: str  # relative to the data directory
    processes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Claim:
    """A job the worker has just moved to `running`, and the attempt it is to run."""

    job: Job
    attempt_number: int
    log_path: str


@dataclass
class Stats:
    """An attempt's counters, as the relay reports them."""

    records_emitted: int = 0
    bytes_emitted: int = 0
    records_committed: int = 0
    bytes_committed: int = 0
    state_messages_emitted: int = 0
    estimated_records: int | None = None
    estimated_bytes: int | None = None
    stream_stats: list[dict[str, Any]] = field(default_factory=list)


JOB_COLUMNS = (
    "id, config_type, config_id, status, created_at, updated_at, started_at, next_attempt_at, "
    "streams, enabled_streams"
)
ATTEMPT_COLUMNS = (
    "job_id, attempt_number, status, created_at, updated_at, ended_at, records_emitted, "
    "bytes_emitted, records_committed, bytes_committed, state_messages_emitted, "
    "estimated_records, estimated_bytes, stream_stats, failure_summary, log_path, processes"
)


def job_from_row(row: Sequence[Any]) -> Job:
    return Job(
        id=row[0],
        config_type=row[1],
        config_id=row[2],
        status=row[3],
        created_at=row[4],
        updated_at=row[5],
        started_at=row[6],
        next_attempt_at=row[7],
        streams=_load(row[8]),
        enabled_streams=_load(row[9]),
    )


def attempt_from_row(row: Sequence[Any]) -> Attempt:
    return Attempt(
        job_id=row[0],
        attempt_number=row[1],
        status=row[2],
        created_at=row[3],
        updated_at=row[4],
        ended_at=row[5],
        records_emitted=row[6],
        bytes_emitted=row[7],
        records_committed=row[8],
        bytes_committed=row[9],
        state_messages_emitted=row[10],
        estimated_records=row[11],
        estimated_bytes=row[12],
        stream_stats=_load(row[13]) or [],
        failure_summary=_load(row[14]),
        log_path=row[15],
        processes=_load(row[16]) or [],
    )


def log_path_for(job_id: int, attempt_number: int) -> str:
    """Where an attempt's full log lives, relative to the data directory."""
    return f"jobs/{job_id}/attempt-{attempt_number}.log"


# --- creating -------------------------------------------------------------------------------


def _connection(db: Database, connection_id: str) -> tuple[str, dict[str, Any]]:
    row = db.execute(
        "SELECT status, data FROM connections WHERE id = ?", [connection_id]
    ).fetchone()
    if row is None:
        raise NotFound(f"Could not find connection with id: {connection_id}", id=connection_id)
    return row[0], msgspec.json.decode(row[1])


def _catalog(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return list((connection.get("syncCatalog") or {}).get("streams") or [])


def _show(stream: dict[str, Any]) -> str:
    namespace = stream.get("namespace")
    return f"'{namespace}.{stream['name']}'" if namespace else f"'{stream['name']}'"


def selected_streams(connection: dict[str, Any]) -> list[dict[str, Any]]:
    """The streams a sync of this connection moves: those selected in its syncCatalog.

    A stream whose configuration says nothing about `selected` counts as selected, as early
    clients never sent the field.
    """
    streams = []
    for entry in _catalog(connection):
        stream, config = entry.get("stream") or {}, entry.get("config") or {}
        if config.get("selected", True) and stream.get("name"):
            descriptor = {"name": stream["name"]}
            if stream.get("namespace"):
                descriptor["namespace"] = stream["namespace"]
            streams.append(descriptor)
    return streams


def _known_streams(
    connection_id: str, connection: dict[str, Any], streams: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The streams, checked against the connection's catalog (422 for one it does not have),
    with the namespace filled in where the request left it out."""
    catalog = [
        (str((e.get("stream") or {}).get("name")), (e.get("stream") or {}).get("namespace") or None)
        for e in _catalog(connection)
    ]
    checked = []
    for index, stream in enumerate(streams):
        namespace = stream.get("namespace") or None
        found = [c for c in catalog if c[0] == stream["name"] and namespace in (None, c[1])]
        if not found:
            raise InvalidInput(
                f"Connection {connection_id} has no stream {_show(stream)} in its catalog",
                property_path=f"streams[{index}]",
                invalid_value=stream,
            )
        checked.append({"name": found[0][0], **({"namespace": found[0][1]} if found[0][1] else {})})
    return checked


def active_job(db: Database, connection_id: str) -> Job | None:
    row = db.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE config_id = ? AND status IN "
        "('pending', 'running', 'incomplete') ORDER BY id DESC LIMIT 1",
        [connection_id],
    ).fetchone()
    return None if row is None else job_from_row(row)


def create_job(
    db: Database,
    connection_id: str,
    now: int,
    config_type: str = SYNC,
    streams: list[dict[str, Any]] | None = None,
) -> int:
    """Queue a job for the connection, with its first attempt; return the job id.

    Refuses (409, "A sync is already running") while another job of the connection is pending,
    running or incomplete, and (422) for a deprecated connection, which can never sync again.
    """
    status, connection = _connection(db, connection_id)
    if status == "deprecated":
        raise InvalidInput(
            f"Connection {connection_id} is deprecated (deleted) and cannot be synced or reset",
            property_path="connectionId",
            invalid_value=connection_id,
        )
    running = active_job(db, connection_id)
    if running is not None:
        raise Conflict(
            f"A sync is already running for connection {connection_id}: job {running.id} "
            f"is {running.status}. Wait for it to end or cancel it (jobs/cancel)."
        )
    enabled = selected_streams(connection)
    if streams is not None:
        streams = _known_streams(connection_id, connection, streams)
    cursor = db.execute(
        "INSERT INTO jobs (config_type, config_id, status, created_at, updated_at, "
        "next_attempt_at, streams, enabled_streams) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)",
        [
            config_type,
            connection_id,
            now,
            now,
            now,
            None if streams is None else _json(streams),
            _json(enabled),
        ],
    )
    job_id = int(cursor.lastrowid or 0)
    _insert_attempt(db, job_id, 0, now)
    return job_id


def create_sync_job(db: Database, connection_id: str, now: int) -> int:
    """Queue a sync of the connection (API and scheduler); Conflict if one is active."""
    return create_job(db, connection_id, now, SYNC)


def _insert_attempt(db: Database, job_id: int, attempt_number: int, now: int) -> str:
    path = log_path_for(job_id, attempt_number)
    db.execute(
        "INSERT INTO attempts (job_id, attempt_number, status, created_at, updated_at, log_path) "
        "VALUES (?, ?, 'running', ?, ?, ?)",
        [job_id, attempt_number, now, now, path],
    )
    return path


# --- reading --------------------------------------------------------------------------------


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
    row = db.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE status IN ('pending', 'incomplete') "
        "AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1",
        [now],
    ).fetchone()
    if row is None:
        return None
    job = job_from_row(row)
    db.execute(
        "UPDATE jobs SET status = 'running', updated_at = ?, "
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


def save_progress(db: Database, job_id: int, attempt_number: int, stats: Stats, now: int) -> bool:
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
        processes = [*(_load(row[0]) or []), process]
        db.execute(
            "UPDATE attempts SET processes = ? WHERE job_id = ? AND attempt_number = ?",
            [_json(processes), job_id, attempt_number],
        )


def retry_delay(attempts: Sequence[Attempt], base_seconds: float) -> int:
    """Seconds to wait before the next attempt, after the last one failed.

    As Airbyte does: the wait triples with each failed attempt in a row that committed
    nothing (10 s, 30 s, 90 s ... from a 10 s base, at most an hour), and an attempt that
    committed some data resets it, so a long sync that keeps progressing retries at once.
    """
    streak = 0
    for attempt in reversed(attempts):
        if attempt.status != "failed" or attempt.records_committed > 0:
            break
        streak += 1
    if streak == 0:
        return 0
    return int(min(base_seconds * 3 ** (streak - 1), 3600))


def end_attempt(
    db: Database,
    job_id: int,
    attempt_number: int,
    *,
    succeeded: bool,
    cancelled: bool,
    stats: Stats,
    failures: list[dict[str, Any]],
    now: int,
    max_attempts: int,
    backoff_seconds: float,
    retry: bool = True,
) -> str | None:
    """Record how an attempt ended and move its job on; return the job's new status.

    succeeded -> job succeeded; cancelled -> job cancelled; failed -> job `incomplete` with
    the next attempt due after the backoff, or `failed` when attempts are used up (or `retry`
    is False: a failure that a retry cannot fix). None if the job no longer exists.
    """
    job_row = db.execute("SELECT status FROM jobs WHERE id = ?", [job_id]).fetchone()
    if job_row is None:
        return None
    status = "succeeded" if succeeded else "failed"
    summary = None
    if not succeeded:
        summary = _json({"failures": failures, "partialSuccess": stats.records_committed > 0})
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
            summary,
            job_id,
            attempt_number,
        ],
    )
    next_at = now
    if succeeded:
        job_status = "succeeded"
    elif cancelled:
        job_status = "cancelled"
    elif retry and attempt_number + 1 < max_attempts:
        job_status = "incomplete"
        attempts = list_attempts(db, [job_id])[job_id]
        next_at = now + retry_delay(attempts, backoff_seconds)
    else:
        job_status = "failed"
    db.execute(
        "UPDATE jobs SET status = ?, updated_at = ?, next_attempt_at = ? WHERE id = ?",
        [job_status, now, next_at, job_id],
    )
    return job_status


def cancel_waiting_job(db: Database, job_id: int, failure: dict[str, Any], now: int) -> Job:
    """Cancel a job that is not running an attempt now (pending or incomplete) at once.

    A running job is returned unchanged: the worker stops its attempt and ends it. A job that
    already ended cannot be cancelled (409).
    """
    job = get_job(db, job_id)
    if job.status in TERMINAL:
        raise Conflict(
            f"Job {job_id} has already ended ({job.status}); only pending, running or "
            "incomplete jobs can be cancelled"
        )
    if job.status == "running":
        return job
    db.execute(
        "UPDATE attempts SET status = 'failed', ended_at = ?, updated_at = ?, "
        "failure_summary = ? WHERE job_id = ? AND status = 'running'",
        [now, now, _json({"failures": [failure], "partialSuccess": False}), job_id],
    )
    db.execute("UPDATE jobs SET status = 'cancelled', updated_at = ? WHERE id = ?", [now, job_id])
    return get_job(db, job_id)
