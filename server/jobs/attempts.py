"""The attempt domain: job and attempt statuses, an attempt's counters and its failure reasons.

A leaf module (msgspec and the protocol's descriptor only): the relay, the store, the worker
and the API's renderers all use these types, so each concept is declared here once. The
Structs encode in Airbyte's camelCase, the form stored in the jobs tables' JSON columns.
"""

from __future__ import annotations

import time
from typing import Any, Literal, cast, get_args

import msgspec

from server.protocol import StreamDescriptor

JobStatus = Literal["pending", "running", "incomplete", "failed", "succeeded", "cancelled"]
AttemptStatus = Literal["running", "failed", "succeeded"]
# The types of jobs the worker runs (Airbyte's JobConfigType has more, none run here).
JobType = Literal["sync", "reset_connection", "clear"]
SYNC: JobType = "sync"
RESET_TYPES: tuple[JobType, ...] = ("reset_connection", "clear")
ACTIVE: tuple[JobStatus, ...] = ("pending", "running", "incomplete")
TERMINAL: tuple[JobStatus, ...] = ("failed", "succeeded", "cancelled")

FailureOrigin = Literal[
    "source",
    "destination",
    "replication",
    "persistence",
    "airbyte_platform",
    "normalization",
    "dbt",
    "unknown",
]
FailureType = Literal[
    "config_error",
    "system_error",
    "manual_cancellation",
    "refresh_schema",
    "heartbeat_timeout",
    "destination_timeout",
    "transient_error",
]
_NOT_RETRYABLE: tuple[FailureType, ...] = ("config_error", "manual_cancellation")


class AttemptStats(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    """An attempt's counters, as the relay reports them, the store keeps them and the API
    shows them; a stream's entry in `stream_stats` uses the same Struct (its estimates and
    own `stream_stats` unset). `records_filtered_out`/`bytes_filtered_out`: the source's
    records a row filter dropped (counted in the emitted ones, never committed), as
    Airbyte's `recordsFilteredOut`/`bytesFilteredOut`."""

    records_emitted: int = 0
    bytes_emitted: int = 0
    records_committed: int = 0
    bytes_committed: int = 0
    state_messages_emitted: int = 0
    records_filtered_out: int = 0
    bytes_filtered_out: int = 0
    estimated_records: int | None = None
    estimated_bytes: int | None = None
    stream_stats: list[StreamStats] = msgspec.field(default_factory=list)


class StreamStats(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    stream_name: str
    stream_namespace: str | None = None
    stats: AttemptStats = msgspec.field(default_factory=AttemptStats)


class FailureReason(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    """Airbyte's FailureReason; build one with `failure()`."""

    failure_origin: FailureOrigin
    failure_type: FailureType | None = None
    external_message: str = ""
    internal_message: str | None = None
    stacktrace: str | None = None
    retryable: bool | None = None
    timestamp: int = 0  # epoch milliseconds, as Airbyte's
    stream_descriptor: StreamDescriptor | None = None


def failure(
    origin: FailureOrigin,
    kind: FailureType,
    message: str,
    *,
    internal: str | None = None,
    stacktrace: str | None = None,
    stream: StreamDescriptor | None = None,
    retryable: bool | None = None,
) -> FailureReason:
    """The one constructor of a failure reason. `internalMessage` defaults to the message;
    a failure is retryable unless it is the user's configuration or a cancellation."""
    return FailureReason(
        failure_origin=origin,
        failure_type=kind,
        external_message=message,
        internal_message=internal or message,
        stacktrace=stacktrace or None,
        retryable=kind not in _NOT_RETRYABLE if retryable is None else retryable,
        timestamp=int(time.time() * 1000),
        stream_descriptor=stream,
    )


CANCELLED = "The job was cancelled"


def cancelled_failure() -> FailureReason:
    """The reason a job cancelled by its user ends with (jobs/cancel)."""
    return failure("airbyte_platform", "manual_cancellation", CANCELLED)


def mentions(failures: list[FailureReason], message: str) -> bool:
    return any(f.external_message == message for f in failures)


_ORIGINS = frozenset(get_args(FailureOrigin))
_TYPES = frozenset(get_args(FailureType))


def stored_failure(raw: Any) -> FailureReason:
    """A failure reason read back from the store. Values outside Airbyte's enums (rows
    written by older versions) become `unknown`/absent instead of failing the whole read."""
    if not isinstance(raw, dict):
        return FailureReason(failure_origin="unknown", external_message=str(raw))
    try:
        return msgspec.convert(raw, FailureReason)
    except msgspec.ValidationError:
        pass

    def text(key: str) -> str | None:
        value = raw.get(key)
        return None if value is None else str(value)

    origin = raw.get("failureOrigin")
    kind = raw.get("failureType")
    stamp = raw.get("timestamp")
    retryable = raw.get("retryable")
    return FailureReason(
        failure_origin=cast(FailureOrigin, origin) if origin in _ORIGINS else "unknown",
        failure_type=cast(FailureType, kind) if kind in _TYPES else None,
        external_message=text("externalMessage") or "",
        internal_message=text("internalMessage"),
        stacktrace=text("stacktrace"),
        retryable=retryable if isinstance(retryable, bool) else None,
        timestamp=int(stamp) if isinstance(stamp, int | float) else 0,
    )


class FailureSummary(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    """What went wrong in an attempt (or, for one that succeeded, its warnings)."""

    failures: list[FailureReason]
    partial_success: bool | None = None


def stored_summary(raw: Any) -> FailureSummary | None:
    if not isinstance(raw, dict):
        return None
    partial = raw.get("partialSuccess")
    return FailureSummary(
        failures=[stored_failure(f) for f in raw.get("failures") or []],
        partial_success=partial if isinstance(partial, bool) else None,
    )
