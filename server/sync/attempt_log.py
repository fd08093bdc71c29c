"""The attempt's log file, its one owner: every line is
`<ISO time> <source|destination|replication|platform> <LEVEL> <message>`, masked.

Connectors' stderr goes (through the runner) to a file per connector in the job directory;
`StderrTail` copies its new lines into the attempt log with the connector's name, and keeps
the last ones for the failure reason of a connector that exits badly.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from server.domain.secrets import mask_text

MAX_MESSAGE_CHARS = 64 * 1024  # one log entry; longer ones are cut (a connector may dump data)
TAIL_LINES = 20


def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_line(origin: str, level: str, message: str, secrets: Sequence[str] = ()) -> str:
    """One line of an attempt's log: masked, cut at `MAX_MESSAGE_CHARS`, with its newline."""
    if secrets:
        message = mask_text(message, secrets)
    if len(message) > MAX_MESSAGE_CHARS:
        cut = len(message) - MAX_MESSAGE_CHARS
        message = f"{message[:MAX_MESSAGE_CHARS]}... ({cut} more characters not logged)"
    return f"{timestamp()} {origin} {level.upper()} {message.rstrip()}\n"


def append_line(path: Path, origin: str, level: str, message: str) -> None:
    """Add one line to an attempt's log outside a running attempt (the worker's own lines:
    it starts, it ended, the server stopped). Platform messages hold no secret values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", errors="replace") as file:
        file.write(log_line(origin, level, message))


class AttemptLog:
    """Appends to the attempt's log from several threads; flushed by the caller's clock."""

    def __init__(self, path: Path, secrets: Sequence[str] = ()) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.secrets = sorted(set(secrets), key=len, reverse=True)
        self._file: IO[str] = path.open("a", encoding="utf-8", errors="replace")
        self._lock = threading.Lock()
        # Recent lines per origin: the "last lines" of a connector that failed.
        self.recent: dict[str, deque[str]] = {}

    def mask(self, text: str) -> str:
        return mask_text(text, self.secrets) if self.secrets else text

    def write(self, origin: str, level: str, message: str) -> None:
        line = log_line(origin, level, message, self.secrets)
        with self._lock:
            if not self._file.closed:
                self._file.write(line)
            if origin != "replication":
                # The message as logged: after the time, origin and level.
                text = line.split(" ", 3)[3].rstrip("\n")
                self.recent.setdefault(origin, deque(maxlen=TAIL_LINES)).append(text)

    def last_lines(self, origin: str) -> str:
        with self._lock:
            return "\n".join(self.recent.get(origin, ()))

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class StderrTail:
    """Copies what a connector wrote to its stderr file into the attempt log."""

    def __init__(self, path: Path, origin: str, log: AttemptLog) -> None:
        self.path = path
        self.origin = origin
        self.log = log
        self._offset = 0
        self._partial = b""

    def poll(self, final: bool = False) -> None:
        try:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                data = file.read(4 * MAX_MESSAGE_CHARS)
                while data:
                    self._offset += len(data)
                    self._lines(self._partial + data)
                    data = file.read(4 * MAX_MESSAGE_CHARS)
        except FileNotFoundError:
            return
        if final and self._partial:
            self._emit(self._partial)
            self._partial = b""

    def _lines(self, data: bytes) -> None:
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > MAX_MESSAGE_CHARS:  # a runaway line: log it in pieces
            lines.append(self._partial)
            self._partial = b""
        for line in lines:
            self._emit(line)

    def _emit(self, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").rstrip()
        if text:
            # Airbyte logs a connector's stderr at ERROR: it is where tracebacks go.
            self.log.write(self.origin, "ERROR", text)
