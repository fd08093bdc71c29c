"""The connections list as the web UI shows it: one store read per page (see
`server.store.connection_list`), then each row's schedule in words and its next run.

Next run: for a basic schedule, the newest sync job's creation plus the interval (now when it
never ran or is overdue); for cron, the next slot; none for manual or paused connections.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import msgspec

from server.context import Context
from server.models.connections import ConnectionRead, ConnectionSchedule, ConnectionScheduleData
from server.scheduling.schedules import (
    BasicInterval,
    CronError,
    CronSpec,
    Schedule,
    describe_cron,
    epoch,
    next_fires,
    next_run,
    schedule_of,
)
from server.store.connection_list import list_connection_rows

MAX_PAGE = 200
NEXT_RUNS = 3  # as many as Airbyte lists for a cron schedule
_data = msgspec.json.Decoder(ConnectionScheduleData | None)
_legacy = msgspec.json.Decoder(ConnectionSchedule | None)


class ConnectionSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    status: str
    source_id: str
    source_name: str
    destination_id: str
    destination_name: str
    schedule: str  # in words: "Manual", "Every 24 hours", a cron description
    next_run: int | None
    last_job_id: int | None
    last_job_status: str | None
    last_job_at: int | None  # when the newest sync job last changed (its end, once ended)
    records: int | None
    bytes: int | None
    running: bool  # a job of the connection is pending, running or waiting to retry


class ConnectionSummaryPage(msgspec.Struct, frozen=True):
    rows: list[ConnectionSummary]
    more: bool


@functools.lru_cache(maxsize=1024)
def _schedule(kind: str | None, data: str | None, legacy: str | None) -> Schedule | str | None:
    """The parsed schedule, cached by its stored JSON; a string says why a cron cannot run."""
    try:
        return schedule_of(
            kind,
            _data.decode(data) if data else None,
            _legacy.decode(legacy) if legacy else None,
        )
    except (CronError, msgspec.DecodeError) as exc:
        return str(exc)


def schedule_words(schedule: Schedule | str | None) -> str:
    if schedule is None:
        return "Manual"
    if isinstance(schedule, str):
        return f"Cannot run: {schedule}"
    if isinstance(schedule, BasicInterval):
        unit = schedule.time_unit if schedule.units != 1 else schedule.time_unit.rstrip("s")
        return f"Every {schedule.units} {unit}"
    return describe_cron(schedule)


class ScheduleView(msgspec.Struct, frozen=True):
    words: str  # the schedule in words
    next_runs: list[int]  # the next runs (epoch seconds): none when manual or paused


def describe_schedule(
    connection: ConnectionRead, now: float, last_sync_created_at: int | None
) -> ScheduleView:
    """A connection's schedule as a page shows it: in words, with its next runs (three for
    cron, the one next for basic)."""
    try:
        schedule: Schedule | str | None = schedule_of(
            connection.schedule_type, connection.schedule_data, connection.schedule
        )
    except CronError as exc:
        schedule = str(exc)
    words = schedule_words(schedule)
    if isinstance(schedule, CronSpec) and connection.status == "active":
        at = datetime.fromtimestamp(now, UTC)
        return ScheduleView(words, [epoch(m) for m in next_fires(schedule, at, NEXT_RUNS)])
    upcoming = _next(schedule, connection.status, last_sync_created_at, now)
    return ScheduleView(words, [] if upcoming is None else [upcoming])


def _next(schedule: Schedule | str | None, status: str, last: int | None, now: float) -> int | None:
    if schedule is None or isinstance(schedule, str) or status != "active":
        return None
    at = datetime.fromtimestamp(now, UTC)
    due = next_run(schedule, at, last)
    return None if due is None else max(epoch(due), int(now))


async def list_connection_summaries(
    ctx: Context, name: str | None, status: str | None, limit: int, offset: int
) -> ConnectionSummaryPage:
    """A page of every workspace's connections, in the order they were created; `name` a
    substring of the name (any case), `status` the connection's status."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = await ctx.store.read(list_connection_rows, name, status, limit + 1, max(0, offset))
    now = ctx.clock()
    shown = []
    for row in rows[:limit]:
        schedule = _schedule(row.schedule_type, row.schedule_data, row.schedule)
        shown.append(
            ConnectionSummary(
                id=row.id,
                name=row.name,
                status=row.status,
                source_id=row.source_id,
                source_name=row.source_name,
                destination_id=row.destination_id,
                destination_name=row.destination_name,
                schedule=schedule_words(schedule),
                next_run=_next(schedule, row.status, row.job_created_at, now),
                last_job_id=row.job_id,
                last_job_status=row.job_status,
                last_job_at=row.job_updated_at,
                records=row.records,
                bytes=row.bytes,
                running=row.active_job_id is not None,
            )
        )
    return ConnectionSummaryPage(shown, len(rows) > limit)
