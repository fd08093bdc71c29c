"""What one sync attempt is given and what it answers: the contract with the job worker.

The plan is ready to run: the job engine (`server.jobs.plan`) has turned the connection into
the protocol catalog the source reads and the namespace rules of the destination, so the
relay never sees an API model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from server.jobs.attempts import AttemptStats, FailureReason
from server.protocol import AirbyteStateMessage, ConfiguredAirbyteCatalog, StreamDescriptor
from server.runner.base import ConnectorImage
from server.sync.catalog import Namespacing


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
    # The source's catalog (source names), already filtered to the streams to move and, for
    # a reset, in full_refresh/overwrite; the destination's is derived with `namespacing`.
    catalog: ConfiguredAirbyteCatalog
    namespacing: Namespacing
    streams: list[StreamDescriptor] | None  # streams to reset/sync; None = every selected one
    # The connection's committed state, parsed when the plan was built ([] if none).
    input_state: list[AirbyteStateMessage]
    job_dir: Path  # per-attempt directory under the data dir
    log_path: Path  # the attempt's full log file (appended to)
    # The secret values of both configurations (server.domain.secrets.secret_values with each
    # connector's spec): replaced by `**********` in every log line and failure message.
    secrets: list[str] = field(default_factory=list)


# Running totals reported while the attempt runs: the attempt's counters.
AttemptProgress = AttemptStats


@dataclass
class AttemptResult:
    succeeded: bool
    cancelled: bool
    failures: list[FailureReason]
    stats: AttemptStats = field(default_factory=AttemptStats)
    # Failure reasons of an attempt that succeeded all the same (a destination that confirmed
    # no state): shown as its failureSummary, the only place Airbyte's AttemptRead has.
    warnings: list[FailureReason] = field(default_factory=list)
