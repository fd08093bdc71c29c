"""Running one short connector command for an API call, and the `jobInfo` that reports it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import msgspec

from server.context import Context
from server.models.synchronous_jobs import (
    FailureOrigin,
    FailureReason,
    JobConfigType,
    LogRead,
    SynchronousJobRead,
)
from server.runner.base import Command, ConnectorImage
from server.runner.oneshot import CommandFailed, CommandOutput, run_in_job_dir
from server.runner.processes import marked

TIMEOUTS: dict[str, str] = {
    "spec": "spec_timeout_seconds",
    "check": "check_timeout_seconds",
    "discover": "discover_timeout_seconds",
}


async def run_connector(
    ctx: Context,
    connector: ConnectorImage,
    command: Command,
    configuration: dict[str, Any] | None = None,
    secrets: Sequence[str] = (),
) -> CommandOutput:
    """Run `command` in a worker thread; raises CommandFailed (with the log) when it fails."""
    settings = ctx.settings
    files = {} if configuration is None else {"config.json": msgspec.json.encode(configuration)}
    # Marked, so that the next start-up of a killed server stops it and removes its files.
    runner = marked(ctx.runners.get(connector))
    return await anyio.to_thread.run_sync(
        lambda: run_in_job_dir(
            runner,
            connector,
            command,
            settings.data_path / "runs",
            files,
            timeout=float(getattr(settings, TIMEOUTS[command])),
            max_line_bytes=settings.max_line_bytes,
            secrets=secrets,
        )
    )


def job_info(
    config_type: JobConfigType,
    started_at: int,
    ended_at: int,
    log_lines: Sequence[str],
    config_id: str | None = None,
    failure: CommandFailed | None = None,
    origin: FailureOrigin = "source",
) -> SynchronousJobRead:
    reason = None
    if failure is not None:
        trace = failure.trace
        reason = FailureReason(
            timestamp=ended_at * 1000,
            failure_origin=origin,
            failure_type=_failure_type(trace.failure_type if trace else None),
            external_message=failure.message,
            internal_message=trace.internal_message if trace else None,
            stacktrace=trace.stack_trace if trace else None,
            retryable=False,
            from_trace_message=trace is not None,
        )
    return SynchronousJobRead(
        id=uuid.uuid4(),
        config_type=config_type,
        config_id=config_id,
        created_at=started_at,
        ended_at=ended_at,
        succeeded=failure is None,
        connector_configuration_updated=False,
        logs=LogRead(log_lines=list(log_lines)),
        failure_reason=reason,
    )


def _failure_type(value: str | None) -> Any:
    return value if value in ("config_error", "system_error", "transient_error") else "system_error"
