"""The hot path: the source's stdout into the destination's stdin, counted, states held.

Each read of the source is a block of whole lines, decoded in one msgspec call
(`decode_lines` into `Envelope`s, each record's `data` left as `msgspec.Raw`). Records are
counted per stream with C-level list operations and the block is written on as the original
bytes. Lines are split and handled one by one only when the block holds something that must
not be forwarded (a LOG or TRACE message, a line that is not JSON) or that must be renamed
(a prefix or namespace rule). Writes block while the destination is slow, so the source is
slowed in turn and memory stays bounded.

`decode_lines` is lenient where a line-by-line parse is not: a message pretty-printed over
several lines, or two messages on one line, are read as messages (and relayed as printed),
where Airbyte would drop those lines. Checking that each message is on a line of its own
costs a scan of every block (measured: ~17% of the relay's time), and sources that print
such lines are broken under Airbyte already. Lines that are not JSON are dropped and logged.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from operator import attrgetter
from typing import IO, Any

import msgspec

from server.protocol import Envelope, RecordEnvelope, envelope_decoder
from server.runner.lines import LineTooLong
from server.sync.catalog import Namespacing, StreamKey
from server.sync.checkpoints import Checkpoints, descriptor_of
from server.sync.chunks import iter_chunks
from server.sync.messages import Observations, failure

_fields = msgspec.json.Decoder(dict[str, msgspec.Raw])  # a message, its payloads undecoded
_encoder = msgspec.json.Encoder()
_record = attrgetter("record")
_stream = attrgetter("stream")
_namespace = attrgetter("namespace")
_data = attrgetter("data")


def rename_record(line: bytes, target: StreamKey) -> bytes:
    """The same record under another stream name/namespace; `data` is copied as raw bytes."""
    message = _fields.decode(line)
    record = _fields.decode(message["record"])
    record["stream"] = msgspec.Raw(_encoder.encode(target[0]))
    if target[1] is None:
        record.pop("namespace", None)
    else:
        record["namespace"] = msgspec.Raw(_encoder.encode(target[1]))
    message["record"] = msgspec.Raw(_encoder.encode(record))
    return _encoder.encode(message)


class SourcePump:
    """Runs in its own thread: `run()` returns when the source's output ends or fails."""

    def __init__(
        self,
        source_out: IO[bytes],
        destination_in: IO[bytes],
        checkpoints: Checkpoints,
        observations: Observations,
        namespacing: Namespacing,
        max_line_bytes: int,
    ) -> None:
        self.source_out = source_out
        self.destination_in = destination_in
        self.checkpoints = checkpoints
        self.seen = observations
        self.namespacing = namespacing
        self.renames = namespacing.may_rename
        self.max_line_bytes = max_line_bytes
        self.last_message = time.monotonic()  # last RECORD or STATE: the source's heartbeat
        self.sending = False  # writing to the destination (the source's silence is not timed)
        self.ended = threading.Event()
        self.eof = False  # the source closed its output
        self.failed = False  # the pump failed the attempt (recorded in observations)
        self.destination_gone = False  # the destination stopped reading its input
        self.stopping = False  # set before the connectors are killed on purpose

    @property
    def reading(self) -> bool:
        """Still reading the source (its output has not ended, nothing failed)."""
        return not (self.eof or self.failed or self.destination_gone or self.ended.is_set())

    def run(self) -> None:
        try:
            for block in iter_chunks(self.source_out, self.max_line_bytes):
                out = self._block(block)
                if out is not None:
                    self.sending = True  # blocked here, it is the destination that is slow
                    self._send(out)
                    self.sending = False
                    self.last_message = time.monotonic()
            self.eof = True
        except LineTooLong as exc:
            self.failed = True
            self.seen.fail(failure("source", "system_error", str(exc)))
        except (BrokenPipeError, ConnectionResetError):
            self.destination_gone = True
        except (OSError, ValueError) as exc:
            # Pipes closed under us when the connectors were killed on purpose.
            if not self.stopping:
                self.failed = True
                self.seen.fail(failure("replication", "system_error", f"Relay error: {exc!r}"))
        except Exception as exc:
            self.failed = True
            reason = failure("replication", "system_error", f"Relay error: {exc!r}")
            reason["stacktrace"] = traceback.format_exc()
            self.seen.fail(reason)
        finally:
            self._close_destination_input()
            self.ended.set()

    def _send(self, data: bytes | memoryview) -> None:
        self.destination_in.write(data)
        # Flushed per block: a state must reach the destination now, not when a buffer fills.
        self.destination_in.flush()

    def _close_destination_input(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.destination_in.close()  # end of input: the destination can finish

    # --- one block ----------------------------------------------------------------------

    def _block(self, block: bytes | memoryview) -> bytes | memoryview | None:
        """What to forward for a block of whole lines (the block itself in the common case)."""
        try:
            envelopes = envelope_decoder.decode_lines(block)
        except msgspec.DecodeError:
            return self._lines(block)
        records: list[RecordEnvelope | None] = list(map(_record, envelopes))
        total = len(records)
        # Lines that are not records, in order: True = forward, False = drop, bytes = replace.
        edits: dict[int, bool | bytes] = {}
        renamed = False
        start = 0
        while start < total:
            try:
                end = records.index(None, start)
            except ValueError:
                end = total
            if end > start:
                segment = records if end - start == total else records[start:end]
                if not self._count(segment):
                    renamed = True
            if end < total:
                envelope = envelopes[end]
                is_state = envelope.type == "STATE" and bool(envelope.state)
                # A state is held when its place in the stream is reached: what it covers is
                # exactly what was counted before it.
                edits[end] = self._hold(envelope) if is_state else False
            start = end + 1
        if total > len(edits) or any(edit is not False for edit in edits.values()):
            self.last_message = time.monotonic()
        if not renamed and all(edit is True for edit in edits.values()):
            return block
        return self._assemble(block, envelopes, edits)

    def _assemble(
        self, block: bytes | memoryview, envelopes: list[Envelope], edits: dict[int, bool | bytes]
    ) -> bytes | None:
        lines = bytes(block).split(b"\n")
        lines.pop()  # the block ends with a newline
        out: list[bytes] = []
        for index, line in enumerate(lines):
            edit = edits.get(index, True)
            if index not in edits:  # a record
                record = envelopes[index].record
                assert record is not None
                key = (record.stream, record.namespace)
                target = self.namespacing.map(*key) if self.renames else key
                out.append(line if target == key else rename_record(line, target))
            elif edit is True:
                out.append(line)
            elif edit is False:
                if envelopes[index].type != "STATE":
                    self.seen.other("source", envelopes[index], line)
            else:
                out.append(edit)
        if not out:
            return None
        out.append(b"")
        return b"\n".join(out)

    def _count(self, segment: list[Any]) -> bool:
        """Count a run of records; False if one of them must be renamed."""
        size = len(segment)
        names = list(map(_stream, segment))
        first = names[0]
        if names.count(first) == size:
            spaces = list(map(_namespace, segment))
            space = spaces[0]
            if spaces.count(space) == size:
                counts = self.checkpoints.slot((first, space))
                counts[0] += size
                counts[1] += sum(map(len, map(_data, segment)))
                return not self.renames or self.namespacing.map(first, space) == (first, space)
        slot = self.checkpoints.slot
        same = True
        for record in segment:
            key = (record.stream, record.namespace)
            counts = slot(key)
            counts[0] += 1
            counts[1] += len(record.data)
            if self.renames and self.namespacing.map(*key) != key:
                same = False
        return same

    def _lines(self, block: bytes | memoryview) -> bytes | None:
        """The slow path, for a block that does not decode as a whole: line by line."""
        lines = bytes(block).split(b"\n")
        lines.pop()  # the block ends with a newline
        out: list[bytes] = []
        activity = False
        for line in lines:
            if not line.strip():
                continue
            try:
                envelope = envelope_decoder.decode(line)
            except msgspec.DecodeError:
                self.seen.unreadable("source", line)
                continue
            record = envelope.record
            if record is not None:
                activity = True
                key = (record.stream, record.namespace)
                counts = self.checkpoints.slot(key)
                counts[0] += 1
                counts[1] += len(record.data)
                target = self.namespacing.map(*key) if self.renames else key
                out.append(line if target == key else rename_record(line, target))
            elif envelope.type == "STATE" and envelope.state:
                activity = True
                edit = self._hold(envelope)
                if edit is not False:
                    out.append(line if edit is True else edit)
            else:
                self.seen.other("source", envelope, line)
        if activity:
            self.last_message = time.monotonic()
        if not out:
            return None
        out.append(b"")
        return b"\n".join(out)

    def _hold(self, envelope: Envelope) -> bool | bytes:
        """Hold a source state. True: forward its line as it is; False: drop it (malformed);
        bytes: forward this line instead (the stream renamed for the destination)."""
        try:
            state = msgspec.json.decode(envelope.state)
            if not isinstance(state, dict):
                raise ValueError("a state must be an object")
            return hold_state(self.checkpoints, state) or True
        except (msgspec.DecodeError, ValueError) as exc:
            self.seen.log.write("source", "WARN", f"(malformed STATE message dropped) {exc}")
            return False


def hold_state(checkpoints: Checkpoints, state: dict[str, Any]) -> bytes | None:
    """Hold a state about to be sent; returns its line for the destination if the stream must
    be renamed there, else None (send it as it is)."""
    target = checkpoints.hold(state)
    if target is None or target == descriptor_of(state):
        return None
    stream = dict(state["stream"])
    descriptor = {"name": target[0]}
    if target[1] is not None:
        descriptor["namespace"] = target[1]
    stream["stream_descriptor"] = descriptor
    return _encoder.encode({"type": "STATE", "state": {**state, "stream": stream}})
