"""What the relay does with the messages that are not records or states: LOG lines go to the
attempt log, a TRACE ERROR becomes a failure reason, stream statuses and estimates are kept,
CONTROL messages are noted. Shared by the source pump and the destination reader."""

from __future__ import annotations

from typing import cast

from server.jobs.attempts import FailureOrigin, FailureReason, FailureType, failure
from server.protocol import (
    MALFORMED,
    AirbyteLogMessage,
    AirbyteTraceMessage,
    Envelope,
    decode_payload,
)
from server.runner.lines import DROPPED_LINES_LOGGED, dropped_in_all, dropped_so_far
from server.sync.attempt_log import AttemptLog

PREVIEW_CHARS = 1000  # how much of an unreadable line the log shows
_FAILURE_TYPES: set[str] = {"config_error", "system_error", "transient_error"}
_LEVELS = {"FATAL", "ERROR", "WARN", "WARNING", "INFO", "DEBUG", "TRACE"}


def preview(line: bytes | memoryview) -> str:
    text = bytes(line[: PREVIEW_CHARS + 1]).decode("utf-8", errors="replace").rstrip()
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "..."


class Observations:
    """Everything the relay learns besides counts, from both connectors' threads."""

    def __init__(self, log: AttemptLog) -> None:
        self.log = log
        self.failures: list[FailureReason] = []  # list.append is atomic: no lock needed
        self.trace_errors: set[str] = set()  # origins that reported a TRACE ERROR
        self.stream_status: dict[tuple[str, str | None], str] = {}
        self.estimates: dict[tuple[str, str | None], tuple[int | None, int | None]] = {}
        self.sync_estimate: tuple[int | None, int | None] | None = None
        self.dropped: dict[str, int] = {}  # per origin; each origin is one thread's
        # Records the mappers' row filters dropped, per source stream: (records, bytes).
        self.filtered: dict[tuple[str, str | None], tuple[int, int]] = {}

    def fail(self, reason: FailureReason) -> None:
        self.failures.append(reason)
        self.log.write("replication", "ERROR", reason.external_message)

    def unreadable(self, origin: str, line: bytes | memoryview) -> None:
        # The protocol: a line that is not an AirbyteMessage is logged and dropped.
        self.drop(origin, "INFO", "(not a protocol message, dropped)", line)

    def drop(self, origin: str, level: str, what: str, line: bytes | memoryview) -> None:
        """Log a dropped line, only the first `DROPPED_LINES_LOGGED` of each connector."""
        count = self.dropped.get(origin, 0) + 1
        self.dropped[origin] = count
        if count <= DROPPED_LINES_LOGGED:
            self.log.write(origin, level, f"{what} {preview(line)}")
        if count == DROPPED_LINES_LOGGED:
            self.log.write(origin, "WARN", dropped_so_far(count))

    def log_dropped(self) -> None:
        """At the end of the attempt: how many dropped lines the log does not show."""
        for origin, count in self.dropped.items():
            if count > DROPPED_LINES_LOGGED:
                self.log.write(origin, "WARN", dropped_in_all(count))

    def log_filtered(self, filtered: dict[tuple[str, str | None], list[int]]) -> None:
        """At the end of the attempt: the records each stream's row filters dropped (they
        count as emitted by the source, never as committed to the destination)."""
        self.filtered = {key: (counts[0], counts[1]) for key, counts in filtered.items()}
        for key, (records, size) in self.filtered.items():
            self.log.write(
                "replication",
                "INFO",
                f"stream {_name(key)}: {records} record(s) ({size} bytes) filtered out by its "
                "mappers",
            )

    def other(self, origin: str, envelope: Envelope, line: bytes | memoryview) -> None:
        """A message that is neither RECORD nor STATE."""
        kind = envelope.type
        try:
            if kind == "LOG" and envelope.log:
                self._log(origin, decode_payload(envelope.log, AirbyteLogMessage))
            elif kind == "TRACE" and envelope.trace:
                self._trace(origin, decode_payload(envelope.trace, AirbyteTraceMessage))
            elif kind == "CONTROL":
                # A connector asking to persist a new configuration (e.g. a rotated token).
                # Its content holds secrets: only the fact is logged.
                self.log.write(
                    origin, "WARN", "CONTROL message (configuration update) received; not applied"
                )
            else:
                self.drop(origin, "INFO", f"({kind} message ignored)", line)
        except MALFORMED:
            self.drop(origin, "WARN", f"(malformed {kind} message)", line)

    def _log(self, origin: str, message: AirbyteLogMessage) -> None:
        level = message.level.upper() if message.level.upper() in _LEVELS else "INFO"
        text = message.message
        if message.stack_trace:
            text = f"{text}\n{message.stack_trace}"
        self.log.write(origin, "WARN" if level == "WARNING" else level, text)

    def _trace(self, origin: str, trace: AirbyteTraceMessage) -> None:
        if trace.type == "ERROR" and trace.error is not None:
            error = trace.error
            kind = cast(
                FailureType,
                error.failure_type if error.failure_type in _FAILURE_TYPES else "system_error",
            )
            self.trace_errors.add(origin)
            self.log.write(origin, "ERROR", f"TRACE ERROR ({kind}): {error.message}")
            self.failures.append(
                failure(
                    cast(FailureOrigin, origin),
                    kind,
                    error.message,
                    internal=error.internal_message,
                    stacktrace=error.stack_trace,
                    stream=error.stream_descriptor,
                )
            )
        elif trace.type == "STREAM_STATUS" and trace.stream_status is not None:
            status = trace.stream_status
            key = (status.stream_descriptor.name, status.stream_descriptor.namespace)
            self.stream_status[key] = status.status
            self.log.write(origin, "INFO", f"stream {_name(key)} is {status.status}")
        elif trace.type == "ESTIMATE" and trace.estimate is not None:
            estimate = trace.estimate
            values = (estimate.row_estimate, estimate.byte_estimate)
            if estimate.type == "SYNC":
                self.sync_estimate = values
            else:
                self.estimates[(estimate.name, estimate.namespace)] = values
        else:
            self.log.write(origin, "DEBUG", f"TRACE {trace.type}")

    def estimated(self) -> tuple[int | None, int | None]:
        """(records, bytes) the source expects to emit, if it said."""
        if self.sync_estimate is not None:
            return self.sync_estimate
        if not self.estimates:
            return None, None
        rows = [r for r, _ in self.estimates.values() if r is not None]
        sizes = [b for _, b in self.estimates.values() if b is not None]
        return (sum(rows) if rows else None, sum(sizes) if sizes else None)


def _name(key: tuple[str, str | None]) -> str:
    return key[0] if key[1] is None else f"{key[1]}.{key[0]}"
