"""Jobs in the public API (tag: jobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from server.models.base import Model
from server.models.public.common import Limit, Offset, PageLinks

# Airbyte's JobStatusEnum without `queued`, which Sluice never sends: airbyte-api 0.53 (under
# PyAirbyte) cannot decode it, and Airflow's and dagster's pollers fail on it.
JobStatusEnum = Literal["pending", "running", "incomplete", "failed", "succeeded", "cancelled"]
# A filter may still name `queued` (the newer SDK has it): no job is ever shown so.
JobStatusFilter = Literal[
    "pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled"
]
JobTypeEnum = Literal["sync", "reset", "refresh", "clear"]


class JobResponse(Model):
    """`startTime` (from the job's creation) and `lastUpdatedAt` (only once it has ended) are
    ISO 8601 in UTC; `duration` is ISO 8601 (`PT1M5S`), left out while the job is pending;
    `rowsSynced` and `bytesSynced` are the records and bytes committed over its attempts."""

    job_id: int
    status: JobStatusEnum
    job_type: JobTypeEnum
    start_time: str
    connection_id: UUID
    last_updated_at: str | None = None
    duration: str | None = None
    bytes_synced: int | None = None
    rows_synced: int | None = None


class JobsResponse(PageLinks):
    data: list[JobResponse]


class JobCreateRequest(Model):
    """`refresh` is refused (422), as by Airbyte's public API."""

    connection_id: UUID
    job_type: JobTypeEnum


class ListJobsQuery(Model):
    """`orderBy` is `<field>|<ASC|DESC>` with field `createdAt` or `updatedAt`; `createdAtStart`
    and the other bounds are date-times (UTC when they carry no offset), inclusive."""

    connection_id: UUID | None = None
    limit: Limit = 20
    offset: Offset = 0
    job_type: JobTypeEnum | None = None
    workspace_ids: list[UUID] = msgspec.field(default_factory=list)
    status: JobStatusFilter | None = None
    created_at_start: datetime | None = None
    created_at_end: datetime | None = None
    updated_at_start: datetime | None = None
    updated_at_end: datetime | None = None
    order_by: str | None = None
