"""Starting jobs of a connection (tag: connection): sync, reset and clear.

Each call queues a job (with its first attempt) and answers its `JobInfoRead` at once; the
worker runs it. One job per connection at a time: another call while one is pending,
running or incomplete answers 409 "A sync is already running ...".
"""

from __future__ import annotations

from typing import Any

from server.api.jobs import job_info
from server.context import Context
from server.core import jobs as core
from server.jobs.attempts import SYNC, JobType
from server.models.connections import ConnectionIdRequestBody
from server.models.jobs import ConnectionStreamRequestBody, JobInfoRead


async def _start(
    ctx: Context,
    connection_id: str,
    config_type: JobType,
    streams: list[dict[str, Any]] | None = None,
) -> JobInfoRead:
    job_id = await ctx.store.write(core.start_job, connection_id, ctx.now(), config_type, streams)
    ctx.worker.wake()
    return await job_info(ctx, job_id)


def _streams(body: ConnectionStreamRequestBody) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for stream in body.streams:
        descriptor: dict[str, Any] = {"name": stream.stream_name}
        if stream.stream_namespace:
            descriptor["namespace"] = stream.stream_namespace
        if descriptor not in found:
            found.append(descriptor)
    return found


async def sync_connection(body: ConnectionIdRequestBody, ctx: Context) -> JobInfoRead:
    return await _start(ctx, str(body.connection_id), SYNC)


async def reset_connection(body: ConnectionIdRequestBody, ctx: Context) -> JobInfoRead:
    """Forget the connection's state and empty its streams in the destination."""
    return await _start(ctx, str(body.connection_id), "reset_connection")


async def clear_connection(body: ConnectionIdRequestBody, ctx: Context) -> JobInfoRead:
    """The modern name of a reset (configType `clear`)."""
    return await _start(ctx, str(body.connection_id), "clear")


async def reset_connection_stream(body: ConnectionStreamRequestBody, ctx: Context) -> JobInfoRead:
    return await _start(ctx, str(body.connection_id), "reset_connection", _streams(body))


async def clear_connection_stream(body: ConnectionStreamRequestBody, ctx: Context) -> JobInfoRead:
    return await _start(ctx, str(body.connection_id), "clear", _streams(body))


handlers = [
    sync_connection,
    reset_connection,
    clear_connection,
    reset_connection_stream,
    clear_connection_stream,
]
