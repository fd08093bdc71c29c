"""What the mapper tests share: a stream's JSON schema, a mapper in the API's shape, and
records as the relay decodes them and maps them."""

from __future__ import annotations

from typing import Any

import msgspec

from server.mappers import StreamMapper
from server.sync.mapped import MappedRecordEnvelope, RecordMapper, mapped_envelopes

SCHEMA: dict[str, Any] = {
    "type": "object",
    "$schema": "http://json-schema.org/draft-07/schema#",
    "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "email": {"type": "string"},
        "status": {"type": "string"},
        "amount": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def mapper(kind: str, **configuration: Any) -> dict[str, Any]:
    """One entry of a stream's `mappers`: `{type, mapperConfiguration}`."""
    return {"type": kind, "mapperConfiguration": configuration}


def envelopes(records: list[dict[str, Any]], stream: str = "users") -> list[MappedRecordEnvelope]:
    """Records' data as the relay's pump decodes their lines for a mapped stream."""
    found = []
    for data in records:
        line = msgspec.json.encode({"type": "RECORD", "record": {"stream": stream, "data": data}})
        envelope = mapped_envelopes.decode(line)
        assert envelope.record is not None
        found.append(envelope.record)
    return found


def map_records(
    stream: StreamMapper, records: list[dict[str, Any]], name: str = "users"
) -> tuple[list[Any], list[int] | None]:
    """Each record's mapped data (None: filtered out) through the relay's RecordMapper, and the
    [records, bytes] it counted as filtered out (None: none)."""
    mapper_ = RecordMapper({(name, None): stream}, {})
    lines = mapper_.map_records(envelopes(records, name))
    datas = [
        None if line is None else msgspec.json.decode(line)["record"]["data"] for line in lines
    ]
    return datas, mapper_.filtered.get((name, None))
