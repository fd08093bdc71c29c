"""Reading an attempt's log file for a face that shows it as it grows (the web UI's live log).

An attempt's log is a text file under the data directory, written line by line by the worker
with secrets already masked. Readers take whole lines only: a line still being written stays
for the next read. Lines are bounded (a connector that printed a blob is cut), and so is one
read, so a huge log never loads whole.
"""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
import msgspec

from server.context import Context

MAX_READ = 1 << 20  # bytes one read takes at most
MAX_LINE = 64 << 10  # longer lines are cut (as jobs/get cuts them)
TAIL_BYTES = 256 << 10  # what a page shows of a log's end before it tails


class LogChunk(msgspec.Struct, frozen=True):
    lines: list[str]
    offset: int  # where the next read starts (after the last whole line read)
    skipped: bool = False  # the start of the log was left out (a tail)


def _line(raw: bytes) -> str:
    text = raw[:MAX_LINE].decode("utf-8", "replace").rstrip("\r")
    return text if len(raw) <= MAX_LINE else f"{text}... ({len(raw)} bytes, cut)"


def _read(path: Path, offset: int, tail: bool) -> LogChunk:
    try:
        file = path.open("rb")
    except OSError:
        return LogChunk([], offset)
    with file:
        end = file.seek(0, 2)
        start = max(offset, end - TAIL_BYTES) if tail else offset
        if start > end:
            start = end  # the file was replaced by a shorter one: nothing to repeat
        file.seek(start)
        data = file.read(MAX_READ)
    cut = data.rfind(b"\n")
    whole = data[: cut + 1] if cut >= 0 else b""
    if not whole and len(data) >= MAX_READ:
        whole = data  # one line longer than a read: take it as it is
    lines = whole.splitlines()
    skipped = start > offset
    if skipped and lines and start > 0:
        lines = lines[1:]  # probably the end of a line cut by the tail
    return LogChunk([_line(raw) for raw in lines], start + len(whole), skipped)


def log_path(ctx: Context, relative: str) -> Path:
    return ctx.settings.data_path / relative


async def read_log(ctx: Context, relative: str, offset: int = 0, tail: bool = False) -> LogChunk:
    """Whole lines of the log from byte `offset` (with `tail`, at most its last
    `TAIL_BYTES`), and where the next read starts."""
    return await anyio.to_thread.run_sync(_read, log_path(ctx, relative), offset, tail)
