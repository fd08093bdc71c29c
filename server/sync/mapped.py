"""Records re-written between the source pump's decode and its write: those of mapped
streams, and records renamed for the destination.

Streams without mappers never come here: their lines go on as the source printed them. When
an attempt has mapped streams, the pump decodes its blocks with `mapped_envelopes` (the
protocol's envelope, plus a record's `emitted_at` and `meta`, `data` still undecoded: as
cheap). The `data` of a block's mapped records are then decoded together, in one msgspec call,
into dicts of undecoded values (a mapper decodes only the values it reads; the others are
copied as bytes), each goes through its stream's compiled mappers, and the survivors are
written again as record lines. A filtered-out record is dropped and counted. A change a
mapper records (a value it could not transform) goes into the record's `meta.changes`, as
Airbyte's platform writes it.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, cast

import msgspec

from server.mappers import Change, StreamMapper
from server.protocol import ABSENT, Envelope, RecordEnvelope
from server.sync.catalog import StreamKey


class MappedRecordEnvelope(RecordEnvelope, gc=False):
    """A record's envelope with the fields a re-written record keeps."""

    emitted_at: int | float | None = None
    meta: msgspec.Raw = ABSENT


class MappedEnvelope(Envelope, gc=False):
    record: MappedRecordEnvelope | None = None  # a subtype of the envelope's record


class _Record(msgspec.Struct, omit_defaults=True, gc=False):
    """A record message's payload as written again (the protocol's field names)."""

    stream: str
    data: dict[str, Any]
    namespace: str | None = None
    emitted_at: int | float | None = None
    meta: Any = None


class _RecordMessage(msgspec.Struct, tag_field="type", tag="RECORD", gc=False):
    """A record message as written again: `{"type":"RECORD","record":{...}}`."""

    record: _Record


mapped_envelopes = msgspec.json.Decoder(MappedEnvelope)
_datas = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_meta = msgspec.json.Decoder(dict[str, Any])
_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_HEAD = b'{"type":"RECORD","record":'
_stream = attrgetter("stream")
_namespace = attrgetter("namespace")
_data = attrgetter("data")


class RecordMapper:
    """Applies the compiled mappers of an attempt's streams to records; counts what the row
    filters dropped (records and source bytes, per source stream)."""

    def __init__(self, mappers: dict[StreamKey, StreamMapper]) -> None:
        self.mappers = mappers
        self.filtered: dict[StreamKey, list[int]] = {}  # stream -> [records, bytes]

    def __bool__(self) -> bool:
        return bool(self.mappers)

    def map_records(
        self, records: list[MappedRecordEnvelope], target: StreamKey | None = None
    ) -> list[bytes | None]:
        """The lines for records of mapped streams: None for a record filtered out.
        `target`: the stream the destination knows them by, if not the source's."""
        if not records:
            return []
        datas = _datas.decode(b"[" + b",".join([r.data for r in records]) + b"]")
        first = (records[0].stream, records[0].namespace)
        size = len(records)
        if (
            list(map(_stream, records)).count(first[0]) == size
            and list(map(_namespace, records)).count(first[1]) == size
        ):
            return self._one_stream(records, datas, first, target or first)
        out: list[bytes | None] = []
        for record, data in zip(records, datas, strict=True):
            key = (record.stream, record.namespace)
            out.extend(self._one_stream([record], [data], key, target or key))
        return out

    def _one_stream(
        self,
        records: list[MappedRecordEnvelope],
        datas: list[dict[str, Any]],
        key: StreamKey,
        target: StreamKey,
    ) -> list[bytes | None]:
        """The hot path: records of one stream through its compiled steps as a block, the
        survivors encoded in one call."""
        block = self.mappers[key].run_block(datas)
        places = block.places
        kept = records if places is None else [records[i] for i in places]
        if places is not None and len(kept) < len(records):
            counts = self.filtered.setdefault(key, [0, 0])
            counts[0] += len(records) - len(kept)
            counts[1] += sum(map(len, map(_data, records))) - sum(map(len, map(_data, kept)))
        stream, namespace = target
        messages = [
            _RecordMessage(_Record(stream, data, namespace, record.emitted_at, record.meta or None))
            for data, record in zip(block.rows, kept, strict=True)
        ]
        if block.changes:
            where = {p: i for i, p in enumerate(places)} if places is not None else None
            for place, changes in block.changes.items():
                index = place if where is None else where.get(place)
                if index is not None:  # (a record filtered out after its change is gone)
                    messages[index].record.meta = _with_changes(records[place].meta, changes)
        # One line per message: a source's value is one line's part, the rest msgspec's.
        encoded = _encoder.encode_lines(messages).split(b"\n")[:-1] if messages else []
        lines = cast("list[bytes | None]", encoded)  # read only: no None is put in
        if places is None:
            return lines
        out: list[bytes | None] = [None] * len(records)
        for place, line in zip(places, lines, strict=True):
            out[place] = line
        return out


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


def assemble(
    results: list[bytes | None], bounds: list[int], positions: list[int], lines: list[bytes]
) -> list[bytes]:
    """The block's lines: the mapped records kept (None: filtered out), each state's line
    at its place."""
    out: list[bytes] = []
    start = 0
    for bound, position in zip(bounds, positions, strict=True):
        out += filter(None, results[start:bound])
        out.append(lines[position])
        start = bound
    out += filter(None, results[start:])
    return out


def replace_lines(
    lines: list[bytes], places: list[int], results: list[bytes | None]
) -> list[bytes]:
    """The block's lines with the mapped records' lines at `places` replaced (or dropped)."""
    out: list[bytes | None] = list(lines)
    for place, line in zip(places, results, strict=True):
        out[place] = line
    return [line for line in out if line is not None]


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
