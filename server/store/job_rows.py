"""Jobs and attempts as the store reads them from their rows (`store/jobs.py` writes them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.jobs.attempts import (
    AttemptStats,
    AttemptStatus,
    FailureSummary,
    JobStatus,
    JobType,
    StreamStats,
    stored_summary,
)


def load_json(text: str | None) -> Any:
    return None if text is None else msgspec.json.decode(text)


@dataclass
class Job:
    id: int
    config_type: JobType
    config_id: str
    status: JobStatus
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
    status: AttemptStatus
    created_at: int
    updated_at: int
    ended_at: int | None
    stats: AttemptStats
    failure_summary: FailureSummary | None
    log_path: str  # relative to the data directory
    processes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Claim:
    """A job the worker has just moved to `running`, and the attempt it is to run."""

    job: Job
    attempt_number: int
    log_path: str


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
        streams=load_json(row[8]),
        enabled_streams=load_json(row[9]),
    )


def attempt_from_row(row: Sequence[Any]) -> Attempt:
    streams = _stream_stats(row[13])
    return Attempt(
        job_id=row[0],
        attempt_number=row[1],
        status=row[2],
        created_at=row[3],
        updated_at=row[4],
        ended_at=row[5],
        stats=AttemptStats(
            records_emitted=row[6],
            bytes_emitted=row[7],
            records_committed=row[8],
            bytes_committed=row[9],
            state_messages_emitted=row[10],
            estimated_records=row[11],
            estimated_bytes=row[12],
            # The totals have no columns of their own: the streams' counts add up to them.
            records_filtered_out=sum(s.stats.records_filtered_out for s in streams),
            bytes_filtered_out=sum(s.stats.bytes_filtered_out for s in streams),
            stream_stats=streams,
        ),
        failure_summary=stored_summary(load_json(row[14])),
        log_path=row[15],
        processes=load_json(row[16]) or [],
    )


def _stream_stats(text: str | None) -> list[StreamStats]:
    try:
        return msgspec.json.decode(text or "[]", type=list[StreamStats])
    except msgspec.ValidationError:
        return []  # a row of an older version: its per-stream numbers are not shown
