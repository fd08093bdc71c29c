"""Jobs in the public API (tag: jobs)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

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
    and the other bounds are date-times (UTC when they carry no offset), inclusive.

    An absent filter is UNSET rather than None: a query string's `null` would convert to None
    and pass for "absent", where it is a malformed value (400). The bounds are taken as text and
    parsed as RFC 3339 by the handler: converting leniently would read `0.5` as an epoch."""

    connection_id: UUID | UnsetType = UNSET
    limit: Limit = 20
    offset: Offset = 0
    job_type: JobTypeEnum | UnsetType = UNSET
    workspace_ids: list[UUID] = msgspec.field(default_factory=list)
    status: JobStatusFilter | UnsetType = UNSET
    created_at_start: str | UnsetType = UNSET
    created_at_end: str | UnsetType = UNSET
    updated_at_start: str | UnsetType = UNSET
    updated_at_end: str | UnsetType = UNSET
    order_by: str | UnsetType = UNSET
