"""The pieces of a destination's write loop below the routing (destination_core.py): the
messages it decodes, the `Batch` of one stream's record lines, the `TableWriter` an engine
provides, and the `Engine` that runs the writer's steps in order (inline, or in one worker
thread for a writer that releases the GIL) and echoes states only after their commit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from sluice_connectors.destination_tables import StreamConfig
from sluice_connectors.protocol import Output

# -- messages ---------------------------------------------------------------------------------
# gc=False: these hold no containers that could form cycles, and a batch holds many of them;
# tracking them made the collector's full passes cost more than the decoding.


class RecordHead(msgspec.Struct, gc=False):
    """A RECORD's routing fields; `data` stays undecoded for the writer to parse its own way."""

    stream: str
    data: msgspec.Raw
    emitted_at: int = 0
    namespace: str | None = None
    meta: msgspec.Raw = msgspec.Raw()  # empty when the record has none


class StreamDescriptor(msgspec.Struct, gc=False):
    name: str
    namespace: str | None = None


class StreamStatus(msgspec.Struct, gc=False):
    stream_descriptor: StreamDescriptor
    status: str


class TraceHead(msgspec.Struct, gc=False):
    type: str
    stream_status: StreamStatus | None = None


class Message(msgspec.Struct, gc=False):
    type: str
    record: RecordHead | None = None
    trace: TraceHead | None = None


class RecordMessage(msgspec.Struct, gc=False):
    record: RecordHead


message_decoder = msgspec.json.Decoder(Message)
records_decoder = msgspec.json.Decoder(list[RecordMessage])
record_decoder = msgspec.json.Decoder(RecordMessage)


def bulk(lines: list[bytes]) -> bytes:
    """One JSON array of the lines, for decoding a batch in one call."""
    return b"[" + b",".join(lines) + b"]"


# -- batches and the engine -----------------------------------------------------------------


@dataclass
class Batch:
    """Records of one stream since the last engine write: their original lines, as bytes for
    most writers, as Arrow string arrays (in order) for a writer that loads Arrow."""

    lines: list[bytes] = field(default_factory=list)
    arrays: list[Any] = field(default_factory=list)
    count: int = 0
    prepared: Any = None  # what the writer's `prepare` started for it, if it has one

    def __len__(self) -> int:
        return self.count

    def add(self, piece: Any) -> None:
        """A list of lines, or an Arrow array of them (then lines before it become one)."""
        if isinstance(piece, list):
            self.lines += piece
        else:
            self.arrow()
            self.arrays.append(piece)
        self.count += len(piece)

    def arrow(self) -> list[Any]:
        """The batch as Arrow string arrays."""
        if self.lines:
            from sluice_connectors.arrow_lines import lines_array

            self.arrays.append(lines_array(self.lines))
            self.lines = []
        return self.arrays

    def heads(self, label: str) -> list[RecordHead]:
        """Every record's routing fields, decoded in one call (`label` names the stream in
        the error about a line that does not decode)."""
        try:
            return [m.record for m in records_decoder.decode(bulk(self.lines))]
        except msgspec.DecodeError:
            for line in self.lines:  # find the line at fault, for the message
                try:
                    record_decoder.decode(line)
                except msgspec.DecodeError as exc:
                    raise ValueError(
                        f"a RECORD line of stream {label} is not an Airbyte message: {exc}"
                    ) from exc
            raise


class TableWriter(Protocol):
    # Whether write/commit may run in a thread beside the reading loop: true where the engine
    # releases the GIL for the whole statement (DuckDB), false where per-row Python work would
    # only contend with the loop for it.
    concurrent: bool
    # Whether the writer takes its batches as Arrow (Batch.arrow()) rather than lines.
    arrow: bool

    def write(self, stream: StreamConfig, batch: Batch) -> None:
        """Write one stream's batch inside the current transaction."""

    def commit(self) -> None:
        """Make everything written so far durable."""

    def finish(self, streams: list[StreamConfig]) -> None:
        """After the last commit of a successful run: move `overwrite` streams into place."""

    def close(self) -> None: ...


class Engine:
    """Runs the writer's steps in order and echoes states after their commit: inline, or (for
    a concurrent writer) in one worker thread, so the engine works while the loop reads on."""

    def __init__(self, writer: TableWriter, out: Output) -> None:
        self.writer = writer
        self.out = out
        self.error: BaseException | None = None
        self.jobs: queue.Queue[Callable[[], None] | None] | None = None
        self.thread: threading.Thread | None = None
        if writer.concurrent:
            self.jobs = queue.Queue(maxsize=2)  # bounded: at most two batches wait
            self.thread = threading.Thread(target=self._work, name="engine", daemon=True)
            self.thread.start()

    def _work(self) -> None:
        assert self.jobs is not None
        while (job := self.jobs.get()) is not None:
            if self.error is None:  # after a failure, drain without running
                try:
                    job()
                except BaseException as exc:
                    self.error = exc

    def run(self, job: Callable[[], None]) -> None:
        if self.jobs is None:
            job()
            return
        if self.error is not None:
            raise self.error
        self.jobs.put(job)

    def write(self, stream: StreamConfig, batch: Batch) -> None:
        # A writer may start converting a batch as soon as it is handed over (e.g. in a thread
        # of its own), so that work overlaps the engine's load of the batches before it.
        prepare = getattr(self.writer, "prepare", None)
        if prepare is not None:
            batch.prepared = prepare(stream, batch)
        self.run(lambda: self.writer.write(stream, batch))

    def commit(self, states: list[bytes]) -> None:
        def commit() -> None:
            self.writer.commit()
            self.echo_now(states)

        self.run(commit)

    def echo(self, states: list[bytes]) -> None:
        self.run(lambda: self.echo_now(states))

    def echo_now(self, states: list[bytes]) -> None:
        for state in states:
            self.out.raw_line(state)
        self.out.flush()

    def stop(self) -> None:
        """Wait for the queued steps; raise the first failure among them."""
        if self.thread is not None and self.jobs is not None:
            self.jobs.put(None)
            self.thread.join()
            self.thread = None
        if self.error is not None:
            raise self.error
