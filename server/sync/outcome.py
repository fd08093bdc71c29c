"""How a sync attempt ends: its progress counts, the failures its connectors' exits mean,
failure texts with secrets masked, the result and its warnings (the results half of
`server.sync.relay.Attempt`, which runs the attempt).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from server.jobs.attempts import AttemptStats, FailureReason, failure
from server.sync.attempt_log import AttemptLog
from server.sync.catalog import StreamKey
from server.sync.checkpoints import Checkpoints
from server.sync.connectors import Connectors, Role
from server.sync.messages import Observations
from server.sync.plan import AttemptPlan, AttemptResult
from server.sync.pump import SourcePump


class AttemptOutcome:
    """The attempt's results, from the state the relay leaves (declared here, set by it)."""

    plan: AttemptPlan
    log: AttemptLog
    seen: Observations
    checkpoints: Checkpoints
    connectors: Connectors
    pump: SourcePump | None
    streams: list[StreamKey]
    reset: bool
    cancelled: bool
    started: float
    report_progress: Callable[[AttemptStats], None]

    # --- results -------------------------------------------------------------------------

    def _progress(self) -> AttemptStats:
        records, size, committed, committed_size = self.checkpoints.totals()
        estimated_records, estimated_bytes = self.seen.estimated()
        filtered = self._filtered()
        streams = self.checkpoints.stream_stats(self.streams)
        for entry in streams:
            dropped = filtered.get((entry.stream_name, entry.stream_namespace))
            if dropped is not None:
                entry.stats.records_filtered_out, entry.stats.bytes_filtered_out = dropped
        return AttemptStats(
            records_emitted=records,
            bytes_emitted=size,
            records_committed=committed,
            bytes_committed=committed_size,
            state_messages_emitted=self.checkpoints.states_emitted,
            records_filtered_out=sum(r for r, _ in filtered.values()),
            bytes_filtered_out=sum(b for _, b in filtered.values()),
            stream_stats=streams,
            estimated_records=estimated_records,
            estimated_bytes=estimated_bytes,
        )

    def _filtered(self) -> dict[StreamKey, tuple[int, int]]:
        """(records, bytes) the row filters dropped per source stream: the final counts
        once the relay has ended, else the pump's so far (read from another thread: each
        count is a list the pump adds to in place)."""
        if self.seen.filtered:
            return self.seen.filtered
        live = self.pump.mapper.filtered if self.pump is not None else {}
        return {key: (counts[0], counts[1]) for key, counts in list(live.items())}

    def _report(self) -> None:
        try:
            self.report_progress(self._progress())
        except Exception as exc:
            self.log.write("replication", "WARN", f"Progress report failed: {exc!r}")

    def _exit_failures(self) -> None:
        roles: tuple[Role, ...] = ("source", "destination")
        for role in roles:
            code = self.connectors.codes.get(role)
            if code in (0, None) or role in self.connectors.killed:
                continue
            if role in self.seen.trace_errors:  # it said why already
                continue
            tail = self.log.last_lines(role)
            name = role.capitalize()
            reason = failure(
                role,
                "system_error",
                f"{name} process exited with non-zero exit code {code}",
                internal=f"{name} process exited with non-zero exit code {code}"
                + (f"; its last lines:\n{tail}" if tail else ""),
                stacktrace=tail or None,
            )
            self.seen.fail(reason)
        gone = self.pump is not None and self.pump.destination_gone
        if gone and not any(f.failure_origin == "destination" for f in self.seen.failures):
            self.seen.fail(
                failure(
                    "destination",
                    "system_error",
                    "The destination stopped reading its input before the source ended",
                )
            )

    def _masked(self, reason: FailureReason) -> FailureReason:
        """A failure reason with secret values taken out of its texts (clients see them)."""
        mask = self.log.mask
        return msgspec.structs.replace(
            reason,
            external_message=mask(reason.external_message),
            internal_message=None
            if reason.internal_message is None
            else mask(reason.internal_message),
            stacktrace=None if reason.stacktrace is None else mask(reason.stacktrace),
        )

    def _result(self) -> AttemptResult:
        if not self.cancelled:
            self._exit_failures()
        failures = [] if self.cancelled else [self._masked(f) for f in self.seen.failures]
        codes = self.connectors.codes
        codes_ok = codes.get("destination") == 0 and (self.reset or codes.get("source") == 0)
        succeeded = not self.cancelled and not failures and codes_ok
        if not succeeded and not failures and not self.cancelled:
            failures.append(failure("replication", "system_error", "The attempt did not finish"))
        if succeeded:
            self.checkpoints.commit_all()
        progress = self._progress()
        warnings = self._warnings(progress) if succeeded else []
        outcome = "succeeded" if succeeded else "cancelled" if self.cancelled else "failed"
        elapsed = time.monotonic() - self.started
        rate = progress.records_emitted / elapsed if elapsed > 0 else 0.0
        self.log.write(
            "replication",
            "INFO" if succeeded else "WARN",
            f"{self.plan.kind.capitalize()} attempt {outcome} in {elapsed:.1f} s: "
            f"{progress.records_emitted} records ({progress.bytes_emitted} bytes) read, "
            f"{progress.records_committed} committed; {self.checkpoints.states_committed} of "
            f"{self.checkpoints.states_emitted} states committed; {rate:,.0f} records/s"
            + (f"; first failure: {failures[0].external_message}" if failures else ""),
        )
        return AttemptResult(
            succeeded=succeeded,
            cancelled=self.cancelled,
            failures=failures,
            stats=progress,
            warnings=warnings,
        )

    def _warnings(self, progress: AttemptStats) -> list[FailureReason]:
        """What went wrong in an attempt that succeeded: a destination that took the records
        but confirmed none of the states, so that nothing of this sync's progress is saved."""
        emitted = self.checkpoints.states_emitted
        if self.reset or not emitted or self.checkpoints.states_committed:
            return []
        if not progress.records_committed:
            return []
        since = "from the last saved state" if self.plan.input_state else "from the beginning"
        message = (
            f"The destination committed {progress.records_committed} records but confirmed none "
            f"of the {emitted} states the source sent: the connection's state was not saved, "
            f"so the next incremental sync starts over ({since})"
        )
        internal = (
            f"{message}. A destination must emit each STATE message back once the records "
            f"before it are committed; this one emitted none."
        )
        self.log.write("replication", "WARN", message)
        # The attempt succeeded: nothing to retry.
        return [failure("destination", "system_error", message, internal=internal, retryable=False)]
