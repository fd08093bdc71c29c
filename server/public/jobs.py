"""Jobs (tag: jobs): list, create, get and cancel, over server.core.job_queries.

The same jobs as the configuration API's (`connections/sync`, `jobs/get`): a job started here
is read there and the other way round. Airbyte's public names map to Sluice's job types as in
Airbyte (`reset` is a `reset_connection` job, `clear` a `clear` job); `refresh` is refused, as
Airbyte's public API refuses it. A job's status is Sluice's own, which never says `queued`: a
job waiting for the worker is `pending`, one waiting to retry after a failed attempt
`incomplete`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from server.context import Context
from server.core import job_queries as core
from server.core.errors import Conflict, InvalidInput
from server.errors import BadRequest
from server.jobs.attempts import JobType
from server.models.public.jobs import (
    JobCreateRequest,
    JobResponse,
    JobsResponse,
    JobTypeEnum,
    ListJobsQuery,
)
from server.public.rest import Links

# Public job type -> Sluice's (`refresh` has none: no such job is ever run or listed).
INTERNAL: dict[str, JobType] = {"sync": "sync", "reset": "reset_connection", "clear": "clear"}
PUBLIC: dict[str, JobTypeEnum] = {"sync": "sync", "reset_connection": "reset", "clear": "clear"}
ENDED = ("failed", "succeeded", "cancelled")
CANCEL_WAIT_SECONDS = 15.0  # as the configuration API's jobs/cancel

_ORDER = re.compile(r"(createdAt|updatedAt)\|(ASC|DESC)")
_ORDER_FIELDS = {"createdAt": "created_at", "updatedAt": "updated_at"}


def iso_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(seconds: int) -> str:
    """ISO 8601, as Java's Duration prints it (Airbyte's): `PT0S`, `PT1M5S`, `PT26H3S`."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n)
    return f"PT{text}{secs}S" if secs or not text else f"PT{text}"


def shown(found: core.JobTotals, now: int) -> JobResponse:
    job = found.job
    ended = job.status in ENDED
    # Airbyte's is updatedAt - createdAt; while a job runs, the time so far says more.
    duration = None
    if job.status != "pending":
        duration = iso_duration((job.updated_at if ended else now) - job.created_at)
    return JobResponse(
        job_id=job.id,
        status=job.status,
        job_type=PUBLIC[job.config_type],
        start_time=iso_time(job.created_at),
        connection_id=UUID(job.config_id),
        last_updated_at=iso_time(job.updated_at) if ended else None,
        duration=duration,
        bytes_synced=found.bytes_committed,
        rows_synced=found.records_committed,
    )


def _order(order_by: str | UnsetType) -> tuple[str, bool]:
    """(column, descending) for `orderBy`; createdAt ascending by default, as Airbyte's."""
    if isinstance(order_by, UnsetType):
        return "created_at", False
    match = _ORDER.fullmatch(order_by)
    if match is None:
        raise BadRequest(
            f"Invalid order by clause provided: {order_by!r}; it is a field (createdAt or "
            "updatedAt), '|' and ASC or DESC, e.g. updatedAt|DESC"
        )
    return _ORDER_FIELDS[match.group(1)], match.group(2) == "DESC"


def _epoch(name: str, value: str | UnsetType, round_up: bool = False) -> int | None:
    """Epoch seconds of a bound, an RFC 3339 date-time (jobs' times are whole seconds: a start
    rounds up); a malformed one is a 400 naming the parameter."""
    if isinstance(value, UnsetType):
        return None
    try:
        moment = msgspec.convert(value, datetime)
    except msgspec.ValidationError:
        raise BadRequest(
            f"Invalid query parameter {name}: {value!r} is not a date-time such as "
            "2024-01-31T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = moment.timestamp()
    return math.ceil(stamp) if round_up else math.floor(stamp)


async def list_jobs(query: ListJobsQuery, links: Links, ctx: Context) -> JobsResponse:
    column, descending = _order(query.order_by)
    if query.job_type == "refresh" or query.status == "queued":
        # Sluice runs no refresh and shows no job as queued: nothing is ever listed so.
        after, before = links.page(query.limit, query.offset, False)
        return JobsResponse(data=[], next=after, previous=before)
    job_type, status, connection = query.job_type, query.status, query.connection_id
    filter = core.JobFilter(
        config_types=list(INTERNAL.values()) if job_type is UNSET else [INTERNAL[str(job_type)]],
        config_id=None if connection is UNSET else str(connection),
        statuses=None if status is UNSET else [str(status)],
        created_after=_epoch("createdAtStart", query.created_at_start, round_up=True),
        created_before=_epoch("createdAtEnd", query.created_at_end),
        updated_after=_epoch("updatedAtStart", query.updated_at_start, round_up=True),
        updated_before=_epoch("updatedAtEnd", query.updated_at_end),
        order_by=column,
        descending=descending,
    )
    workspaces = [str(w) for w in query.workspace_ids]
    found, more = await ctx.store.read(
        core.list_jobs, filter, workspaces, query.limit, query.offset
    )
    after, before = links.page(query.limit, query.offset, more)
    now = ctx.now()
    return JobsResponse(data=[shown(j, now) for j in found], next=after, previous=before)


async def create_job(body: JobCreateRequest, ctx: Context) -> JobResponse:
    """Queue the job and answer at once (the worker runs it); 409 while the connection has a
    job pending, running or incomplete, as `connections/sync` answers."""
    if body.job_type == "refresh":
        raise InvalidInput(
            "Refreshes are not supported in the public API",
            property_path="jobType",
            invalid_value=body.job_type,
        )
    config_type = INTERNAL[body.job_type]
    found = await ctx.store.write(core.start_job, str(body.connection_id), ctx.now(), config_type)
    ctx.worker.wake()
    return shown(found, ctx.now())


async def get_job(job_id: int, ctx: Context) -> JobResponse:
    return shown(await ctx.store.read(core.get_job, job_id), ctx.now())


async def cancel_job(job_id: int, ctx: Context) -> JobResponse:
    """A waiting job is cancelled at once; a running one when its connectors have stopped
    (the reply waits up to 15 s for that, as `jobs/cancel`). An ended job is a 409."""
    try:
        found = await ctx.store.write(core.cancel_job, job_id, ctx.now())
    except Conflict as exc:
        raise Conflict(f"Job is not currently running: {exc.message}") from None
    if found.job.status == "running":
        ctx.worker.cancel(job_id)
        await ctx.worker.wait_ended(job_id, CANCEL_WAIT_SECONDS)
        found = await ctx.store.read(core.get_job, job_id)
    return shown(found, ctx.now())


handlers = [list_jobs, create_job, get_job, cancel_job]
