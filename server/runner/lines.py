"""Split a connector's stdout into lines without ever holding more than a bound in memory.

`readline()` without a limit would buffer a runaway line whole (a connector that prints a
10 GB line would take the server down). `iter_lines` reads fixed-size chunks and stops with
`LineTooLong` as soon as one line passes `max_line_bytes`. Used by the short commands
(spec, check, discover) and by the sync relay.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from server.runner.base import ConnectorError

CHUNK_BYTES = 1 << 20  # 1 MiB reads: large enough for throughput, small next to the line bound
DEFAULT_MAX_LINE_BYTES = 64 << 20
# Lines that are not Airbyte messages logged per connector run (a sync's attempt log, a short
# command's log); the rest are counted (200,000 garbage lines made a 40 MB attempt log).
DROPPED_LINES_LOGGED = 200


def dropped_so_far(count: int) -> str:
    """Logged when the `DROPPED_LINES_LOGGED`th line is dropped."""
    return (
        f"{count} lines that are not Airbyte messages dropped so far; further ones are only counted"
    )


def dropped_in_all(count: int) -> str:
    """Logged at the end of the run when more than `DROPPED_LINES_LOGGED` were dropped."""
    return (
        f"dropped {count - DROPPED_LINES_LOGGED:,} more lines that are not Airbyte messages "
        f"({count:,} in all)"
    )


class LineTooLong(ConnectorError):
    """The connector printed a line longer than the configured bound."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The connector printed a line longer than {limit} bytes (the limit set by "
            f"SLUICE_MAX_LINE_BYTES); the run was stopped"
        )
        self.limit = limit


def iter_lines(
    stream: IO[bytes], max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[bytes]:
    """Yield each non-empty line of `stream` without its newline, as it arrives.

    Raises `LineTooLong` once a line (complete or not) passes `max_line_bytes`; at most one
    chunk plus `max_line_bytes` is ever buffered. A last line without a newline is yielded at EOF.
    """
    # read1 returns whatever is available (a line is seen as soon as it is written);
    # read() on a buffered pipe would wait for a full chunk.
    read = getattr(stream, "read1", stream.read)
    parts: list[bytes] = []  # pieces of the line not yet ended by a newline
    pending = 0
    while True:
        chunk: bytes = read(chunk_bytes)
        if not chunk:
            break
        end = chunk.find(b"\n")
        if end < 0:
            pending += len(chunk)
            if pending > max_line_bytes:
                raise LineTooLong(max_line_bytes)
            parts.append(chunk)
            continue
        if parts:
            if pending + end > max_line_bytes:
                raise LineTooLong(max_line_bytes)
            parts.append(chunk[:end])
            line = b"".join(parts)
            parts, pending = [], 0
        else:
            line = chunk[:end]
        if len(line) > max_line_bytes:
            raise LineTooLong(max_line_bytes)
        if line:
            yield line
        lines = chunk[end + 1 :].split(b"\n")
        tail = lines.pop()
        for line in lines:
            if len(line) > max_line_bytes:
                raise LineTooLong(max_line_bytes)
            if line:
                yield line
        if tail:
            if len(tail) > max_line_bytes:
                raise LineTooLong(max_line_bytes)
            parts, pending = [tail], len(tail)
    if parts:
        yield b"".join(parts)
