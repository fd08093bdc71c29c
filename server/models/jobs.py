"""Job and attempt models (tags: jobs, connection sync/reset), named and shaped as Airbyte's.

Fields that polling clients read unguarded are required, so they are always sent: the job's
`status`, `createdAt`, `updatedAt` and stats, each attempt's `recordsSynced`, and
`attempts[].logs.logLines` (an empty list when there is no log yet).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta

from server.jobs.attempts import AttemptStatus, FailureOrigin, FailureType, JobStatus
from server.models.base import Model, PageSize, RowOffset

# The statuses and failure enums are the attempt domain's (one declaration each); the wire
# sends them as they are.

JobConfigType = Literal[
    "check_connection_source",
    "check_connection_destination",
    "discover_schema",
    "get_spec",
    "sync",
    "reset_connection",
    "refresh",
    "clear",
]
Count = Annotated[int, Meta(ge=0)]
# Job ids are SQLite integers (64-bit, as Airbyte's `int64`): a larger one is a 422, not an
# OverflowError when the store binds it.
JobId = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
# An RFC 3339 date-time with its offset, as Airbyte's `format: date-time` (Jackson's
# OffsetDateTime) requires: the document then says what the server accepts, and `""` is refused
# by both.
Moment = Annotated[datetime, Meta(tz=True)]


class StreamDescriptor(Model):
    name: str
    namespace: str | None = None


class ResetConfig(Model):
    streams_to_reset: list[StreamDescriptor] | None = None


class JobAggregatedStats(Model):
    """Totals over every attempt of the job."""

    records_emitted: int
    bytes_emitted: int
    records_committed: int
    bytes_committed: int
    records_rejected: int


class StreamStats(Model):
    stream_name: str
    records_emitted: int
    bytes_emitted: int
    records_committed: int
    bytes_committed: int
    records_rejected: int
    stream_namespace: str | None = None


class JobRead(Model):
    id: int
    config_type: JobConfigType
    config_id: str
    created_at: int
    updated_at: int
    status: JobStatus
    aggregated_stats: JobAggregatedStats
    stream_aggregated_stats: list[StreamStats]
    started_at: int | None = None
    enabled_streams: list[StreamDescriptor] | None = None
    reset_config: ResetConfig | None = None


class AttemptStats(Model):
    records_emitted: int | None = None
    bytes_emitted: int | None = None
    state_messages_emitted: int | None = None
    bytes_committed: int | None = None
    records_committed: int | None = None
    records_rejected: int | None = None
    records_filtered_out: int | None = None  # by the stream's row filters (mappers)
    bytes_filtered_out: int | None = None
    estimated_records: int | None = None
    estimated_bytes: int | None = None


class AttemptStreamStats(Model):
    stream_name: str
    stats: AttemptStats
    stream_namespace: str | None = None


class FailureReason(Model):
    timestamp: int  # epoch milliseconds, as Airbyte's
    failure_origin: FailureOrigin | None = None
    failure_type: FailureType | None = None
    external_message: str | None = None
    internal_message: str | None = None
    stacktrace: str | None = None
    retryable: bool | None = None
    from_trace_message: bool | None = None
    stream_descriptor: StreamDescriptor | None = None


class AttemptFailureSummary(Model):
    failures: list[FailureReason]
    partial_success: bool | None = None


class AttemptRead(Model):
    """`id` is the attempt's number within its job (0, 1, 2 ...), as Airbyte's."""

    id: int
    status: AttemptStatus
    created_at: int
    updated_at: int
    records_synced: int
    bytes_synced: int
    total_stats: AttemptStats
    stream_stats: list[AttemptStreamStats]
    ended_at: int | None = None
    failure_summary: AttemptFailureSummary | None = None


class LogRead(Model):
    log_lines: list[str]


class AttemptInfoRead(Model):
    attempt: AttemptRead
    logs: LogRead
    log_type: Literal["formatted", "structured"]


class JobInfoRead(Model):
    job: JobRead
    attempts: list[AttemptInfoRead]


class JobInfoLightRead(Model):
    job: JobRead


class JobOptionalRead(Model):
    job: JobRead | None = None


class JobWithAttemptsRead(Model):
    """An item of `jobs/list`: attempts are flat here, not wrapped in `{attempt: ...}`."""

    job: JobRead
    attempts: list[AttemptRead]


class JobReadList(Model):
    jobs: list[JobWithAttemptsRead]
    total_job_count: int


class JobIdRequestBody(Model):
    id: JobId


class Pagination(Model):
    page_size: PageSize | None = None
    row_offset: RowOffset | None = None


class JobListRequestBody(Model):
    """`configTypes` is required by Airbyte; here it may be left out to list every type. The
    2020 API named one type, `configType`: both are honoured (the union of the two)."""

    config_types: list[JobConfigType] | None = None
    config_type: JobConfigType | None = None
    config_id: str | None = None
    including_job_id: JobId | None = None
    pagination: Pagination | None = None
    statuses: list[JobStatus] | None = None
    created_at_start: Moment | None = None
    created_at_end: Moment | None = None
    updated_at_start: Moment | None = None
    updated_at_end: Moment | None = None
    order_by_field: Literal["createdAt", "updatedAt"] | None = None
    order_by_method: Literal["ASC", "DESC"] | None = None


class ConnectionStream(Model):
    stream_name: Annotated[str, Meta(min_length=1)]
    stream_namespace: str | None = None


class ConnectionStreamRequestBody(Model):
    connection_id: UUID
    streams: Annotated[list[ConnectionStream], Meta(min_length=1)]
