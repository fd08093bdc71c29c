"""A container's output, from its attach stream to the `.stdout` pipe the caller reads.

Docker multiplexes stdout and stderr on the attach connection in frames with an 8-byte
header. `OutputPump`'s thread copies stdout frames into an os.pipe() and appends stderr frames
to the run's log file; once the container is being removed it drops what is left instead of
waiting on a full pipe (a relay that stopped reading would otherwise hold every kill up).

The engine ends the attach stream only when the container exits, never when the connector
closes its stdout alone (checked against the engine, stdout-only attach included: the stream
stays open while the process lives). A local process's caller sees EOF then; here a watcher
thread asks the container instead, once its stdout has been quiet for a while: a `docker
exec` of a POSIX sh script (builtins only) that looks for any process other than the init
(docker-init, PID 1, which keeps the stdout pipe open for its whole life) holding the stdout
pipe, the way the pipe's reader would see EOF. When none does, the pipe is closed for the
caller. Whenever the answer is unsure (no sh in the image, /proc of a process of another user
unreadable, the engine refusing the exec), the stream is left open as before: the attempt
then fails at the heartbeat timeout instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from typing import IO, Any, BinaryIO

log = logging.getLogger("sluice.runner.docker")

PIPE_BUFFER = 1 << 20
STDOUT_FRAME, STDERR_FRAME = 1, 2
F_SETPIPE_SZ = 1031  # Linux: a 1 MiB pipe lets the pump run ahead of a slow reader
# A stdout pipe that has stayed full this long after the container exited has no reader:
# the rest of the output is dropped rather than waited for.
UNREAD_OUTPUT_SECONDS = 1.0
PIPE_POLL_SECONDS = 0.1
# The container is asked whether its stdout is still open after this much quiet, then
# after twice as long each time it still is, up to the maximum (each ask is one exec).
PROBE_AFTER_SECONDS = 1.0
PROBE_MAX_SECONDS = 30.0
# Output the connector wrote before it closed stdout may still be on its way through the
# engine when the answer comes: the pipe is closed only if nothing arrived meanwhile.
PROBE_SETTLE_SECONDS = 0.5

# Exit 0: no process but PID 1 holds the stdout pipe; 1: one does; 3: cannot tell. `-ef`
# compares the pipes' inodes through /proc/<pid>/fd (dash, bash and busybox all have it).
STDOUT_PROBE = r"""
t=/proc/1/fd/1
[ -e "$t" ] || exit 3
for p in /proc/[0-9]*; do
  case "${p#/proc/}" in 1|$$) continue;; esac
  set -- "$p"/fd/*
  if [ "$1" = "$p/fd/*" ] && [ ! -e "$1" ]; then
    read -r s < "$p/stat" 2>/dev/null || continue
    case "${s##*") "}" in Z*|X*) continue;; esac
    exit 3
  fi
  for f; do [ "$f" -ef "$t" ] && exit 1; done
done
exit 0
"""
Probe = Callable[[], "bool | None"]  # True: stdout closed; False: open; None: cannot tell


def stdout_probe(api: Any, container_id: str) -> Probe:
    """Asks the running container whether its stdout is closed (see STDOUT_PROBE)."""

    def probe() -> bool | None:
        import docker.errors

        try:
            exec_id = api.exec_create(container_id, ["sh", "-c", STDOUT_PROBE])["Id"]
            api.exec_start(exec_id)
            code = api.exec_inspect(exec_id).get("ExitCode")
        except docker.errors.DockerException as exc:  # gone, not running, engine refused
            log.debug("stdout probe of %s failed: %s", container_id[:12], exc)
            return None
        return {0: True, 1: False}.get(code)

    return probe


class OutputPump:
    """The pump and watcher threads of one container; `.stdout` is the caller's end."""

    def __init__(
        self, attach: Any, log_file: BinaryIO | None, probe: Probe | None, name: str
    ) -> None:
        self._attach = attach
        self._log = log_file
        self._probe = probe
        self.dropping = threading.Event()  # set once the container is being removed
        self._done = threading.Event()  # the attach stream ended
        self._pipe_full_since: float | None = None
        # Guards the write end and the frame state between the pump and the watcher: the
        # watcher closes the pipe only between stdout frames, never under a write.
        self._lock = threading.Lock()
        self._stdout_open = True
        self._in_stdout_frame = False
        self._stdout_frames = 0
        self._last_stdout = time.monotonic()
        read_fd, self._write_fd = os.pipe()
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._write_fd, F_SETPIPE_SZ, PIPE_BUFFER)
        os.set_blocking(self._write_fd, False)  # a full pipe is waited on in `_write_stdout`
        self.stdout: IO[bytes] = os.fdopen(read_fd, "rb", buffering=PIPE_BUFFER)
        self._pump = threading.Thread(target=self._demultiplex, name=f"{name}-output")
        self._pump.daemon = True
        self._watch = threading.Thread(target=self._watch_stdout, name=f"{name}-stdout")
        self._watch.daemon = True

    def start(self) -> None:
        self._pump.start()
        if self._probe is not None:
            self._watch.start()

    def is_alive(self) -> bool:
        return self._pump.is_alive()

    def join(self, timeout: float) -> None:
        self._pump.join(timeout)

    def join_output(self, timeout: float) -> None:
        """Wait for the rest of the output to reach the pipe, but not for a reader that has
        stopped reading (the pipe stays full)."""
        deadline = time.monotonic() + timeout
        while self._pump.is_alive() and time.monotonic() < deadline:
            self._pump.join(PIPE_POLL_SECONDS)
            full_since = self._pipe_full_since
            if full_since is not None and time.monotonic() - full_since > UNREAD_OUTPUT_SECONDS:
                return

    def _demultiplex(self) -> None:
        """Copy stdout frames into the pipe and stderr frames into the log, until EOF."""
        reader = io.BufferedReader(self._attach, PIPE_BUFFER)
        discard_stdout = False  # the caller closed .stdout: keep draining, drop the bytes
        try:
            while True:
                header = reader.read(8)
                if len(header) < 8:
                    return
                kind, remaining = header[0], int.from_bytes(header[4:8], "big")
                to_pipe = kind == STDOUT_FRAME and self._begin_stdout_frame()
                while remaining:
                    data = reader.read(min(remaining, PIPE_BUFFER))
                    if not data:
                        return
                    remaining -= len(data)
                    if to_pipe and not discard_stdout:
                        discard_stdout = not self._write_stdout(data)
                    elif kind == STDERR_FRAME and self._log is not None:
                        self._log.write(data)
                if to_pipe:
                    with self._lock:
                        self._in_stdout_frame = False
                        self._last_stdout = time.monotonic()
        except (OSError, ValueError):
            return  # the connection was closed by kill()
        finally:
            self._done.set()
            with self._lock:
                self._in_stdout_frame = False
                self._close_stdout()
            if self._log is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._log.flush()

    def _begin_stdout_frame(self) -> bool:
        with self._lock:
            self._stdout_frames += 1
            self._last_stdout = time.monotonic()
            if not self._stdout_open:
                # Should not happen: the probe found no writer left. Said, not hidden.
                log.warning("stdout output after the container's stdout was closed: dropped")
                return False
            self._in_stdout_frame = True
            return True

    def _close_stdout(self) -> None:
        """With the lock held."""
        if self._stdout_open:
            self._stdout_open = False
            os.close(self._write_fd)

    def _write_stdout(self, data: bytes) -> bool:
        """Into the pipe, waiting while it is full; False once nobody will read the rest
        (the caller closed `.stdout`, or the container is being removed)."""
        view = memoryview(data)
        try:
            while view:
                try:
                    view = view[os.write(self._write_fd, view) :]
                    self._pipe_full_since = None
                except BlockingIOError:
                    if self.dropping.is_set():
                        return False
                    if self._pipe_full_since is None:
                        self._pipe_full_since = time.monotonic()
                    select.select([], [self._write_fd], [], PIPE_POLL_SECONDS)
        except BrokenPipeError:
            return False
        return True

    def _watch_stdout(self) -> None:
        """Close the pipe for the caller once no process in the container holds stdout."""
        assert self._probe is not None
        quiet_for = PROBE_AFTER_SECONDS
        probed_at: int | None = None  # the stdout frame count when last asked
        while not self._stopped(PIPE_POLL_SECONDS * 5):
            with self._lock:
                if not self._stdout_open:
                    return
                frames, busy = self._stdout_frames, self._in_stdout_frame
                quiet = time.monotonic() - self._last_stdout
            if probed_at is not None and frames != probed_at:
                quiet_for, probed_at = PROBE_AFTER_SECONDS, None  # output came: start over
            if busy or quiet < quiet_for:
                continue
            probed_at = frames
            closed = self._probe()
            if not closed or self._stopped(PROBE_SETTLE_SECONDS):
                # Open or unsure: ask again after twice the quiet, unless output comes.
                quiet_for = min(PROBE_MAX_SECONDS, quiet + quiet_for)
                continue
            with self._lock:
                if self._stdout_frames == frames and not self._in_stdout_frame:
                    log.info("the connector closed its stdout; its container still runs")
                    self._close_stdout()
                    return

    def _stopped(self, wait: float) -> bool:
        return self.dropping.wait(wait) or self._done.is_set()
