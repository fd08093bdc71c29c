"""A connection's page: its streams (selected, sync mode, columns), mappers (edited as JSON in
`server.ui.mapper_pages`), the schedule, its schema change (`server.ui.schema_pages`), and the
actions: enable / disable, sync now, cancel, reset, clear.

Each action is a POST form (CSRF-checked) calling the core functions the config API's handlers
call, then a 303 back with a flash message (the core's message when refused).
"""

from __future__ import annotations

import uuid
from typing import Any, get_args

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from server.context import Context
from server.core import connection_views, public_catalog
from server.core import connections as core
from server.core import job_history as history
from server.core import jobs as core_jobs
from server.core.connection_list import describe_schedule
from server.core.errors import DomainError, InvalidInput
from server.jobs.attempts import JobType
from server.models.connections import (
    AirbyteCatalog,
    BasicSchedule,
    ConnectionRead,
    ConnectionScheduleData,
    ConnectionStatus,
    CronSchedule,
    DestinationSyncMode,
    SelectedFieldInfo,
    TimeUnit,
)
from server.ui import frame, schema_pages
from server.ui.job_views import ACTIVE, job_rows

TIME_UNITS: dict[str, TimeUnit] = {u: u for u in get_args(TimeUnit)}
STATUSES: dict[str, ConnectionStatus] = {"active": "active", "inactive": "inactive"}
CANCEL_WAIT_SECONDS = 5.0
RECENT_JOBS = 5


def connection_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["connection_id"])
    except ValueError:
        raise frame.PageError(404, "There is no such connection.") from None


def _columns(schema: dict[str, Any] | None) -> list[str]:
    properties = (schema or {}).get("properties")
    return list(properties) if isinstance(properties, dict) else []


def _streams(
    connection: ConnectionRead, writable: list[DestinationSyncMode] | None
) -> list[dict[str, Any]]:
    shown = []
    for item in connection.sync_catalog.streams:
        stream, config = item.stream, item.config
        columns = _columns(stream.json_schema or stream.json_schema_snake)
        chosen = {tuple(f.field_path) for f in (config.selected_fields or [])} if config else set()
        modes = public_catalog.modes_of(stream, writable)
        mode = (config.sync_mode, config.destination_sync_mode) if config else None
        if mode is not None and mode not in modes:
            modes = [mode, *modes]
        shown.append(
            {
                "name": stream.name,
                "namespace": stream.namespace,
                "selected": bool(config and config.selected),
                "mode": "/".join(mode) if mode else "",
                "modes": ["/".join(m) for m in modes],
                "field_selection": bool(config and config.field_selection_enabled),
                "columns": [{"name": c, "chosen": not chosen or (c,) in chosen} for c in columns],
                # As the API shows them (an AES key masked); edited as one JSON list.
                "mappers": msgspec.json.format(
                    msgspec.json.encode(config.mappers or [] if config else []), indent=2
                ).decode(),
                "mapper_count": len(config.mappers or []) if config else 0,
            }
        )
    return shown


def _schedule(connection: ConnectionRead, now: float, last_created: int | None) -> dict[str, Any]:
    """The schedule form's values, and the schedule in words with its next runs."""
    data = connection.schedule_data
    basic = data.basic_schedule if data else None
    cron = data.cron if data else None
    view = describe_schedule(connection, now, last_created)
    return {
        "type": connection.schedule_type or "manual",
        "units": basic.units if basic else 24,
        "time_unit": basic.time_unit if basic else "hours",
        "cron": cron.cron_expression if cron else "0 0 * * * ?",
        "zone": cron.cron_time_zone if cron else "UTC",
        "words": view.words,
        "next": view.next_runs,
    }


async def _writable(ctx: Context, destination_id: uuid.UUID) -> list[DestinationSyncMode] | None:
    try:
        return list(await public_catalog.destination_modes(ctx, destination_id))
    except DomainError:
        return None  # the destination's spec cannot be had now: every mode


async def connection_page(request: Request) -> Response:
    return await render(request)


async def render(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """The connection's page, with `extra` values (a refused form's text and message)."""
    ctx = frame.context(request)
    cid = connection_id(request)
    full = await connection_views.get_connection_in_full(ctx, cid)
    writable = await _writable(ctx, full.connection.destination_id)
    jobs, total, attempts = await ctx.store.read(
        history.list_jobs, history.JobFilter(config_id=str(cid)), RECENT_JOBS, 0
    )
    last_sync = next((j.created_at for j in jobs if j.config_type == "sync"), None)
    active = next((j for j in jobs if j.status in ACTIVE), None)
    values = {
        "c": full.connection,
        "source": full.source,
        "destination": full.destination,
        "summary": full.summary,
        "streams": _streams(full.connection, writable),
        "schedule": _schedule(full.connection, ctx.clock(), last_sync),
        "time_units": list(TIME_UNITS),
        "jobs": job_rows(jobs, attempts),
        "total_jobs": total,
        "active": active,
        "schema": await schema_pages.section(request, full),
        "mapper_errors": {},
        "mapper_text": {},
        **(extra or {}),
    }
    return frame.page(request, "connections/detail.html", values, status=status)


def _here(cid: uuid.UUID) -> str:
    return f"/connections/{cid}"


async def _start(request: Request, config_type: JobType, verb: str) -> Response:
    ctx = frame.context(request)
    cid = connection_id(request)
    await frame.form(request)
    try:
        job_id = await ctx.store.write(core_jobs.start_job, str(cid), ctx.now(), config_type)
    except DomainError as exc:
        return frame.back(request, _here(cid), exc.message, "error")
    ctx.worker.wake()
    return frame.back(request, f"/jobs/{job_id}", f"{verb} started (job {job_id}).", "ok")


async def sync_now(request: Request) -> Response:
    return await _start(request, "sync", "Sync")


async def reset(request: Request) -> Response:
    return await _start(request, "reset_connection", "Reset")


async def clear(request: Request) -> Response:
    return await _start(request, "clear", "Clear")


async def cancel(request: Request) -> Response:
    ctx = frame.context(request)
    cid = connection_id(request)
    data = await frame.form(request)
    try:
        job_id = int(frame.field(data, "job"))
        job, _ = await ctx.store.read(history.job_with_attempts, job_id)
        if job.config_id != str(cid):
            raise InvalidInput(f"Job {job_id} is not a job of this connection")
        cancelled = await ctx.store.write(core_jobs.cancel_job, job_id, ctx.now())
    except ValueError:
        return frame.back(request, _here(cid), "No job to cancel.", "error")
    except DomainError as exc:
        return frame.back(request, _here(cid), exc.message, "error")
    if cancelled.status == "running":
        ctx.worker.cancel(job_id)
        await ctx.worker.wait_ended(job_id, CANCEL_WAIT_SECONDS)
    return frame.back(request, _here(cid), f"Job {job_id} is being cancelled.", "ok")


async def _update(request: Request, fields: core.ConnectionFields, done: str) -> Response:
    cid = connection_id(request)
    try:
        await core.update_connection(frame.context(request), cid, fields)
    except DomainError as exc:
        return frame.back(request, _here(cid), exc.message, "error")
    return frame.back(request, _here(cid), done, "ok")


async def set_status(request: Request) -> Response:
    data = await frame.form(request)
    status = STATUSES.get(frame.field(data, "status"))
    if status is None:
        raise frame.PageError(400, "A connection is enabled (active) or disabled (inactive).")
    done = "Connection enabled." if status == "active" else "Connection disabled."
    return await _update(request, core.ConnectionFields(status=status), done)


def _schedule_fields(data: Any) -> core.ConnectionFields:
    kind = frame.field(data, "schedule_type")
    if kind == "manual":
        return core.ConnectionFields(schedule_type="manual", schedule_data=None)
    if kind == "basic":
        unit = TIME_UNITS.get(frame.field(data, "time_unit"))
        try:
            units = int(frame.field(data, "units"))
        except ValueError:
            raise InvalidInput("Every how many? Give a whole number.") from None
        if unit is None or not 0 < units <= 1_000_000:
            raise InvalidInput("Give a whole number from 1 and a unit of time.")
        basic = BasicSchedule(time_unit=unit, units=units)
        return core.ConnectionFields(
            schedule_type="basic", schedule_data=ConnectionScheduleData(basic_schedule=basic)
        )
    if kind == "cron":
        expression = frame.field(data, "cron").strip()[:256]
        zone = frame.field(data, "zone").strip()[:64] or "UTC"
        if not expression:
            raise InvalidInput("Give a cron expression.")
        cron = CronSchedule(cron_expression=expression, cron_time_zone=zone)
        return core.ConnectionFields(
            schedule_type="cron", schedule_data=ConnectionScheduleData(cron=cron)
        )
    raise InvalidInput("Choose manual, basic or cron.")


async def set_schedule(request: Request) -> Response:
    data = await frame.form(request)
    try:
        fields = _schedule_fields(data)
    except DomainError as exc:
        return frame.back(request, _here(connection_id(request)), exc.message, "error")
    return await _update(request, fields, "Schedule saved.")


def _catalog_from(
    data: Any, catalog: AirbyteCatalog, writable: list[DestinationSyncMode] | None
) -> AirbyteCatalog:
    """The catalog with the form's choices. A mode must be one the page offered (the stream
    reads it, the destination writes it): the core takes typed values as they are."""
    streams = []
    for i, item in enumerate(catalog.streams):
        if frame.field(data, f"s{i}.name") != item.stream.name or item.config is None:
            raise InvalidInput("The connection's streams changed meanwhile: reload and retry.")
        config = item.config
        offered = {"/".join(m): m for m in public_catalog.modes_of(item.stream, writable)}
        if item.config is not None:
            current = (config.sync_mode, config.destination_sync_mode)
            offered.setdefault("/".join(current), current)
        chosen_mode = frame.field(data, f"s{i}.mode")
        if chosen_mode not in offered:
            raise InvalidInput(f"Stream '{item.stream.name}' cannot sync in mode {chosen_mode!r}")
        mode = offered[chosen_mode]
        known = _columns(item.stream.json_schema or item.stream.json_schema_snake)
        chosen = [c for c in known if c in set(data.getlist(f"s{i}.field"))]
        selecting = frame.field(data, f"s{i}.fieldSelection") == "on"
        changes: dict[str, Any] = {
            "selected": frame.field(data, f"s{i}.selected") == "on",
            "field_selection_enabled": selecting,
            "selected_fields": [SelectedFieldInfo(field_path=[c]) for c in chosen]
            if selecting
            else None,
        }
        changes["sync_mode"], changes["destination_sync_mode"] = mode
        # A mode that needs a cursor or a key takes the source's when none is set yet.
        if mode[0] == "incremental" and not config.cursor_field:
            changes["cursor_field"] = item.stream.default_cursor_field or None
        if mode[1].endswith("_dedup") and not config.primary_key:
            changes["primary_key"] = item.stream.source_defined_primary_key or None
        streams.append(
            msgspec.structs.replace(item, config=msgspec.structs.replace(config, **changes))
        )
    return AirbyteCatalog(streams=streams)


async def set_streams(request: Request) -> Response:
    ctx = frame.context(request)
    cid = connection_id(request)
    data = await frame.form(request)
    current = await connection_views.get_connection_in_full(ctx, cid)
    try:
        writable = await _writable(ctx, current.connection.destination_id)
        catalog = _catalog_from(data, current.connection.sync_catalog, writable)
    except DomainError as exc:
        return frame.back(request, _here(cid), exc.message, "error")
    return await _update(request, core.ConnectionFields(sync_catalog=catalog), "Streams saved.")


_ID = "/connections/{connection_id}"
ROUTES = [
    frame.route(_ID, connection_page),
    frame.route(_ID + "/sync", sync_now, methods=["POST"]),
    frame.route(_ID + "/reset", reset, methods=["POST"]),
    frame.route(_ID + "/clear", clear, methods=["POST"]),
    frame.route(_ID + "/cancel", cancel, methods=["POST"]),
    frame.route(_ID + "/status", set_status, methods=["POST"]),
    frame.route(_ID + "/schedule", set_schedule, methods=["POST"]),
    frame.route(_ID + "/streams", set_streams, methods=["POST"]),
]
