"""Records re-written between the source pump's decode and its write: those of mapped
streams, and records renamed for the destination.

Streams without mappers never come here: their lines go on as the source printed them. When
an attempt has mapped streams, the pump decodes its blocks with `mapped_envelopes` (the
protocol's envelope, plus a record's `emitted_at` and `meta`, `data` still undecoded: as
cheap). The `data` of a block's mapped records are then decoded together, in one msgspec call:
by columns into Structs of the stream's declared fields when its mappers allow
(server.mappers.columns), else into dicts of undecoded values (server.mappers.blocks); either
way a mapper decodes only the values it reads, the others are copied as bytes. The
survivors are written again as record lines, one msgspec call per run of records between
states. A filtered-out record is dropped and counted. A change a mapper records (a value it
could not transform) goes into the record's `meta.changes`, as Airbyte's platform writes it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from itertools import compress, repeat
from operator import attrgetter, not_
from typing import Any, cast

import msgspec

from server.mappers import Change, StreamMapper
from server.protocol import ABSENT, UNREADABLE, Envelope, RecordEnvelope, envelope_decoder
from server.sync.catalog import StreamKey


class MappedRecordEnvelope(RecordEnvelope, gc=False):
    """A record's envelope with the fields a re-written record keeps (undecoded: they are
    copied as the source printed them; an absent one is the `ABSENT` object itself)."""

    emitted_at: msgspec.Raw = ABSENT
    meta: msgspec.Raw = ABSENT


class MappedEnvelope(Envelope, gc=False):
    record: MappedRecordEnvelope | None = None  # a subtype of the envelope's record


class _Record(msgspec.Struct, omit_defaults=True, gc=False):
    """A record message's payload as written again (the protocol's field names); each
    encoded one is put in `{"type":"RECORD","record":...}` by `_messages_of`."""

    data: Any  # a dict, or a Struct of the stream's output fields (server.mappers.columns)
    stream: msgspec.Raw  # the stream's name and namespace, encoded once for a run
    # Omitted when they are the decoded envelope's own default object (msgspec compares
    # defaults by identity): a source's absent `emitted_at` or `meta` stays absent.
    emitted_at: msgspec.Raw = ABSENT
    meta: Any = ABSENT


mapped_envelopes = msgspec.json.Decoder(MappedEnvelope)
_datas = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_meta = msgspec.json.Decoder(dict[str, Any])
_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_HEAD = b'{"type":"RECORD","record":'
_BETWEEN = b"}\n" + _HEAD  # a message's end, the next one's start
_NEEDLE = 64  # bytes of a state's payload searched for (longer needles search slower)
_stream = attrgetter("stream")
_namespace = attrgetter("namespace")
_data = attrgetter("data")
_emitted = attrgetter("emitted_at")
_meta_of = attrgetter("meta")


class RecordMapper:
    """Applies the compiled mappers of an attempt's streams to records; counts what the row
    filters dropped (records and source bytes, per source stream)."""

    def __init__(
        self, mappers: dict[StreamKey, StreamMapper], filtered: dict[StreamKey, list[int]]
    ) -> None:
        self.mappers = mappers
        self.filtered = filtered  # stream -> [records, bytes] dropped (the checkpoints' own)

    def __bool__(self) -> bool:
        return bool(self.mappers)

    def map_records(
        self, records: list[MappedRecordEnvelope], target: StreamKey | None = None
    ) -> list[bytes | None]:
        """The lines for records of mapped streams: None for a record filtered out.
        `target`: the stream the destination knows them by, if not the source's."""
        if not records:
            return []
        first = (records[0].stream, records[0].namespace)
        size = len(records)
        if (
            list(map(_stream, records)).count(first[0]) == size
            and list(map(_namespace, records)).count(first[1]) == size
        ):
            return _lines(*self._messages(records, first, target or first), size)
        out: list[bytes | None] = []
        for record in records:
            key = (record.stream, record.namespace)
            out += _lines(*self._messages([record], key, target or key), 1)
        return out

    def map_segments(
        self,
        records: list[MappedRecordEnvelope],
        key: StreamKey,
        target: StreamKey,
        bounds: list[int],
    ) -> list[bytes]:
        """Records of one mapped stream `key`, cut at `bounds` (ascending places): for each
        part, the lines of its records kept, encoded together (b"" for none)."""
        messages, places = self._messages(records, key, target)
        cuts = bounds if places is None else [bisect_left(places, b) for b in bounds]
        out: list[bytes] = []
        start = 0
        for cut in [*cuts, len(messages)]:
            out.append(_messages_of(messages[start:cut]) if cut > start else b"")
            start = cut
        return out

    def _messages(
        self, records: list[MappedRecordEnvelope], key: StreamKey, target: StreamKey
    ) -> tuple[list[_Record], list[int] | None]:
        """The hot path: records of one stream through its compiled mappers (by columns
        when they can, else as a block of dicts); the payloads of those kept (under the
        stream `target`), and their places among `records` (None: all of them)."""
        compiled = self.mappers[key]
        joined = b"[" + b",".join(map(_data, records)) + b"]"
        columns = compiled.columns.run(joined) if compiled.columns is not None else None
        changes: dict[int, list[Change]] = {}
        places: list[int] | None
        datas: list[Any]
        if columns is not None:
            datas, flags = columns
            places = None if flags is None else list(compress(range(len(records)), flags))
            kept = records if flags is None else list(compress(records, flags))
            if flags is not None:
                dropped = compress(records, map(not_, flags))
                self._count_filtered(key, len(records) - len(kept), dropped)
        else:
            block = compiled.run_block(_datas.decode(joined))
            datas, places, changes = block.rows, block.places, block.changes
            kept = records if places is None else [records[i] for i in places]
            if places is not None:
                gone = set(range(len(records))).difference(places)
                self._count_filtered(key, len(gone), (records[i] for i in gone))
        name = repeat(_stream_raw(target))
        messages = list(map(_Record, datas, name, map(_emitted, kept), map(_meta_of, kept)))
        if changes:
            where = {p: i for i, p in enumerate(places)} if places is not None else None
            for place, found in changes.items():
                index = place if where is None else where.get(place)
                if index is not None:  # (a record filtered out after its change is gone)
                    messages[index].meta = _with_changes(records[place].meta, found)
        return messages, places

    def _count_filtered(
        self, key: StreamKey, records: int, dropped: Iterable[MappedRecordEnvelope]
    ) -> None:
        if records:
            counts = self.filtered.setdefault(key, [0, 0])
            counts[0] += records
            counts[1] += sum(map(len, map(_data, dropped)))


def _lines(messages: list[_Record], places: list[int] | None, size: int) -> list[bytes | None]:
    """Each of `size` records' line (None: filtered out), from the payloads of those kept."""
    # One line per message: a source's value is one line's part, the rest msgspec's.
    encoded = _messages_of(messages).split(b"\n")[:-1] if messages else []
    lines = cast("list[bytes | None]", encoded)  # read only: no None is put in
    if places is None:
        return lines
    out: list[bytes | None] = [None] * size
    for place, line in zip(places, lines, strict=True):
        out[place] = line
    return out


def _stream_raw(target: StreamKey) -> msgspec.Raw:
    """A record's stream (and namespace) as the text of `_Record.stream`: a Raw that
    holds the stream's value and, after it, the namespace's member."""
    stream, namespace = target
    text = _encode(stream)
    if namespace is not None:
        text += b',"namespace":' + _encode(namespace)
    return msgspec.Raw(text)


def _messages_of(records: list[_Record]) -> bytes:
    """The record messages' lines (each ending with a newline) for payloads: encoded in one
    call, each line then put in `{"type":"RECORD","record":...}` by one replace of the
    newlines (no encoded line holds one: JSON escapes it in a text, and a source's value
    comes from one line). A one-byte pattern: replacing a longer one costs several times
    as much."""
    lines = _encoder.encode_lines(records)
    return _HEAD + lines[:-1].replace(b"\n", _BETWEEN) + b"}\n"


def _with_changes(meta: msgspec.Raw, changes: list[Change]) -> dict[str, Any]:
    found = _meta.decode(meta) if meta else {}
    before = found.get("changes")
    found["changes"] = (before if isinstance(before, list) else []) + changes
    return found


# --- a block's records, around the mapping (C-level list operations where it can) ----------


def segments(records: list[Any], states: dict[int, Any]) -> tuple[list[Any], list[int], list[int]]:
    """A block's records without the states' places, how many records come before each
    state, and the states' places (ascending)."""
    positions = list(states)
    found: list[Any] = []
    bounds: list[int] = []
    start = 0
    for position in positions:
        found += records[start:position]
        bounds.append(len(found))
        start = position + 1
    found += records[start:]
    return found, bounds, positions


def one_stream(records: list[Any]) -> StreamKey | None:
    """The stream of records that are all of one stream, else None."""
    if not records:
        return None
    size = len(records)
    names, spaces = list(map(_stream, records)), list(map(_namespace, records))
    if names.count(names[0]) != size or spaces.count(spaces[0]) != size:
        return None
    return (names[0], spaces[0])


def state_lines(
    block: bytes | memoryview, envelopes: list[Any], positions: list[int]
) -> dict[int, bytes] | None:
    """The lines of the block's states by place, as the source printed them, found without
    splitting the block (it holds thousands of records and a few states): each state's
    payload is searched for after the previous state's line (by its first bytes: a short
    needle is searched much faster), and the line that holds it must be a STATE message
    with that payload (no other state comes between, so it is this one's). None when one is
    not found so (a record holding the same text first, a state over several lines)."""
    data = bytes(block)
    found: dict[int, bytes] = {}
    start = 0
    for position in positions:
        payload = bytes(envelopes[position].state)
        at = data.find(payload[:_NEEDLE], start)
        if at < 0:
            return None
        begin = data.rfind(b"\n", start, at) + 1 or start
        end = data.find(b"\n", at)
        line = data[begin:end] if end >= 0 else data[begin:]
        try:
            envelope = envelope_decoder.decode(line)
        except UNREADABLE:
            return None
        if envelope.type != "STATE" or bytes(envelope.state) != payload:
            return None
        found[position] = line
        start = end + 1
    return found


def assemble_parts(parts: list[bytes], states: list[bytes]) -> bytes | None:
    """The block to send: the mapped records' parts (lines ending with a newline), each
    state's line after the part before it."""
    out: list[bytes] = []
    for part, state in zip(parts, states, strict=False):
        out.append(part)
        out.append(state + b"\n")
    out.append(parts[-1])
    joined = b"".join(out)
    return joined or None


def replace_lines(
    lines: list[bytes], places: list[int], results: list[bytes | None]
) -> bytes | None:
    """The block to send: its lines with the mapped records' lines at `places` replaced (or
    dropped); None when none is left."""
    out: list[bytes | None] = list(lines)
    for place, line in zip(places, results, strict=True):
        out[place] = line
    kept = [line for line in out if line is not None]
    return b"\n".join(kept) + b"\n" if kept else None


# --- a record under another stream name (a prefix or namespace rule) -----------------------

_fields = msgspec.json.Decoder(dict[str, msgspec.Raw])  # a message, its payloads undecoded


class _Message(msgspec.Struct, gc=False):
    record: msgspec.Raw


_message = msgspec.json.Decoder(_Message)


def rename_record(line: bytes, target: StreamKey) -> bytes:
    """The same record under another stream name/namespace; its fields other than those two
    (`data` above all) are copied as raw bytes."""
    record = _fields.decode(_message.decode(line).record)
    record["stream"] = msgspec.Raw(_encode(target[0]))
    if target[1] is None:
        record.pop("namespace", None)
    else:
        record["namespace"] = msgspec.Raw(_encode(target[1]))
    return _HEAD + _encode(record) + b"}"
