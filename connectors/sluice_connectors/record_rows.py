"""Record data -> row tuples for writers that bind Python values (SQLite).

Each stream gets a msgspec Struct built from its JSON Schema: scalar properties decode to Python
values, object/array properties stay raw JSON text (no decode and re-encode), and the Struct
forbids unknown fields, so the common case is one C-level decode and `astuple`. A record with
fields the schema does not declare takes the slower path that keeps them as a JSON object.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from sluice_connectors.destination_core import IsoTimes, RecordHead, StreamConfig, json_encoder

_astuple = msgspec.structs.astuple


class RowBuilder:
    """Rows laid out as `_airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta,
    _airbyte_generation_id, <schema columns...>, _airbyte_additional_properties`."""

    def __init__(self, stream: StreamConfig, times: IsoTimes | None = None) -> None:
        self.stream = stream
        self.names = [c.name for c in stream.columns]
        self.known = frozenset(self.names)
        self.json_positions = [i for i, c in enumerate(stream.columns) if c.kind == "json"]
        fields = [
            (f"f{i}", msgspec.Raw if c.kind == "json" else Any, None)
            for i, c in enumerate(stream.columns)
        ]
        self.decoder: msgspec.json.Decoder[Any] | None = None
        try:
            data_type = msgspec.defstruct(
                "Data",
                fields,
                rename={f"f{i}": name for i, name in enumerate(self.names)},
                forbid_unknown_fields=True,
            )
            self.decoder = msgspec.json.Decoder(data_type)
        except ValueError:  # a property name msgspec cannot map (quotes, control characters)
            self.decoder = None
        self.times = times or IsoTimes()

    def build(self, heads: list[RecordHead], ids: list[str]) -> list[tuple[Any, ...]]:
        if self.decoder is None:
            return self.build_slowly(heads, ids)
        decode = self.decoder.decode
        json_positions = self.json_positions
        times = self.times
        generation = self.stream.generation_id
        default_meta = self.stream.default_meta
        now = int(time.time() * 1000)
        rows = []
        for raw_id, head in zip(ids, heads, strict=True):
            try:
                values: Any = _astuple(decode(head.data))
                extra = None
            except msgspec.ValidationError:
                values, extra = self.slow_values(head.data)
            else:
                if json_positions:
                    values = list(values)
                    for i in json_positions:
                        raw = values[i]
                        if raw is not None:
                            text = str(raw, "utf-8")
                            values[i] = None if text == "null" else text
            meta = self.stream.meta_for(head.meta) if head.meta else default_meta
            rows.append((raw_id, times(head.emitted_at or now), meta, generation, *values, extra))
        return rows

    def build_slowly(self, heads: list[RecordHead], ids: list[str]) -> list[tuple[Any, ...]]:
        generation = self.stream.generation_id
        now = int(time.time() * 1000)
        rows = []
        for raw_id, head in zip(ids, heads, strict=True):
            values, extra = self.slow_values(head.data)
            meta = self.stream.meta_for(head.meta)
            extracted_at = self.times(head.emitted_at or now)
            rows.append((raw_id, extracted_at, meta, generation, *values, extra))
        return rows

    def slow_values(self, raw: msgspec.Raw) -> tuple[list[Any], str | None]:
        """Values of a record with undeclared fields (or of an unexpected shape)."""
        data = msgspec.json.decode(raw)
        if not isinstance(data, dict):
            raise ValueError(f"record data of stream {self.stream.label} is not a JSON object")
        values = [data.get(name) for name in self.names]
        for i in self.json_positions:
            if values[i] is not None:
                values[i] = json_encoder.encode(values[i]).decode()
        extra = {k: v for k, v in data.items() if k not in self.known}
        return values, json_encoder.encode(extra).decode() if extra else None
