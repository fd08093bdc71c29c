"""Record data -> typed row tuples, shared by the SQL destinations.

Each stream gets a msgspec Struct built from its JSON Schema: string, integer (64-bit), number
and boolean properties decode to checked Python values, object/array properties stay raw JSON
text (no decode and re-encode), and unknown fields are forbidden. A whole batch of RECORD lines
is decoded in one call into those Structs, so the common record costs its share of one C-level
decode and an `astuple`. A record that does not fit (an undeclared field, a value of
the wrong type) takes the slower path: undeclared fields are kept as a JSON object, a value
that does not fit its column becomes NULL and is listed in `_airbyte_meta.changes` with reason
DESTINATION_TYPECAST_ERROR (as Airbyte's typing does), except that a string column keeps any
value as its JSON text.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec

from sluice_connectors.destination_core import RecordHead, bulk, record_decoder
from sluice_connectors.destination_tables import IsoTimes, StreamConfig, json_encoder

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FIELD_TYPES: dict[str, Any] = {
    "string": str | None,
    "integer": Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)] | None,
    "number": int | float | None,
    "boolean": bool | None,
    "json": msgspec.Raw,
}
_astuple = msgspec.structs.astuple


def typecast_change(field: str) -> dict[str, str]:
    return {"field": field, "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}


def coerce(kind: str, value: Any) -> tuple[Any, bool]:
    """A decoded JSON value as its column stores it, and whether it fitted."""
    if value is None:
        return None, True
    if kind == "string":
        return (value if isinstance(value, str) else json_encoder.encode(value).decode()), True
    if kind == "json":
        return json_encoder.encode(value).decode(), True
    if isinstance(value, bool):
        return (value, True) if kind == "boolean" else (None, False)
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX:
            return value, True
        return None, False
    if kind == "number" and isinstance(value, int | float):
        return (float(value) if abs(value) > INT64_MAX else value), True
    return None, False


class RowBuilder:
    """Rows laid out as `_airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta,
    _airbyte_generation_id, <schema columns...>, _airbyte_additional_properties`."""

    def __init__(self, stream: StreamConfig, times: IsoTimes | None = None) -> None:
        self.stream = stream
        self.names = [c.name for c in stream.columns]
        self.kinds = [c.kind for c in stream.columns]
        self.known = frozenset(self.names)
        self.json_positions = [i for i, kind in enumerate(self.kinds) if kind == "json"]
        fields = [(f"f{i}", FIELD_TYPES[kind], None) for i, kind in enumerate(self.kinds)]
        self.decoder: msgspec.json.Decoder[Any] | None
        try:
            data_type = msgspec.defstruct(
                "Data",
                fields,
                rename={f"f{i}": name for i, name in enumerate(self.names)},
                forbid_unknown_fields=True,
                gc=False,
            )
            record_type = msgspec.defstruct(
                "TypedRecord",
                [("data", data_type), ("emitted_at", int, 0), ("meta", msgspec.Raw, msgspec.Raw())],
                gc=False,
            )
            message_type = msgspec.defstruct("TypedMessage", [("record", record_type)], gc=False)
            self.decoder = msgspec.json.Decoder(message_type)
            self.batch_decoder: msgspec.json.Decoder[Any] | None = msgspec.json.Decoder(
                list[message_type]  # type: ignore[valid-type]
            )
        except ValueError:  # a property name msgspec cannot map (quotes, control characters)
            self.decoder = self.batch_decoder = None
        self.times = times or IsoTimes()

    def build(self, lines: list[bytes], ids: list[str]) -> list[tuple[Any, ...]]:
        """Rows of a batch of RECORD lines: one decode for the batch when every record fits
        its Struct, else record by record (the slow path only for those that do not)."""
        try:
            if self.batch_decoder is None:
                raise msgspec.ValidationError
            messages = self.batch_decoder.decode(bulk(lines))
        except msgspec.DecodeError:  # also ValidationError: a record that does not fit
            return [self.row(line, raw_id) for line, raw_id in zip(lines, ids, strict=True)]
        return self.rows(messages, ids)

    def rows(self, messages: list[Any], ids: list[str]) -> list[tuple[Any, ...]]:
        json_positions = self.json_positions
        times = self.times
        generation = self.stream.generation_id
        default_meta = self.stream.default_meta
        meta_for = self.stream.meta_for
        now = int(time.time() * 1000)
        rows = []
        append = rows.append
        for raw_id, message in zip(ids, messages, strict=True):
            record = message.record
            values: Any = _astuple(record.data)
            if json_positions:
                values = list(values)
                for i in json_positions:
                    raw = values[i]
                    if raw is not None:
                        text = str(raw, "utf-8")
                        values[i] = None if text == "null" else text
            meta = meta_for(record.meta) if record.meta else default_meta
            append((raw_id, times(record.emitted_at or now), meta, generation, *values, None))
        return rows

    def row(self, line: bytes, raw_id: str) -> tuple[Any, ...]:
        """One record's row, decoded on its own (a batch that did not decode as a whole)."""
        try:
            if self.decoder is None:
                raise msgspec.ValidationError
            return self.rows([self.decoder.decode(line)], [raw_id])[0]
        except msgspec.DecodeError:  # does not fit, or is not JSON: the generic decode tells
            pass
        try:
            head = record_decoder.decode(line).record
        except msgspec.DecodeError as exc:
            raise ValueError(
                f"a RECORD line of stream {self.stream.label} is not an Airbyte message: {exc}"
            ) from exc
        values, extra, meta = self.slow_values(head)
        extracted_at = self.times(head.emitted_at or int(time.time() * 1000))
        return (raw_id, extracted_at, meta, self.stream.generation_id, *values, extra)

    def slow_values(self, head: RecordHead) -> tuple[list[Any], str | None, str]:
        """Values, undeclared fields (JSON text) and `_airbyte_meta` of a record that the
        fast path refused."""
        data = msgspec.json.decode(head.data)
        if not isinstance(data, dict):
            raise ValueError(f"record data of stream {self.stream.label} is not a JSON object")
        values = []
        changes = []
        for name, kind in zip(self.names, self.kinds, strict=True):
            value, fits = coerce(kind, data.get(name))
            values.append(value)
            if not fits:
                changes.append(typecast_change(name))
        extra = {k: v for k, v in data.items() if k not in self.known}
        meta = self.stream.meta_for(head.meta, changes)
        return values, json_encoder.encode(extra).decode() if extra else None, meta
