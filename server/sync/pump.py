"""The hot path: the source's stdout into the destination's stdin, counted, states held.

Each read of the source is a block of whole lines, decoded in one msgspec call
(`decode_lines` into `Envelope`s, each record's `data` left as `msgspec.Raw`). A block of
only records and states (the common case) is counted per stream with C-level list
operations, its states are held, and it is written on as the original bytes. Any other block
(a LOG or TRACE message, a line that is not JSON, a malformed state, or a prefix/namespace
rule that renames streams) is taken line by line, as the protocol reads it: messages that
are not for the destination are dropped, renamed records are re-encoded around their
undecoded `data`. Records of a stream with mappers are decoded, mapped and re-encoded
(server.sync.mapped); a block without any keeps the byte path. Writes block while the
destination is slow, so the source is slowed in turn and memory stays bounded.

In a block of only records and states, `decode_lines` is more lenient than a line-by-line
parse: a record or state pretty-printed over several lines, or two on one line, are relayed
as printed, where Airbyte would drop those lines. Checking that every message has a line of
its own costs a scan of every block (measured: ~17% of the relay's time), and a source that
prints such lines is broken under Airbyte already.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from operator import attrgetter
from typing import IO, Any, cast

import msgspec

from server.jobs.attempts import failure
from server.protocol import (
    MALFORMED,
    UNREADABLE,
    AirbyteStateMessage,
    AirbyteTraceMessage,
    Envelope,
    RecordEnvelope,
    decode_payload,
    envelope_decoder,
)
from server.runner.lines import LineTooLong
from server.sync.catalog import Namespacing, StreamKey
from server.sync.checkpoints import Checkpoints, hold_state
from server.sync.chunks import iter_chunks
from server.sync.mapped import (
    MappedRecordEnvelope,
    RecordMapper,
    assemble_parts,
    mapped_envelopes,
    one_stream,
    rename_record,
    replace_lines,
    segments,
    state_lines,
)
from server.sync.messages import Observations
from server.sync.states import decode_state

_encoder = msgspec.json.Encoder()
_record = attrgetter("record")
_stream = attrgetter("stream")
_namespace = attrgetter("namespace")
_data = attrgetter("data")


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
        self.mapper = RecordMapper(namespacing.mappers, checkpoints.filtered)
        self.mapped_keys = set(namespacing.mappers)
        # With mapped streams, blocks are decoded with the fields a re-written record keeps.
        self.decoder = cast(
            "msgspec.json.Decoder[Envelope]", mapped_envelopes if self.mapper else envelope_decoder
        )
        self.max_line_bytes = max_line_bytes
        self.last_message = time.monotonic()  # last RECORD or STATE: the source's heartbeat
        self.sending = False  # writing to the destination (the source's silence is not timed)
        self.send_started = 0.0
        self.ended = threading.Event()
        self.eof = False  # the source closed its output
        self.failed = False  # the pump failed the attempt (recorded in observations)
        self.destination_gone = False  # the destination stopped reading its input
        self.stopping = False  # set before the connectors are killed on purpose
        self.complete: set[StreamKey] = set()  # streams the source reported COMPLETE

    @property
    def reading(self) -> bool:
        """Still reading the source (its output has not ended, nothing failed)."""
        return not (self.eof or self.failed or self.destination_gone or self.ended.is_set())

    def run(self) -> None:
        try:
            for block in iter_chunks(self.source_out, self.max_line_bytes):
                out = self._block(block)
                if out is not None:
                    self.send_started = time.monotonic()
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
            reason = failure(
                "replication",
                "system_error",
                f"Relay error: {exc!r}",
                stacktrace=traceback.format_exc(),
            )
            self.seen.fail(reason)
        finally:
            # The destination's input is not closed here: an end of input reads as a complete
            # sync to a destination (an overwrite would swap in a partial table), so the relay
            # closes it only once the source has exited cleanly, and kills it otherwise.
            self.ended.set()

    def _send(self, data: bytes | memoryview) -> None:
        self.destination_in.write(data)
        # Flushed per block: a state must reach the destination now, not when a buffer fills.
        self.destination_in.flush()

    def close_destination_input(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.destination_in.close()  # end of input: the destination can finish

    # --- one block ----------------------------------------------------------------------

    def _block(self, block: bytes | memoryview) -> bytes | memoryview | None:
        """What to forward for a block of whole lines (the block itself in the common case)."""
        if self.renames and not self.mapper:
            return self._lines(block)  # every record is rewritten
        try:
            envelopes = self.decoder.decode_lines(block)
        except UNREADABLE:
            return self._lines(block)  # a line that is not JSON: take them one by one
        records: list[RecordEnvelope | None] = list(map(_record, envelopes))
        states = self._states(envelopes, records)
        if states is None:
            return self._lines(block)  # lines to drop or rewrite: take them one by one
        if self.mapper:
            return self._mapped(block, envelopes, records, states)
        self._scan(records, states)
        return block

    def _mapped(
        self,
        block: bytes | memoryview,
        envelopes: list[Envelope],
        records: list[RecordEnvelope | None],
        states: dict[int, AirbyteStateMessage],
    ) -> bytes | memoryview | None:
        """A block of records and states, some maybe of mapped streams (mostly one's)."""
        found, bounds, positions = segments(records, states)
        key = one_stream(found)
        if self.renames and (key is None or key not in self.mapped_keys):
            return self._lines(block)  # records that are not mapped are renamed one by one
        if not found or (key is not None and key not in self.mapped_keys):
            self._scan(records, states)
            return block
        target = self.namespacing.map(*key) if self.renames and key else None
        if key is not None:  # one mapped stream: its lines by parts, the states between
            lines = state_lines(block, envelopes, positions)
            if lines is None:
                return self._several(block, records, states, target)
            mapped = cast("list[MappedRecordEnvelope]", found)  # records `self.decoder` read
            # Mapped first: a held state then counts no dropped record as committed.
            parts = self.mapper.map_segments(mapped, key, target or key, bounds)
            renamed = self._scan(records, states)  # states under the destination's names
            return assemble_parts(parts, [renamed.get(p) or lines[p] for p in positions])
        return self._several(block, records, states, target)

    def _several(
        self,
        block: bytes | memoryview,
        records: list[RecordEnvelope | None],
        states: dict[int, AirbyteStateMessage],
        target: StreamKey | None,
    ) -> bytes | memoryview | None:
        """A block by its lines: mapped records are mapped, other lines go on as printed."""
        mapped_keys, pairs = self.mapped_keys, enumerate(records)
        places = [i for i, r in pairs if r and (r.stream, r.namespace) in mapped_keys]
        found = cast("list[MappedRecordEnvelope]", [records[i] for i in places])
        every = bytes(block).split(b"\n")
        if len(every) - 1 != len(records):
            return self._lines(block)
        lines = self.mapper.map_records(found, target)  # before the states are held
        renamed = self._scan(records, states)
        every = [renamed.get(i, line) for i, line in enumerate(every)] if renamed else every
        return replace_lines(every[:-1], places, lines)

    def _states(
        self, envelopes: list[Envelope], records: list[RecordEnvelope | None]
    ) -> dict[int, AirbyteStateMessage] | None:
        """The block's states by position, parsed, if all its other messages are records;
        None if it holds anything else (a LOG, a TRACE, a malformed state)."""
        states: dict[int, AirbyteStateMessage] = {}
        start = 0
        while True:
            try:
                index = records.index(None, start)  # C-level: the records are skipped
            except ValueError:
                return states
            state = _state(envelopes[index])
            if state is None:
                return None
            states[index] = state
            start = index + 1

    def _scan(
        self, records: list[RecordEnvelope | None], states: dict[int, AirbyteStateMessage]
    ) -> dict[int, bytes]:
        """Count the records and hold the states of a block of only those, in order; the
        lines of states to send renamed (by place), when the destination's names differ."""
        total = len(records)
        start = 0
        renamed: dict[int, bytes] = {}
        while start < total:
            end = next(iter(states), total)
            if end > start:
                self._count(records if end - start == total else records[start:end])
            if end < total:
                # A state is held when its place in the stream is reached: what it covers is
                # exactly what was counted before it.
                line = hold_state(self.checkpoints, states.pop(end))
                if line is not None:
                    renamed[end] = line
            start = end + 1
        if total:
            self.last_message = time.monotonic()
        return renamed

    def _count(self, segment: list[Any]) -> None:
        """Count a run of records: C-level passes when they are all of one stream."""
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
                return
        slot = self.checkpoints.slot
        for record in segment:
            counts = slot((record.stream, record.namespace))
            counts[0] += 1
            counts[1] += len(record.data)

    def _lines(self, block: bytes | memoryview) -> bytes | None:
        """The careful path, line by line: drop what is not for the destination, rename."""
        lines = bytes(block).split(b"\n")
        lines.pop()  # the block ends with a newline
        out: list[bytes] = []
        activity = False
        slot = self.checkpoints.slot
        rename = self.namespacing.map if self.renames else None
        for line in lines:
            if not line or line.isspace():
                continue
            try:
                envelope = envelope_decoder.decode(line)
            except UNREADABLE:
                if not self.stopping:  # else: the last line, cut when the source was killed
                    self.seen.unreadable("source", line)
                continue
            record = envelope.record
            if record is not None:
                activity = True
                key = (record.stream, record.namespace)
                counts = slot(key)
                counts[0] += 1
                counts[1] += len(record.data)
                target = rename(*key) if rename else key
                if key in self.mapped_keys:  # the same line, read with more fields
                    full = cast(MappedRecordEnvelope, mapped_envelopes.decode(line).record)
                    mapped = self.mapper.map_records([full], None if target == key else target)
                    out += filter(None, mapped)
                else:
                    out.append(line if target == key else rename_record(line, target))
            elif envelope.type == "STATE" and envelope.state:
                activity = True
                edit = self._hold(envelope, line)
                if edit is not False:
                    out.append(line if edit is True else edit)
            else:
                self.seen.other("source", envelope, line)
                status = self._stream_status(envelope, line)
                if status is not None:
                    out.append(status)
        if activity:
            self.last_message = time.monotonic()
        if not out:
            return None
        out.append(b"")
        return b"\n".join(out)

    def _stream_status(self, envelope: Envelope, line: bytes) -> bytes | None:
        """A stream status trace goes on to the destination as well (as Airbyte's platform
        does): a destination completes a stream's overwrite only for a COMPLETE stream."""
        if envelope.type != "TRACE" or not envelope.trace:
            return None
        try:
            trace = decode_payload(envelope.trace, AirbyteTraceMessage)
        except MALFORMED:
            return None
        status = trace.stream_status
        if trace.type != "STREAM_STATUS" or status is None:
            return None
        key = (status.stream_descriptor.name, status.stream_descriptor.namespace)
        if status.status == "COMPLETE":
            self.complete.add(key)
        target = self.namespacing.map(*key) if self.renames else key
        return line if target == key else stream_status_line(target, status.status)

    def mark_incomplete(self, streams: list[StreamKey]) -> None:
        """Tell the destination that the streams the source did not finish are INCOMPLETE,
        before its input ends: it then keeps what it was sent (committing up to the last
        state) but completes no overwrite with a partial stream."""
        lines = [
            stream_status_line(self.namespacing.map(*key), "INCOMPLETE")
            for key in streams
            if key not in self.complete
        ]
        if lines:
            with contextlib.suppress(OSError, ValueError):
                self._send(b"\n".join(lines) + b"\n")

    def _hold(self, envelope: Envelope, line: bytes) -> bool | bytes:
        """Hold a source state. True: forward its line as it is; False: drop it (malformed);
        bytes: forward this line instead (the stream renamed for the destination)."""
        state = _state(envelope)
        if state is None:
            self.seen.drop("source", "WARN", "(malformed STATE message dropped)", line)
            return False
        return hold_state(self.checkpoints, state) or True


def stream_status_line(stream: StreamKey, status: str) -> bytes:
    """A TRACE STREAM_STATUS message line for the destination."""
    name, namespace = stream
    descriptor = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    trace = {
        "type": "STREAM_STATUS",
        "emitted_at": time.time() * 1000,
        "stream_status": {"stream_descriptor": descriptor, "status": status},
    }
    return msgspec.json.encode({"type": "TRACE", "trace": trace})


def _state(envelope: Envelope) -> AirbyteStateMessage | None:
    """A STATE message's state, parsed (the one place a source's state enters the relay);
    None if it is not one or is malformed."""
    if envelope.type != "STATE" or not envelope.state:
        return None
    try:
        return decode_state(envelope.state)
    except MALFORMED:
        return None
