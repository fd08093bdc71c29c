"""Run one short connector command (spec, check, discover) to its end, blocking.

Async callers wrap it: `await anyio.to_thread.run_sync(run_command, ...)`. Whatever the
connector does, the call ends: within `timeout` (the connector is killed when it passes),
with bounded memory (lines are split by `iter_lines`, log lines kept are bounded), and with
either the message the command exists for (SPEC, CONNECTION_STATUS, CATALOG) or a
`CommandFailed` carrying the reason (the connector's TRACE ERROR when it sent one) and the
last log lines. Lines that are not JSON are logged and skipped, as Airbyte does.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from server.domain.secrets import mask_text
from server.private import private_dir
from server.protocol import (
    MALFORMED,
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteLogMessage,
    AirbyteTraceMessage,
    ConnectorSpecification,
    ProtocolCatalog,
    decode_payload,
    envelope_decoder,
)
from server.runner.base import Command, ConnectorError, ConnectorImage, Runner, RunRequest
from server.runner.lines import (
    DEFAULT_MAX_LINE_BYTES,
    DROPPED_LINES_LOGGED,
    dropped_in_all,
    dropped_so_far,
    iter_lines,
)

MAX_LOG_LINES = 1000  # kept per run (the last ones); jobInfo.logs shows them
MAX_LOG_LINE_CHARS = 4000
STDERR_TAIL_BYTES = 256 * 1024
EXIT_GRACE_SECONDS = 10.0  # after stdout closes, how long the process may take to exit

EXPECTED: dict[str, str] = {"spec": "SPEC", "check": "CONNECTION_STATUS", "discover": "CATALOG"}


class CommandFailed(ConnectorError):
    """The command ended without its result. `log_lines` are the run's last log lines."""

    def __init__(
        self,
        message: str,
        log_lines: Sequence[str] = (),
        trace: AirbyteErrorTraceMessage | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.log_lines = list(log_lines)
        self.trace = trace


@dataclass
class CommandOutput:
    exit_code: int
    log_lines: list[str]
    spec: ConnectorSpecification | None = None
    connection_status: AirbyteConnectionStatus | None = None
    catalog: ProtocolCatalog | None = None
    trace_errors: list[AirbyteErrorTraceMessage] = field(default_factory=list)


class _Log:
    """The run's log: bounded, each line shortened and stripped of secrets. Of the stdout
    lines that are not Airbyte messages only the first `DROPPED_LINES_LOGGED` are kept, then
    counted, as in a sync's attempt log: a flood of them would push every useful line out."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self.lines: deque[str] = deque(maxlen=MAX_LOG_LINES)
        self.secrets = secrets
        self.dropped = 0

    def drop(self, message: str) -> None:
        self.dropped += 1
        if self.dropped <= DROPPED_LINES_LOGGED:
            self.add("WARN", message)
        if self.dropped == DROPPED_LINES_LOGGED:
            self.add("WARN", dropped_so_far(self.dropped))

    def log_dropped(self) -> None:
        """At the end of the run: how many dropped lines the log does not show."""
        if self.dropped > DROPPED_LINES_LOGGED:
            self.add("WARN", dropped_in_all(self.dropped))

    def add(self, level: str, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        for text in message.splitlines() or [""]:
            if len(text) > MAX_LOG_LINE_CHARS:
                text = text[:MAX_LOG_LINE_CHARS] + " ... (truncated)"
            self.lines.append(mask_text(f"{stamp} {level} {text}", self.secrets))


def run_command(
    runner: Runner,
    request: RunRequest,
    *,
    timeout: float,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    secrets: Sequence[str] = (),
) -> CommandOutput:
    """Run `request` to its end; raise CommandFailed unless its result message came."""
    log = _Log(secrets)
    name = request.connector.name
    log.add("INFO", f"Running {request.command} for {name} ({_described(request.connector)})")
    try:
        connector = runner.start(request)
    except ConnectorError as exc:
        log.add("ERROR", str(exc))
        raise CommandFailed(mask_text(str(exc), secrets), log.lines) from exc
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        connector.kill()

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    output = CommandOutput(exit_code=-1, log_lines=[])
    failure: str | None = None
    try:
        try:
            for line in iter_lines(connector.stdout, max_line_bytes):
                _handle(line, output, log)
        except ConnectorError as exc:  # LineTooLong
            failure = str(exc)
            connector.kill()
        try:
            output.exit_code = connector.wait(max(1.0, min(EXIT_GRACE_SECONDS, timeout)))
        except TimeoutError:
            connector.kill()
            output.exit_code = connector.wait(EXIT_GRACE_SECONDS)
            failure = failure or "The connector closed its output but did not exit; it was stopped"
    finally:
        timer.cancel()
        with contextlib.suppress(OSError):
            connector.stdout.close()
    log.log_dropped()
    _add_stderr(request.log_path, log)
    if expired.is_set():
        failure = (
            f"{request.command} did not finish within {timeout:g} s; the connector was stopped"
        )
    output.log_lines = list(log.lines)
    return _conclude(request.command, output, failure, log)


def _conclude(
    command: Command, output: CommandOutput, failure: str | None, log: _Log
) -> CommandOutput:
    has_result = {
        "spec": output.spec,
        "check": output.connection_status,
        "discover": output.catalog,
    }.get(command)
    trace = output.trace_errors[-1] if output.trace_errors else None
    if failure is None and has_result is None:
        expected = EXPECTED.get(command, "result")
        if trace is not None:
            failure = trace.message
        elif output.exit_code != 0:
            failure = (
                f"The connector exited with code {output.exit_code} without a {expected} message"
            )
        else:
            failure = f"The connector ended without a {expected} message"
    if failure is not None:
        log.add("ERROR", failure)
        raise CommandFailed(mask_text(failure, log.secrets), log.lines, trace)
    log.add("INFO", f"{command} finished (exit code {output.exit_code})")
    output.log_lines = list(log.lines)
    return output


def _handle(line: bytes, output: CommandOutput, log: _Log) -> None:
    try:
        message = envelope_decoder.decode(line)
        kind = message.type
        if kind == "LOG":
            entry: AirbyteLogMessage = decode_payload(message.log, AirbyteLogMessage)
            if entry is not None:
                log.add(entry.level, entry.message)
                if entry.stack_trace:
                    log.add(entry.level, entry.stack_trace)
        elif kind == "TRACE":
            trace: AirbyteTraceMessage = decode_payload(message.trace, AirbyteTraceMessage)
            if trace is not None and trace.error is not None:
                output.trace_errors.append(_masked(trace.error, log.secrets))
                log.add("ERROR", f"Connector error: {trace.error.message}")
                if trace.error.internal_message:
                    log.add("ERROR", trace.error.internal_message)
                if trace.error.stack_trace:
                    log.add("ERROR", trace.error.stack_trace)
        elif kind == "SPEC":
            output.spec = decode_payload(message.spec, ConnectorSpecification)
        elif kind == "CONNECTION_STATUS":
            status = decode_payload(message.connectionStatus, AirbyteConnectionStatus)
            if status is not None and status.message:
                status.message = mask_text(status.message, log.secrets)
            output.connection_status = status
        elif kind == "CATALOG":
            output.catalog = decode_payload(message.catalog, ProtocolCatalog)
    except MALFORMED as exc:
        # Not a protocol message: logged and dropped, as Airbyte's platform does.
        text = line[:MAX_LOG_LINE_CHARS].decode("utf-8", "replace")
        log.drop(f"Skipped a stdout line that is not an Airbyte message ({exc}): {text}")


def _masked(error: AirbyteErrorTraceMessage, secrets: Sequence[str]) -> AirbyteErrorTraceMessage:
    """The error with secrets taken out of its texts (it is sent back in jobInfo)."""

    def clean(text: str | None) -> str | None:
        return None if text is None else mask_text(text, secrets)

    return msgspec.structs.replace(
        error,
        message=mask_text(error.message, secrets),
        internal_message=clean(error.internal_message),
        stack_trace=clean(error.stack_trace),
    )


def _add_stderr(path: Path | None, log: _Log) -> None:
    """The tail of what the connector wrote to stderr (the runners append it to the log)."""
    if path is None or not path.exists():
        return
    with path.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - STDERR_TAIL_BYTES))
        tail = f.read().decode("utf-8", "replace").splitlines()
    if size > STDERR_TAIL_BYTES:
        tail = tail[1:]  # the first line is cut
    for text in tail:
        if text.strip():
            log.add("STDERR", text)


def _described(connector: ConnectorImage) -> str:
    if connector.runner == "process":
        return f"local program {' '.join(connector.command)}"
    return f"image {connector.docker_image}"


def run_in_job_dir(
    runner: Runner,
    connector: ConnectorImage,
    command: Command,
    runs_dir: Path,
    files: Mapping[str, bytes],
    *,
    timeout: float,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    secrets: Sequence[str] = (),
) -> CommandOutput:
    """`run_command` in a fresh job directory under `runs_dir`, removed afterwards (the
    configuration in it holds secrets). Both directories are private (0700)."""
    private_dir(runs_dir)
    job_dir = private_dir(runs_dir / f"{command}-{uuid.uuid4().hex}")
    request = RunRequest(
        connector=connector,
        command=command,
        job_dir=job_dir,
        files=files,
        log_path=job_dir / "stderr.log",
    )
    try:
        return run_command(
            runner, request, timeout=timeout, max_line_bytes=max_line_bytes, secrets=secrets
        )
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
