"""Job endpoints (tag: jobs): read, list and cancel sync and reset jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.context import Context
from server.core import job_history as shown
from server.core import jobs as core
from server.jobs import attempts as domain
from server.models.connections import ConnectionIdRequestBody
from server.models.jobs import (
    AttemptFailureSummary,
    AttemptInfoRead,
    AttemptRead,
    AttemptStats,
    AttemptStreamStats,
    FailureReason,
    JobAggregatedStats,
    JobIdRequestBody,
    JobInfoLightRead,
    JobInfoRead,
    JobListRequestBody,
    JobOptionalRead,
    JobRead,
    JobReadList,
    JobWithAttemptsRead,
    LogRead,
    ResetConfig,
    StreamDescriptor,
    StreamStats,
)

DEFAULT_PAGE_SIZE = 200
MAX_LOG_BYTES = 8 << 20  # jobs/get reads at most this much of a log's end
MAX_LOG_LINE = 64 << 10  # longer lines (a connector that printed a blob) are cut
CANCEL_WAIT_SECONDS = 15.0


# --- logs ------------------------------------------------------------------------------------


def tail_lines(path: Path, count: int) -> list[str]:
    """The last `count` lines of a file, read from its end (a long log is never read whole)."""
    if count <= 0:
        return []
    try:
        file = path.open("rb")
    except OSError:
        return []
    with file:
        position = file.seek(0, 2)
        data = b""
        while position > 0 and data.count(b"\n") <= count and len(data) < MAX_LOG_BYTES:
            step = min(64 << 10, position)
            position -= step
            file.seek(position)
            data = file.read(step) + data
    lines = data.splitlines()
    if position > 0 and lines:
        lines = lines[1:]  # the first one is probably cut
    return [_line(raw) for raw in lines[-count:]]


def _line(raw: bytes) -> str:
    text = raw[:MAX_LOG_LINE].decode("utf-8", "replace")
    return text if len(raw) <= MAX_LOG_LINE else f"{text}... ({len(raw)} bytes, cut)"


# --- rendering -------------------------------------------------------------------------------


def _descriptors(streams: Sequence[dict[str, Any]] | None) -> list[StreamDescriptor] | None:
    if streams is None:
        return None
    return [StreamDescriptor(name=s["name"], namespace=s.get("namespace")) for s in streams]


def job_read(job: shown.Job, attempts: Sequence[shown.Attempt]) -> JobRead:
    """The job with its stats summed over every attempt (as Airbyte's aggregatedStats)."""
    per_stream: dict[tuple[str, str | None], list[int]] = {}
    for attempt in attempts:
        for entry in attempt.stats.stream_stats:
            totals = per_stream.setdefault(
                (entry.stream_name, entry.stream_namespace or None), [0, 0, 0, 0]
            )
            stats = entry.stats
            totals[0] += stats.records_emitted
            totals[1] += stats.bytes_emitted
            totals[2] += stats.records_committed
            totals[3] += stats.bytes_committed
    reset = job.config_type in domain.RESET_TYPES
    return JobRead(
        id=job.id,
        config_type=job.config_type,
        config_id=job.config_id,
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        status=job.status,
        aggregated_stats=JobAggregatedStats(
            records_emitted=sum(a.stats.records_emitted for a in attempts),
            bytes_emitted=sum(a.stats.bytes_emitted for a in attempts),
            records_committed=sum(a.stats.records_committed for a in attempts),
            bytes_committed=sum(a.stats.bytes_committed for a in attempts),
            records_rejected=0,
        ),
        stream_aggregated_stats=[
            StreamStats(
                stream_name=name,
                stream_namespace=namespace,
                records_emitted=totals[0],
                bytes_emitted=totals[1],
                records_committed=totals[2],
                bytes_committed=totals[3],
                records_rejected=0,
            )
            for (name, namespace), totals in per_stream.items()
        ],
        enabled_streams=_descriptors(job.enabled_streams),
        reset_config=ResetConfig(streams_to_reset=_descriptors(job.streams or job.enabled_streams))
        if reset
        else None,
    )


def _failure(reason: domain.FailureReason) -> FailureReason:
    stream = reason.stream_descriptor
    return FailureReason(
        timestamp=reason.timestamp,
        failure_origin=reason.failure_origin,
        failure_type=reason.failure_type,
        external_message=reason.external_message,
        internal_message=reason.internal_message,
        stacktrace=reason.stacktrace,
        retryable=reason.retryable,
        stream_descriptor=None
        if stream is None
        else StreamDescriptor(name=stream.name, namespace=stream.namespace),
    )


def _attempt_stats(stats: domain.AttemptStats, estimates: bool = False) -> AttemptStats:
    return AttemptStats(
        records_emitted=stats.records_emitted,
        bytes_emitted=stats.bytes_emitted,
        state_messages_emitted=stats.state_messages_emitted,
        records_committed=stats.records_committed,
        bytes_committed=stats.bytes_committed,
        records_rejected=0,
        records_filtered_out=stats.records_filtered_out,
        bytes_filtered_out=stats.bytes_filtered_out,
        estimated_records=stats.estimated_records if estimates else None,
        estimated_bytes=stats.estimated_bytes if estimates else None,
    )


def attempt_read(attempt: shown.Attempt) -> AttemptRead:
    summary = None
    if attempt.failure_summary is not None:
        summary = AttemptFailureSummary(
            failures=[_failure(f) for f in attempt.failure_summary.failures],
            partial_success=attempt.failure_summary.partial_success,
        )
    return AttemptRead(
        id=attempt.attempt_number,
        status=attempt.status,
        created_at=attempt.created_at,
        updated_at=attempt.updated_at,
        ended_at=attempt.ended_at,
        records_synced=attempt.stats.records_emitted,
        bytes_synced=attempt.stats.bytes_emitted,
        total_stats=_attempt_stats(attempt.stats, estimates=True),
        stream_stats=[
            AttemptStreamStats(
                stream_name=entry.stream_name,
                stream_namespace=entry.stream_namespace or None,
                stats=_attempt_stats(entry.stats),
            )
            for entry in attempt.stats.stream_stats
        ],
        failure_summary=summary,
    )


async def job_info(ctx: Context, job_id: int, logs: bool = True) -> JobInfoRead:
    """The job, its attempts and (with `logs`) the last lines of each attempt's log."""

    job, attempts = await ctx.store.read(shown.job_with_attempts, job_id)
    lines = ctx.settings.job_log_lines if logs else 0
    data = ctx.settings.data_path
    infos = []
    for attempt in attempts:
        log_lines = await _tail(data / attempt.log_path, lines) if lines else []
        infos.append(
            AttemptInfoRead(
                attempt=attempt_read(attempt),
                logs=LogRead(log_lines=log_lines),
                log_type="formatted",
            )
        )
    return JobInfoRead(job=job_read(job, attempts), attempts=infos)


async def _tail(path: Path, count: int) -> list[str]:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(tail_lines, path, count)


# --- handlers --------------------------------------------------------------------------------


async def get_job_info(body: JobIdRequestBody, ctx: Context) -> JobInfoRead:
    return await job_info(ctx, body.id)


async def get_job_info_without_logs(body: JobIdRequestBody, ctx: Context) -> JobInfoRead:
    return await job_info(ctx, body.id, logs=False)


async def get_job_info_light(body: JobIdRequestBody, ctx: Context) -> JobInfoLightRead:
    return JobInfoLightRead(job=(await job_info(ctx, body.id, logs=False)).job)


def _epoch(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


async def list_jobs_for(body: JobListRequestBody, ctx: Context) -> JobReadList:
    """Newest first by default; `pagination` pages; `includingJobId` widens the page so that
    the job is on it (an empty list if the job is not among those listed)."""
    types: list[str] = [
        *(body.config_types or []),
        *([body.config_type] if body.config_type else []),
    ]
    filter = shown.JobFilter(
        config_types=types or None,
        config_id=body.config_id,
        statuses=list(body.statuses) if body.statuses else None,
        created_after=_epoch(body.created_at_start),
        created_before=_epoch(body.created_at_end),
        updated_after=_epoch(body.updated_at_start),
        updated_before=_epoch(body.updated_at_end),
        order_by="updated_at" if body.order_by_field == "updatedAt" else "created_at",
        descending=body.order_by_method != "ASC",
    )
    page = body.pagination
    size = page.page_size if page is not None and page.page_size else DEFAULT_PAGE_SIZE
    offset = page.row_offset if page is not None and page.row_offset else 0

    found, total, attempts = await ctx.store.read(
        shown.list_jobs, filter, size, offset, body.including_job_id
    )
    return JobReadList(
        jobs=[
            JobWithAttemptsRead(
                job=job_read(job, attempts[job.id]),
                attempts=[attempt_read(a) for a in attempts[job.id]],
            )
            for job in found
        ],
        total_job_count=total,
    )


async def get_last_replication_job(body: ConnectionIdRequestBody, ctx: Context) -> JobOptionalRead:
    """The connection's newest sync job, or `{}` if it never synced."""

    found = await ctx.store.read(shown.last_sync_job, str(body.connection_id))
    return JobOptionalRead(job=None if found is None else job_read(*found))


async def cancel_job(body: JobIdRequestBody, ctx: Context) -> JobInfoRead:
    """Cancel a job: a waiting one at once; a running one by stopping its connectors, which
    takes a few seconds: the reply comes when it has ended (or after 15 s, still running)."""
    job = await ctx.store.write(core.cancel_job, body.id, ctx.now())
    if job.status == "running":
        ctx.worker.cancel(body.id)
        await ctx.worker.wait_ended(body.id, CANCEL_WAIT_SECONDS)
    return await job_info(ctx, body.id)


handlers = [
    get_job_info,
    get_job_info_without_logs,
    get_job_info_light,
    list_jobs_for,
    get_last_replication_job,
    cancel_job,
]
