"""Reading the destination's output: echoed states are committed, the rest is logged."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import IO

import msgspec

from server.jobs.attempts import failure
from server.protocol import MALFORMED, UNREADABLE, envelope_decoder
from server.runner.lines import LineTooLong, iter_lines
from server.sync.checkpoints import Checkpoints
from server.sync.messages import Observations
from server.sync.states import StateList, decode_state


class _StopReading(Exception):
    pass


class DestinationReader:
    """Runs in its own thread: `run()` returns when the destination's output ends."""

    def __init__(
        self,
        destination_out: IO[bytes],
        checkpoints: Checkpoints,
        observations: Observations,
        commit_state: Callable[[StateList], None],  # gets the stored form
        max_line_bytes: int,
        commit_seconds: float = 0.0,
    ) -> None:
        self.destination_out = destination_out
        self.checkpoints = checkpoints
        self.seen = observations
        self.commit_state = commit_state
        self.max_line_bytes = max_line_bytes
        self.ended = threading.Event()
        self.failed = False
        self.stopping = False
        self.commits = 0
        self.unmatched = 0
        # Saves are spaced by `commit_seconds` (as Airbyte flushes state periodically): the
        # latest confirmed state waits in `pending` until `flush` or the next echo saves it.
        self.commit_seconds = commit_seconds
        self.pending: StateList | None = None
        self._last_commit = 0.0
        self._commit_lock = threading.Lock()

    def run(self) -> None:
        try:
            for line in iter_lines(self.destination_out, self.max_line_bytes):
                try:
                    envelope = envelope_decoder.decode(line)
                except UNREADABLE:
                    self.seen.unreadable("destination", line)
                    continue
                if envelope.type == "STATE" and envelope.state:
                    self._echoed(envelope.state, line)
                else:
                    self.seen.other("destination", envelope, line)
        except LineTooLong as exc:
            self.failed = True
            self.seen.fail(failure("destination", "system_error", str(exc)))
        except _StopReading:
            self.failed = True
        except (OSError, ValueError) as exc:
            if not self.stopping:
                self.failed = True
                self.seen.fail(failure("replication", "system_error", f"Relay error: {exc!r}"))
        finally:
            self.flush()  # what the destination confirmed is saved, whatever else happened
            self.ended.set()

    def _echoed(self, raw: msgspec.Raw, line: bytes) -> None:
        try:
            full = self.checkpoints.echoed(decode_state(raw))
        except MALFORMED as exc:
            self.seen.drop("destination", "WARN", f"(malformed STATE message: {exc})", line)
            return
        if full is None:
            # Only a state the source emitted and the destination confirmed may be saved.
            self.unmatched += 1
            self.seen.log.write(
                "replication",
                "WARN",
                "The destination emitted a state that was not sent to it (or was already "
                "confirmed); ignored",
            )
            return
        with self._commit_lock:
            self.pending = full
        if time.monotonic() - self._last_commit >= self.commit_seconds and not self.flush():
            raise _StopReading

    def flush(self) -> bool:
        """Save the pending state, if any (from the reader or the watcher thread). False if
        saving failed: the attempt fails, since what is committed can no longer be known."""
        with self._commit_lock:
            full, self.pending = self.pending, None
            if full is None:
                return True
            try:
                self.commit_state(full)
            except Exception as exc:
                reason = failure(
                    "persistence",
                    "system_error",
                    f"Could not save the connection's state: {exc!r}",
                    stacktrace=traceback.format_exc(),
                )
                self.seen.fail(reason)
                self.failed = True
                return False
            self.commits += 1
            self._last_commit = time.monotonic()
            return True

    def flush_if_due(self) -> bool:
        if self.pending is not None and time.monotonic() - self._last_commit >= self.commit_seconds:
            return self.flush()
        return True
