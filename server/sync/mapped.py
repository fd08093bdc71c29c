"""Records of mapped streams, between the source pump's decode and its write.

Streams without mappers never come here: their lines go on as the source printed them. The
records of a mapped stream in a block are decoded together (one msgspec call over their
lines, `data` as a dict), each goes through its stream's compiled mappers, and the survivors
are encoded together again; a filtered-out record is dropped and counted. A change a mapper
records (a value it could not transform) goes into the record's `meta.changes`, as Airbyte's
platform writes it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from server.mappers import StreamMapper
from server.sync.catalog import StreamKey


class MappedRecord(msgspec.Struct, omit_defaults=True, gc=False):
    """A record message's payload with its data decoded (the protocol's fields)."""

    stream: str
    data: dict[str, Any]
    namespace: str | None = None
    emitted_at: int | float | None = None
    meta: dict[str, Any] | None = None


class MappedMessage(msgspec.Struct, gc=False):
    type: str
    record: MappedRecord


_decoder = msgspec.json.Decoder(MappedMessage)
_encoder = msgspec.json.Encoder()


class RecordMapper:
    """Applies the compiled mappers of an attempt's streams to record lines; counts what the
    row filters dropped (records and source bytes, per source stream)."""

    def __init__(self, mappers: dict[StreamKey, StreamMapper]) -> None:
        self.mappers = mappers
        self.filtered: dict[StreamKey, list[int]] = {}  # stream -> [records, bytes]

    def __bool__(self) -> bool:
        return bool(self.mappers)

    def map_lines(
        self,
        lines: list[bytes],
        keys: list[StreamKey],
        sizes: list[int],
        target: StreamKey | None = None,
    ) -> list[bytes | None]:
        """The lines of records of mapped streams (`keys` their source streams, `sizes`
        their data's bytes), mapped: None for a record filtered out. `target`: the stream
        name and namespace the destination knows them by, if not the source's (one line)."""
        if not lines:
            return []
        messages = _decoder.decode_lines(b"\n".join(lines))
        if len(messages) != len(lines):  # a line holding two messages: take them one by one
            messages = [_decoder.decode(line) for line in lines]
        out: list[bytes | None] = [None] * len(lines)
        kept: list[MappedMessage] = []
        places: list[int] = []
        mappers = self.mappers
        last_key = keys[0]
        apply = mappers[last_key].apply
        for index, message in enumerate(messages):
            key = keys[index]
            if key != last_key:
                apply = mappers[key].apply
                last_key = key
            record = message.record
            data, changes = apply(record.data)
            if data is None:
                counts = self.filtered.get(key)
                if counts is None:
                    counts = self.filtered[key] = [0, 0]
                counts[0] += 1
                counts[1] += sizes[index]
                continue
            record.data = data
            if target is not None:
                record.stream, record.namespace = target
            if changes:
                meta = record.meta if record.meta is not None else {}
                found = meta.get("changes")
                meta["changes"] = (found if isinstance(found, list) else []) + changes
                record.meta = meta
            kept.append(message)
            places.append(index)
        if kept:
            encoded = _encoder.encode_lines(kept).split(b"\n")
            for place, line in zip(places, encoded, strict=False):
                out[place] = line
        return out
