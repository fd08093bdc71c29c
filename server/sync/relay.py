"""One sync attempt: start both connectors, relay, watch, and always clean up.

Threads with blocking I/O (measured ~2x faster than asyncio streams): the source pump
(source stdout -> destination stdin), the destination reader (destination stdout -> state
commits), and the caller's thread, which watches: cancel, the source heartbeat, the
destination's time to finish, progress reports, connector stderr into the attempt log. Every
exit path kills and reaps both connectors.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import msgspec

from server.jobs.attempts import AttemptStats, failure
from server.runner import Runners
from server.runner.base import ConnectorError
from server.settings import Settings
from server.sync.attempt_log import AttemptLog, StderrTail
from server.sync.catalog import StreamKey, destination_catalog
from server.sync.checkpoints import Checkpoints
from server.sync.connectors import Connectors, Role, describe
from server.sync.destination import DestinationReader
from server.sync.messages import Observations
from server.sync.outcome import AttemptOutcome
from server.sync.plan import AttemptPlan, AttemptResult
from server.sync.pump import SourcePump
from server.sync.reset import send_reset_states
from server.sync.states import state_file

TICK_SECONDS = 0.2
PROGRESS_SECONDS = 1.0
PROGRESS_LOG_SECONDS = 30.0
JOIN_SECONDS = 10.0

CommitState = Callable[[list[dict[str, Any]]], None]
ReportProgress = Callable[[AttemptStats], None]


def run_attempt(
    plan: AttemptPlan,
    runners: Runners,
    settings: Settings,
    commit_state: CommitState,
    report_progress: ReportProgress,
    cancel: threading.Event,
) -> AttemptResult:
    """Run one attempt to its end (blocking). Never raises for connector trouble: that is a
    failed result with Airbyte failure reasons.

    `commit_state` gets the connection's full new state (from a relay thread) once the
    destination has echoed a state: at most every `settings.state_commit_seconds` (the
    latest confirmed state; 0 = every echo), and always for the last one before returning.
    `report_progress` is called about every second; `cancel` stops both connectors.
    """
    log = AttemptLog(plan.log_path, plan.secrets)
    try:
        return Attempt(plan, runners, settings, log, commit_state, report_progress, cancel).run()
    except Exception as exc:
        log.write("replication", "ERROR", f"Relay error: {exc!r}\n{traceback.format_exc()}")
        reason = failure(
            "replication",
            "system_error",
            f"Relay error: {exc!r}",
            stacktrace=traceback.format_exc(),
        )
        return AttemptResult(succeeded=False, cancelled=False, failures=[reason])
    finally:
        log.close()


class Attempt(AttemptOutcome):
    def __init__(
        self,
        plan: AttemptPlan,
        runners: Runners,
        settings: Settings,
        log: AttemptLog,
        commit_state: CommitState,
        report_progress: ReportProgress,
        cancel: threading.Event,
    ) -> None:
        self.plan = plan
        self.runners = runners
        self.settings = settings
        self.log = log
        self.report_progress = report_progress
        self.cancel = cancel
        self.seen = Observations(log)
        self.reset = plan.kind == "reset"
        self.namespacing = plan.namespacing
        self.catalog = plan.catalog
        self.streams: list[StreamKey] = [
            (s.stream.name, s.stream.namespace) for s in self.catalog.streams
        ]
        self.checkpoints = Checkpoints(plan.input_state, self.namespacing)
        self.commit_state = commit_state
        self.connectors = Connectors(plan, runners, log)
        self.pump: SourcePump | None = None
        self.wake = threading.Event()  # set when a relay thread ends: the watcher looks now
        self.cancelled = False
        self.started = time.monotonic()

    # --- the whole attempt ---------------------------------------------------------------

    def run(self) -> AttemptResult:
        plan = self.plan
        self.log.write(
            "replication",
            "INFO",
            f"Starting {plan.kind} attempt {plan.attempt_number + 1} of job {plan.job_id} "
            f"(connection {plan.connection_id}): "
            f"{len(self.streams)} stream(s): {', '.join(self._names())}",
        )
        for (name, _), mapper in plan.namespacing.mappers.items():
            for problem in mapper.missing:
                self.log.write(
                    "replication",
                    "WARN",
                    f"Stream '{name}', {problem}: it acts only on records that still carry "
                    "the field (the stream's schema no longer has it; edit or remove the "
                    "mapper)",
                )
        try:
            self._start()
            if self.connectors.get("destination") is not None:
                self._relay()
        finally:
            self.connectors.stop("source", "destination")
        return self._result()

    def _reset_streams(self) -> list[StreamKey]:
        """The streams to reset: those in the catalog, and any other the job names."""
        streams = list(self.streams)
        for descriptor in self.plan.streams or []:
            key = (descriptor.name, descriptor.namespace)
            if key not in streams:
                streams.append(key)
        return streams

    def _names(self) -> list[str]:
        return [name if space is None else f"{space}.{name}" for name, space in self.streams]

    def _start(self) -> None:
        plan = self.plan
        destination_catalog_ = destination_catalog(self.catalog, self.namespacing)
        files = {
            "config.json": msgspec.json.encode(plan.destination_config),
            "catalog.json": msgspec.json.encode(destination_catalog_),
        }
        self.log.write("replication", "INFO", f"destination: {describe(plan.destination)}")
        try:
            self.connectors.launch("destination", plan.destination, "write", files)
        except ConnectorError as exc:
            self.seen.fail(failure("destination", "system_error", str(exc)))
            return
        if self.reset:
            return
        if plan.source is None or plan.source_config is None:
            self.seen.fail(failure("replication", "system_error", "The sync has no source"))
            return
        files = {
            "config.json": msgspec.json.encode(plan.source_config),
            "catalog.json": msgspec.json.encode(self.catalog),
        }
        if plan.input_state:
            files["state.json"] = state_file(plan.input_state)
            self.log.write(
                "replication", "INFO", f"Starting from {len(plan.input_state)} saved state(s)"
            )
        self.log.write("replication", "INFO", f"source: {describe(plan.source)}")
        try:
            self.connectors.launch("source", plan.source, "read", files)
        except ConnectorError as exc:
            self.seen.fail(failure("source", "system_error", str(exc)))

    # --- relaying and watching -----------------------------------------------------------

    def _relay(self) -> None:
        connectors = self.connectors
        destination = connectors.get("destination")
        source = connectors.get("source")
        assert destination is not None and destination.stdin is not None
        max_line = self.settings.max_line_bytes
        reader = DestinationReader(
            destination.stdout,
            self.checkpoints,
            self.seen,
            self.commit_state,
            max_line,
            self.settings.state_commit_seconds,
        )
        threads = [self._thread(reader.run, "sluice-destination")]
        pump: SourcePump | None = None
        if source is not None:
            pump = SourcePump(
                source.stdout,
                destination.stdin,
                self.checkpoints,
                self.seen,
                self.namespacing,
                max_line,
            )
            threads.append(self._thread(pump.run, "sluice-source"))
            self.pump = pump
        elif self.reset:
            send_reset_states(
                destination, self.checkpoints, self.plan.input_state, self._reset_streams()
            )
        else:  # the source did not start: nothing to write; let the destination end
            with contextlib.suppress(OSError, ValueError):
                destination.stdin.close()
        for thread in threads:
            thread.start()
        tails = [
            StderrTail(self.plan.job_dir / f"{role}.stderr.log", role, self.log)
            for role in ("source", "destination")
        ]
        try:
            self._watch(pump, reader, tails)
        finally:
            if pump is not None:
                pump.stopping = True
            reader.stopping = True
            connectors.stop("source", "destination")
            for thread in threads:
                thread.join(JOIN_SECONDS)
                if thread.is_alive():
                    self.log.write("replication", "WARN", f"{thread.name} did not stop")
            if not any(thread.is_alive() for thread in threads):
                connectors.close_outputs()
            for tail in tails:
                tail.poll(final=True)
                tail.path.unlink(missing_ok=True)  # copied, masked, into the attempt log
            self.seen.log_dropped()
            if pump is not None and pump.mapper.filtered:
                self.seen.log_filtered(pump.mapper.filtered)
            self._report()

    def _thread(self, run: Callable[[], None], name: str) -> threading.Thread:
        def target() -> None:
            try:
                run()
            finally:
                self.wake.set()

        return threading.Thread(target=target, name=name, daemon=True)

    def _watch(self, pump: SourcePump | None, reader: DestinationReader, tails: list[Any]) -> None:
        settings = self.settings
        next_progress = time.monotonic() + PROGRESS_SECONDS
        next_log = time.monotonic() + PROGRESS_LOG_SECONDS
        grace = settings.connector_exit_grace_seconds
        source_done_at: float | None = None if pump is not None else time.monotonic()
        # The destination's time to finish runs from the end of its input, not of the
        # source's output: a source slow to exit is the source's fault.
        input_closed_at: float | None = source_done_at
        destination_done_at: float | None = None
        while True:
            self.wake.wait(TICK_SECONDS)
            self.wake.clear()
            if self.cancel.is_set():
                self.cancelled = True
                self.log.write("replication", "INFO", "Cancelled: stopping both connectors")
                return
            now = time.monotonic()
            if pump is not None and not pump.ended.is_set() and not pump.sending:
                silent = now - pump.last_message
                if silent > settings.heartbeat_seconds:
                    self.seen.fail(
                        failure(
                            "source",
                            "heartbeat_timeout",
                            f"The source is unresponsive: it sent no record or state for "
                            f"{silent:.1f} s (limit {settings.heartbeat_seconds:g} s)",
                        )
                    )
                    return
            if (
                pump is not None
                and pump.sending
                and now - pump.send_started > settings.destination_timeout_seconds
            ):
                self.seen.fail(
                    failure(
                        "destination",
                        "destination_timeout",
                        "The destination is unresponsive: it has not read its input for "
                        f"{settings.destination_timeout_seconds:g} s",
                    )
                )
                return
            if pump is not None and pump.ended.is_set():
                if pump.failed:
                    return
                if pump.destination_gone:
                    # The destination stopped reading: the source cannot go on.
                    self.connectors.stop("source")
                if source_done_at is None:
                    source_done_at = now
                if "source" not in self.connectors.exited:
                    if self.connectors.reap("source", source_done_at, grace):
                        self._did_not_exit("source", grace)
                    if "source" in self.connectors.exited:
                        if not self._source_ended_cleanly():
                            pump.mark_incomplete(self.streams)
                        pump.close_destination_input()  # end of input: it may finish now
                        input_closed_at = time.monotonic()
            if reader.failed or not reader.flush_if_due():
                return
            if reader.ended.is_set():
                if destination_done_at is None:
                    destination_done_at = now
                if self.connectors.reap("destination", destination_done_at, grace):
                    self._did_not_exit("destination", grace)
            elif (
                input_closed_at is not None
                and now - input_closed_at > settings.destination_timeout_seconds
            ):
                self.seen.fail(
                    failure(
                        "destination",
                        "destination_timeout",
                        "The destination is unresponsive: it did not finish within "
                        f"{settings.destination_timeout_seconds:g} s after the source ended",
                    )
                )
                return
            if now >= next_progress:
                next_progress = now + PROGRESS_SECONDS
                for tail in tails:
                    tail.poll()
                self._report()
                self.log.flush()
            if now >= next_log:
                next_log = now + PROGRESS_LOG_SECONDS
                records, size, committed, _ = self.checkpoints.totals()
                self.log.write(
                    "replication",
                    "INFO",
                    f"Records read: {records} ({size / 1e6:.1f} MB), committed: {committed}",
                )
            exited = self.connectors.exited
            if "destination" in exited and pump is not None and pump.reading:
                # The destination is gone before the end of the input: stop the source.
                pump.destination_gone = True
                self.connectors.stop("source")
            if "destination" in exited and (pump is None or "source" in exited):
                return

    def _did_not_exit(self, role: Role, grace: float) -> None:
        self.seen.fail(
            failure(
                role,
                "system_error",
                f"The {role} closed its output but did not exit within {grace:g} s; it was stopped",
            )
        )

    def _source_ended_cleanly(self) -> bool:
        """Exit code 0 and no error of its own: only then is the destination's input complete
        (a failed source's partial streams must not complete an overwrite)."""
        if self.connectors.codes.get("source") != 0 or "source" in self.connectors.killed:
            return False
        return not any(f.failure_origin == "source" for f in self.seen.failures)
