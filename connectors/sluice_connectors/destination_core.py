"""What every Sluice destination shares: reading the message stream, batching records per stream,
committing in transactions, and echoing STATE messages only once what precedes them is committed.

The engine-specific part is a `TableWriter` (one per `write` run; it and the `Engine` that runs
it are in destination_batches.py): it receives batches of the original RECORD lines of one
stream, writes them inside an open transaction, commits, and at the end of a successful run
swaps the `overwrite` tables into place. The tables themselves (columns,
names, sync modes) are described in destination_tables.py.

The loop does no per-record JSON work: a line that starts the way Airbyte serializers write a
record of a configured stream (`{"type":"RECORD","record":{"stream":"<name>",`) is routed by that
prefix alone, and the engine parses it once, in bulk (DuckDB in SQL, the others with one msgspec
call per batch). Every other line is decoded in full, so STATE, TRACE and records written another
way are handled exactly. A line that only looks like a record and is not valid JSON fails the
batch that holds it, clearly.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import time
from collections.abc import Iterator
from typing import Any, BinaryIO

import msgspec

# The writers import these from here; they live in destination_batches.py.
from sluice_connectors.destination_batches import (
    Batch,
    Engine,
    RecordHead,
    TableWriter,
    bulk,
    message_decoder,
    record_decoder,
)
from sluice_connectors.destination_tables import StreamConfig, parse_catalog
from sluice_connectors.entrypoint import Destination

__all__ = ["Batch", "BatchingDestination", "RecordHead", "TableWriter", "bulk", "record_decoder"]

# Records per engine write; SLUICE_BATCH_RECORDS overrides it (tests use tiny batches).
BATCH_RECORDS = int(os.environ.get("SLUICE_BATCH_RECORDS") or 100_000)
BATCH_BYTES = 32 * 1024 * 1024
# Commits (an fsync each, and for DuckDB the compression of what was written) happen only for
# states: a STATE that arrives while records are uncommitted waits at most this long for its
# commit, and an idle input commits at once, so the platform sees states promptly even from a
# slow source while a fast one gets about one commit a second.
STATE_WAIT_SECONDS = 1.0
IDLE_SECONDS = 0.2
READ_SIZE = 1 << 20
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
RECORD_PREFIX = b'{"type":"RECORD","record":{"stream":'


def input_blocks(stdin: BinaryIO) -> Iterator[bytes | None]:
    """Runs of whole lines of stdin (joined by newlines, without the last one); None when no
    input came for IDLE_SECONDS. A line longer than one read spans several reads."""
    try:
        fd: int | None = stdin.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is not None:
        # A larger pipe: fewer, fuller reads (the kernel may refuse; that is fine).
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, F_SETPIPE_SZ, READ_SIZE)
    partial: list[bytes] = []  # pieces of a line not yet ended
    while True:
        if fd is None:
            chunk = stdin.read(READ_SIZE)
        else:
            ready, _, _ = select.select([fd], [], [], IDLE_SECONDS)
            if not ready:
                yield None
                continue
            chunk = os.read(fd, READ_SIZE)
        if not chunk:
            break
        end = chunk.rfind(b"\n")
        if end < 0:
            partial.append(chunk)
            continue
        whole = chunk[:end]
        if partial:
            partial.append(whole)
            whole = b"".join(partial)
            partial = []
        yield whole
        if end + 1 < len(chunk):
            partial.append(chunk[end + 1 :])
    if partial:
        yield b"".join(partial)


class BatchingDestination(Destination):
    """A destination whose `write` is the shared loop; subclasses provide `open_writer`."""

    def open_writer(self, config: dict[str, Any], streams: list[StreamConfig]) -> TableWriter:
        raise NotImplementedError

    def write(self, config: dict[str, Any], catalog: dict[str, Any], stdin: BinaryIO) -> None:
        streams = parse_catalog(catalog)
        writer = self.open_writer(config, streams)
        try:
            Sync(self, writer, streams).run(stdin)
        finally:
            writer.close()


class Sync:
    """One `write` run: route records to batches, commit, echo states in order."""

    def __init__(
        self, destination: Destination, writer: TableWriter, streams: list[StreamConfig]
    ) -> None:
        self.out = destination.out
        self.writer = writer
        self.engine = Engine(writer, destination.out)
        self.streams = streams
        self.by_key = {(s.namespace, s.name): s for s in streams}
        by_name: dict[str, list[StreamConfig]] = {}
        for s in streams:
            by_name.setdefault(s.name, []).append(s)
        # A record whose namespace differs from the catalog's still finds a stream of its name,
        # so a name that only one stream has routes by the name alone (the record prefix).
        self.by_name = {name: found[0] for name, found in by_name.items() if len(found) == 1}
        self.by_prefix = {
            msgspec.json.encode(name): stream for name, stream in self.by_name.items()
        }
        self.single = (
            RECORD_PREFIX + next(iter(self.by_prefix)) + b"," if len(self.by_prefix) == 1 else b""
        )
        # A newline not followed by a record of the one stream: where the other lines start.
        self.other_lines = re.compile(b"\n(?!" + re.escape(self.single) + b")")
        self.batches: dict[tuple[str | None, str], Batch] = {}
        self.pending_states: list[bytes] = []
        self.first_pending = 0.0
        self.buffered = 0
        self.buffered_bytes = 0
        self.uncommitted = False  # written to the engine, not yet committed
        self.statuses: dict[tuple[str | None, str], str] = {}
        self.counts: dict[tuple[str | None, str], int] = {}

    def stream_for(self, record: RecordHead) -> StreamConfig:
        stream = self.by_key.get((record.namespace or None, record.stream)) or self.by_name.get(
            record.stream
        )
        if stream is None:
            known = ", ".join(s.label for s in self.streams) or "none"
            where = f"{record.namespace}.{record.stream}" if record.namespace else record.stream
            raise ValueError(
                f"received a record of stream {where!r}, which is not in the configured "
                f"catalog (configured: {known})"
            )
        return stream

    def run(self, stdin: BinaryIO) -> None:
        try:
            number = 0
            for block in input_blocks(stdin):
                if block is None:
                    if self.buffered or self.uncommitted:
                        self.commit()
                    continue
                number += self.read_block(block, number)
                self.buffered_bytes += len(block)
                if self.buffered_bytes >= BATCH_BYTES:
                    self.flush()
                if (
                    self.pending_states
                    and time.monotonic() - self.first_pending >= STATE_WAIT_SECONDS
                ):
                    self.commit()
            self.commit()
        finally:
            self.engine.stop()
        self.writer.finish(self.completed_streams())
        for stream in self.streams:
            count = self.counts.get((stream.namespace, stream.name), 0)
            self.out.log(f"stream {stream.label}: {count} records written ({stream.sync_mode})")

    def read_block(self, block: bytes, number: int) -> int:
        """Route a block of lines (the first is line `number + 1`); returns how many."""
        if self.single and self.writer.arrow:
            return self.read_arrow_block(block, number)
        lines = block.split(b"\n")
        if self.single:
            self.read_single_stream(block, lines, number)
            return len(lines)
        by_prefix, start = self.by_prefix, len(RECORD_PREFIX)
        run: list[bytes] = []  # consecutive records of one stream, added together
        run_stream: StreamConfig | None = None
        for offset, line in enumerate(lines, number + 1):
            stream = None
            if line.startswith(RECORD_PREFIX):
                stream = by_prefix.get(line[start : line.find(b",", start)])
            if stream is not None:
                if stream is not run_stream:
                    if run_stream is not None:
                        self.add_lines(run_stream, run)
                    run_stream, run = stream, []
                run.append(line)
                continue
            if run_stream is not None:  # what came before this line goes first
                self.add_lines(run_stream, run)
                run_stream, run = None, []
            self.read_message(line, offset)
        if run_stream is not None:
            self.add_lines(run_stream, run)
        return len(lines)

    def read_single_stream(self, block: bytes, lines: list[bytes], number: int) -> None:
        """A catalog of one stream: find the few lines that are not its records with one scan
        of the block (a regular expression), and add the runs between them as they are."""
        stream = self.by_prefix[self.single[len(RECORD_PREFIX) : -1]]
        if block.startswith(self.single) and block.count(b"\n" + self.single) == len(lines) - 1:
            self.add_lines(stream, lines)  # the common block: all records
            return
        done = 0  # lines of the block handled so far
        index, position = 0, 0  # line index of byte `position`
        others = [] if block.startswith(self.single) else [0]
        others += [m.start() + 1 for m in self.other_lines.finditer(block)]
        for start in others:
            index += block.count(b"\n", position, start)
            position = start
            if index > done:
                self.add_lines(stream, lines[done:index])
            self.read_message(lines[index], number + index + 1)
            done = index + 1
        if done < len(lines):
            self.add_lines(stream, lines[done:] if done else lines)

    def read_arrow_block(self, block: bytes, number: int) -> int:
        """As read_single_stream, for a writer that takes Arrow: the block becomes one array
        (no object per line) and the records between other lines are slices of it."""
        from sluice_connectors.arrow_lines import line_at, lines_without, split_block

        stream = self.by_prefix[self.single[len(RECORD_PREFIX) : -1]]
        array, offsets = split_block(block)
        done = 0
        for index in lines_without(block, offsets, self.single):
            if index > done:
                self.add_lines(stream, array[done:index])
            self.read_message(line_at(block, offsets, index), number + index + 1)
            done = index + 1
        if done < len(array):
            self.add_lines(stream, array[done:] if done else array)
        return len(array)

    def read_message(self, line: bytes, number: int) -> None:
        """A line that is not a record in the usual layout: decoded in full."""
        if not line.strip():
            return
        try:
            message = message_decoder.decode(line)
        except msgspec.DecodeError as exc:
            raise ValueError(f"input line {number} is not an Airbyte message: {exc}") from exc
        kind = message.type
        if kind == "RECORD" and message.record is not None:
            self.add_lines(self.stream_for(message.record), [line])
        elif kind == "STATE":
            if self.buffered or self.uncommitted:
                if not self.pending_states:
                    self.first_pending = time.monotonic()
                self.pending_states.append(line)
            else:
                self.engine.echo([line])
        elif kind == "TRACE" and message.trace and message.trace.stream_status:
            status = message.trace.stream_status
            descriptor = status.stream_descriptor
            found = self.by_key.get((descriptor.namespace, descriptor.name))
            found = found or self.by_name.get(descriptor.name)
            if found is not None:
                self.statuses[(found.namespace, found.name)] = status.status

    def add_lines(self, stream: StreamConfig, lines: Any) -> None:
        """Add record lines (a list of bytes, or an Arrow array) to the stream's batch."""
        key = (stream.namespace, stream.name)
        while len(lines):
            batch = self.batches.get(key)
            if batch is None:
                batch = self.batches[key] = Batch()
            room = BATCH_RECORDS - self.buffered
            taken = lines if len(lines) <= room else lines[:room]
            batch.add(taken)
            self.buffered += len(taken)
            lines = lines[len(taken) :]
            if self.buffered >= BATCH_RECORDS:
                self.flush()

    def flush(self) -> None:
        """Hand the buffered batches to the engine (inside the open transaction)."""
        for key, batch in self.batches.items():
            if len(batch):
                self.engine.write(self.by_key[key], batch)
                self.counts[key] = self.counts.get(key, 0) + len(batch)
                self.uncommitted = True
        self.batches = {}
        self.buffered = self.buffered_bytes = 0

    def commit(self) -> None:
        self.flush()
        self.engine.commit(self.pending_states)
        self.pending_states = []
        self.uncommitted = False

    def completed_streams(self) -> list[StreamConfig]:
        """Streams whose data is whole. When the input carries stream statuses (a platform
        that forwards them), only a stream that reached COMPLETE is; without any, reaching
        the end of the input is the only signal there is."""
        if not self.statuses:
            return list(self.streams)
        return [s for s in self.streams if self.statuses.get((s.namespace, s.name)) == "COMPLETE"]
