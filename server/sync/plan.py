"""What one sync attempt is given and what it answers: the contract with the job worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from server.protocol import StreamDescriptor
from server.runner.base import ConnectorImage


@dataclass
class AttemptPlan:
    job_id: int
    attempt_number: int  # 0-based, as Airbyte counts
    connection_id: str
    # reset: no source; the destination gets an empty overwrite sync of the streams to reset.
    kind: Literal["sync", "reset"]
    source: ConnectorImage | None  # None for a reset
    destination: ConnectorImage
    source_config: dict[str, Any] | None
    destination_config: dict[str, Any]
    # The connection's stored syncCatalog (API shape, camelCase); converted to the protocol's
    # ConfiguredAirbyteCatalog by server.catalogs.
    sync_catalog: dict[str, Any]
    connection: dict[str, Any]  # the stored ConnectionRead (namespace and prefix rules)
    streams: list[StreamDescriptor] | None  # streams to reset/sync; None = every selected one
    input_state: list[dict[str, Any]]  # committed AirbyteStateMessage dicts ([] if none)
    job_dir: Path  # per-attempt directory under the data dir
    log_path: Path  # the attempt's full log file (appended to)
    # Added after the first version (optional, so older callers still work): the secret
    # values of both configurations (server.secrets.secret_values with each connector's
    # spec). They are replaced by `**********` in every log line and failure message.
    secrets: list[str] = field(default_factory=list)


@dataclass
class AttemptProgress:
    """Running totals, reported while the attempt runs (same counters as AttemptResult)."""

    records_emitted: int = 0
    bytes_emitted: int = 0
    records_committed: int = 0
    bytes_committed: int = 0
    state_messages_emitted: int = 0
    stream_stats: list[dict[str, Any]] = field(default_factory=list)
    estimated_records: int | None = None
    estimated_bytes: int | None = None


@dataclass
class AttemptResult:
    succeeded: bool
    cancelled: bool
    # Airbyte FailureReason dicts: failureOrigin, failureType, externalMessage, internalMessage,
    # stacktrace, retryable, timestamp (ms), streamDescriptor?
    failures: list[dict[str, Any]]
    records_emitted: int
    bytes_emitted: int
    records_committed: int
    bytes_committed: int
    state_messages_emitted: int
    # [{streamName, streamNamespace?, stats: {recordsEmitted, bytesEmitted, recordsCommitted,
    #   bytesCommitted, stateMessagesEmitted}}]
    stream_stats: list[dict[str, Any]]
    estimated_records: int | None
    estimated_bytes: int | None
    # Failure reasons of an attempt that succeeded all the same (a destination that confirmed
    # no state): shown as its failureSummary, the only place Airbyte's AttemptRead has.
    warnings: list[dict[str, Any]] = field(default_factory=list)
