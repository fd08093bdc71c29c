"""What every Sluice destination shares: reading the message stream, batching records per stream,
committing in transactions, and echoing STATE messages only once what precedes them is committed.

The engine-specific part is a `TableWriter` (one per `write` run): it receives batches of the
original RECORD lines of one stream (plus each line's decoded head), writes them inside an open
transaction, commits, and at the end of a successful run swaps the `overwrite` tables into place.
The tables themselves (columns, names, sync modes) are described in destination_tables.py.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

import msgspec

from sluice_connectors.destination_tables import StreamConfig, parse_catalog
from sluice_connectors.entrypoint import Destination

# Records per commit; SLUICE_BATCH_RECORDS overrides it (tests use tiny batches).
BATCH_RECORDS = int(os.environ.get("SLUICE_BATCH_RECORDS") or 10_000)
BATCH_BYTES = 32 * 1024 * 1024
# A STATE that arrives while records are buffered waits at most this long for its commit, and
# an idle input commits at once: the platform sees states promptly even from a slow source.
STATE_WAIT_SECONDS = 1.0
IDLE_SECONDS = 0.2
READ_SIZE = 1 << 20

# -- messages ---------------------------------------------------------------------------------


class RecordHead(msgspec.Struct):
    """A RECORD's routing fields; `data` stays undecoded for the writer to parse its own way."""

    stream: str
    data: msgspec.Raw
    emitted_at: int = 0
    namespace: str | None = None
    meta: msgspec.Raw = msgspec.Raw()  # empty when the record has none


class StreamDescriptor(msgspec.Struct):
    name: str
    namespace: str | None = None


class StreamStatus(msgspec.Struct):
    stream_descriptor: StreamDescriptor
    status: str


class TraceHead(msgspec.Struct):
    type: str
    stream_status: StreamStatus | None = None


class Message(msgspec.Struct):
    type: str
    record: RecordHead | None = None
    trace: TraceHead | None = None


message_decoder = msgspec.json.Decoder(Message)


# -- the write loop ---------------------------------------------------------------------------


@dataclass
class Batch:
    """Records of one stream since the last commit: the original lines and their heads."""

    lines: list[bytes] = field(default_factory=list)
    heads: list[RecordHead] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.heads)


class TableWriter(Protocol):
    def write(self, stream: StreamConfig, batch: Batch) -> None:
        """Write one stream's batch inside the current transaction."""

    def commit(self) -> None:
        """Make everything written so far durable."""

    def finish(self, streams: list[StreamConfig]) -> None:
        """After the last commit of a successful run: move `overwrite` streams into place."""

    def close(self) -> None: ...


def input_lines(stdin: BinaryIO) -> Iterator[bytes | None]:
    """Lines of stdin without their newline; None when no input came for IDLE_SECONDS."""
    try:
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):
        for line in stdin:
            yield line.rstrip(b"\r\n")
        return
    partial: list[bytes] = []  # pieces of a line not yet ended (a huge line spans reads)
    while True:
        ready, _, _ = select.select([fd], [], [], IDLE_SECONDS)
        if not ready:
            yield None
            continue
        chunk = os.read(fd, READ_SIZE)
        if not chunk:
            break
        if b"\n" not in chunk:
            partial.append(chunk)
            continue
        lines = chunk.split(b"\n")
        if partial:
            partial.append(lines[0])
            lines[0] = b"".join(partial)
        tail = lines.pop()
        partial = [tail] if tail else []
        yield from lines
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
        self.streams = streams
        self.by_key = {(s.namespace, s.name): s for s in streams}
        by_name: dict[str, list[StreamConfig]] = {}
        for s in streams:
            by_name.setdefault(s.name, []).append(s)
        # A record whose namespace differs from the catalog's still finds a stream of its name.
        self.by_name = {name: found[0] for name, found in by_name.items() if len(found) == 1}
        self.batches: dict[tuple[str | None, str], Batch] = {}
        self.pending_states: list[bytes] = []
        self.buffered = 0
        self.buffered_bytes = 0
        self.last_commit = time.monotonic()
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
        decode = message_decoder.decode
        number = 0
        for line in input_lines(stdin):
            if line is None:
                if self.buffered:
                    self.commit()
                continue
            number += 1
            if not line.strip():
                continue
            try:
                message = decode(line)
            except msgspec.DecodeError as exc:
                raise ValueError(f"input line {number} is not an Airbyte message: {exc}") from exc
            kind = message.type
            if kind == "RECORD" and message.record is not None:
                self.add_record(message.record, line)
            elif kind == "STATE":
                if self.buffered:
                    self.pending_states.append(line)
                    if time.monotonic() - self.last_commit >= STATE_WAIT_SECONDS:
                        self.commit()
                else:
                    self.out.raw_line(line)
                    self.out.flush()
            elif kind == "TRACE" and message.trace and message.trace.stream_status:
                status = message.trace.stream_status
                descriptor = status.stream_descriptor
                found = self.by_key.get((descriptor.namespace, descriptor.name))
                found = found or self.by_name.get(descriptor.name)
                if found is not None:
                    self.statuses[(found.namespace, found.name)] = status.status
        self.commit()
        self.writer.finish(self.completed_streams())
        for stream in self.streams:
            count = self.counts.get((stream.namespace, stream.name), 0)
            self.out.log(f"stream {stream.label}: {count} records written ({stream.sync_mode})")

    def add_record(self, record: RecordHead, line: bytes) -> None:
        stream = self.stream_for(record)
        key = (stream.namespace, stream.name)
        batch = self.batches.get(key)
        if batch is None:
            batch = self.batches[key] = Batch()
        batch.lines.append(line)
        batch.heads.append(record)
        self.buffered += 1
        self.buffered_bytes += len(line)
        if (
            self.buffered >= BATCH_RECORDS
            or self.buffered_bytes >= BATCH_BYTES
            or (
                self.pending_states
                and not self.buffered % 1000
                and time.monotonic() - self.last_commit >= STATE_WAIT_SECONDS
            )
        ):
            self.commit()

    def commit(self) -> None:
        for key, batch in self.batches.items():
            if batch.lines:
                self.writer.write(self.by_key[key], batch)
                self.counts[key] = self.counts.get(key, 0) + len(batch.lines)
        self.writer.commit()
        self.batches = {}
        self.buffered = self.buffered_bytes = 0
        self.last_commit = time.monotonic()
        for state in self.pending_states:
            self.out.raw_line(state)
        self.pending_states = []
        self.out.flush()

    def completed_streams(self) -> list[StreamConfig]:
        """Streams whose data is whole. When the input carries stream statuses (a platform
        that forwards them), only a stream that reached COMPLETE is; without any, reaching
        the end of the input is the only signal there is."""
        if not self.statuses:
            return list(self.streams)
        return [s for s in self.streams if self.statuses.get((s.namespace, s.name)) == "COMPLETE"]
