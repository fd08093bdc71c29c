"""A connection's job history and a job's log, which tails live while the job runs.

The log page shows the end of the chosen attempt's log and, while the job is not over, a
`pre` the script feeds from `/jobs/{id}/log-stream` (server-sent events, `text/event-stream`):
`line` events with each new line of the job's log (the attempt's, then a retry's), a `status`
event when the job's status changes, and a last `end` event with its final status. Without the
script the page still shows the log; a reload shows more.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.context import Context
from server.core import connections as core_connections
from server.core import job_history as history
from server.core.job_logs import read_log
from server.ui import frame
from server.ui.connection_detail import connection_id
from server.ui.job_views import ENDED, job_row, job_rows

PAGE_SIZE = 25
POLL_SECONDS = 0.5
KEEPALIVE_POLLS = 30
# A stream ends after this long even if the job does not (the browser reconnects).
STREAM_SECONDS = 15 * 60


def _job_id(request: Request) -> int:
    try:
        return int(request.path_params["job_id"])
    except ValueError:
        raise frame.PageError(404, "There is no such job.") from None


async def _connection_name(ctx: Context, cid: str) -> str:
    import msgspec

    raw = await core_connections.get_connection_json(ctx, uuid.UUID(cid))
    name = msgspec.json.decode(raw, type=dict[str, object]).get("name")
    return str(name) if name else cid


async def job_history(request: Request) -> Response:
    ctx = frame.context(request)
    cid = connection_id(request)
    name = await _connection_name(ctx, str(cid))
    try:
        offset = max(0, int(request.query_params.get("offset", "0")))
    except ValueError:
        offset = 0
    jobs, total, attempts = await ctx.store.read(
        history.list_jobs, history.JobFilter(config_id=str(cid)), PAGE_SIZE, offset
    )
    values = {
        "cid": cid,
        "name": name,
        "jobs": job_rows(jobs, attempts, ctx.now()),
        "total": total,
        "previous": max(0, offset - PAGE_SIZE) if offset > 0 else None,
        "next": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
    }
    return frame.page(request, "jobs/history.html", values)


async def job_log(request: Request) -> Response:
    ctx = frame.context(request)
    job_id = _job_id(request)
    job, attempts = await ctx.store.read(history.job_with_attempts, job_id)
    shown = job_row(job, attempts, ctx.now())
    try:
        chosen = int(request.query_params.get("attempt", "0")) - 1
    except ValueError:
        chosen = -1
    attempt = next((a for a in attempts if a.attempt_number == chosen), None)
    attempt = attempt or (attempts[-1] if attempts else None)
    lines: list[str] = []
    offset, skipped = 0, False
    if attempt is not None:
        chunk = await read_log(ctx, attempt.log_path, tail=True)
        lines, offset, skipped = chunk.lines, chunk.offset, chunk.skipped
    live = job.status not in ENDED and attempt is not None and attempt is attempts[-1]
    stream = None
    if live and attempt is not None:
        stream = f"/jobs/{job_id}/log-stream?attempt={attempt.attempt_number}&offset={offset}"
    values = {
        "job": shown,
        "name": await _connection_name(ctx, job.config_id),
        "attempt": None if attempt is None else attempt.attempt_number + 1,
        "lines": lines,
        "skipped": skipped,
        "stream": stream,
    }
    return frame.page(request, "jobs/log.html", values)


def event(kind: str, data: str) -> bytes:
    # One `data:` field per line; a log line holds no newline (lines are split on them).
    text = data.replace("\r", "").replace("\n", " ")
    return f"event: {kind}\ndata: {text}\n\n".encode()


async def _follow(ctx: Context, job_id: int, number: int, offset: int) -> AsyncIterator[bytes]:
    """New lines of the job's log from (attempt `number`, byte `offset`) on, then the end."""
    status = None
    settled = False  # the job has ended: one more read takes the worker's last line
    polls = 0
    with anyio.move_on_after(STREAM_SECONDS):
        while True:
            job, attempts = await ctx.store.read(history.job_with_attempts, job_id)
            if job.status != status:
                status = job.status
                yield event("status", status)
            current = next((a for a in attempts if a.attempt_number == number), None)
            if current is not None:
                chunk = await read_log(ctx, current.log_path, offset)
                offset = chunk.offset
                for line in chunk.lines:
                    yield event("line", line)
                if chunk.lines:
                    continue  # there may be more at once
                later = [a for a in attempts if a.attempt_number > number]
                if later and current.status != "running":
                    number, offset = later[0].attempt_number, 0
                    yield event("line", f"--- attempt {number + 1} ---")
                    continue
            if job.status in ENDED and (current is None or current.status != "running"):
                if settled:
                    yield event("end", job.status)
                    return
                settled = True
            polls += 1
            if polls % KEEPALIVE_POLLS == 0:
                yield b": waiting\n\n"  # a comment: keeps proxies from closing an idle stream
            await anyio.sleep(POLL_SECONDS)
    yield event("end", status or "unknown")


async def log_stream(request: Request) -> Response:
    ctx = frame.context(request)
    job_id = _job_id(request)
    await ctx.store.read(history.job_with_attempts, job_id)  # NotFound: a 404 page
    try:
        number = max(0, int(request.query_params.get("attempt", "0")))
        offset = max(0, int(request.query_params.get("offset", "0")))
    except ValueError:
        raise frame.PageError(400, "attempt and offset are whole numbers") from None
    return StreamingResponse(
        _follow(ctx, job_id, number, offset),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


ROUTES = [
    frame.route("/connections/{connection_id}/jobs", job_history),
    frame.route("/jobs/{job_id:int}", job_log),
    frame.route("/jobs/{job_id:int}/log-stream", log_stream),
]
