"""destination-postgres's bulk path: a batch of RECORD lines becomes COPY CSV without a Python
object per record. pyarrow's JSON reader parses the whole batch against the stream's types (C++,
in threads, without the GIL) and its CSV writer formats the rows, so the connector's work per
record is a small share of what the server spends loading it.

The CSV's timestamps are UTC without a zone: the writer's session runs with TimeZone UTC.

The reader is strict, which is what makes this safe: a value of another JSON type, a fraction or
a value beyond 64 bits in an integer column, a field the schema does not declare, a record with
`meta`, a line in another layout: any of these fails the read, and the batch takes the exact
path instead (record_rows.py, one typed row per record, with the `_airbyte_meta` changes).
A stream with object/array columns always takes it: the reader cannot keep a value's JSON text.
"""

from __future__ import annotations

import io
import time
from typing import Any

from sluice_connectors.destination_tables import StreamConfig, uuid4_text

try:  # optional: with the postgres extra; without it every batch takes the exact path
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv
    import pyarrow.json as pa_json
except ImportError:  # pragma: no cover
    pa = None

ARROW_TYPES = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool_"}
MIN_BLOCK = 4 << 20


class ArrowRows:
    """COPY CSV for one stream's batches; `csv` returns None for a batch it cannot take."""

    def __init__(self, stream: StreamConfig, numbered: bool) -> None:
        self.stream = stream
        self.numbered = numbered  # a trailing arrival number (the dedup stage's column)
        self.schema: Any = None
        if pa is None or any(c.kind not in ARROW_TYPES for c in stream.columns):
            return
        data = pa.struct([(c.name, getattr(pa, ARROW_TYPES[c.kind])()) for c in stream.columns])
        record = pa.struct(
            [
                ("stream", pa.string()),
                ("namespace", pa.string()),
                ("emitted_at", pa.int64()),
                ("data", data),
            ]
        )
        self.schema = pa.schema([("type", pa.string()), ("record", record)])
        self.write_options = pa_csv.WriteOptions(
            include_header=False,
            quoting_style="all_valid",  # a NULL is the only bare empty
        )

    def csv(self, lines: list[bytes]) -> bytes | None:
        if self.schema is None:
            return None
        text = b"\n".join(lines)
        if b"\\u0000" in text:  # PostgreSQL cannot hold U+0000: the exact path drops it
            return None
        block = max(MIN_BLOCK, max(map(len, lines)) + 1)
        try:
            table = pa_json.read_json(
                io.BytesIO(text),
                read_options=pa_json.ReadOptions(block_size=block),
                parse_options=pa_json.ParseOptions(
                    explicit_schema=self.schema, unexpected_field_behavior="error"
                ),
            )
        except pa.ArrowInvalid:  # a record that does not fit: the exact path
            return None
        if table.num_rows != len(lines):
            return None
        return self.format(table)

    def format(self, table: Any) -> bytes:
        stream, count = self.stream, table.num_rows
        record = table.column("record").combine_chunks()
        data = record.field("data")
        emitted = record.field("emitted_at")
        # No emitted_at (or 0): now, as the exact path does.
        missing = pc.fill_null(pc.equal(emitted, 0), True)
        emitted = pc.if_else(missing, pa.scalar(int(time.time() * 1000)), emitted)
        offsets = pa.py_buffer(np.arange(0, 36 * count + 1, 36, dtype=np.int32))
        ids = pa.StringArray.from_buffers(count, offsets, pa.py_buffer(uuid4_text(count)))
        columns = [
            ids,
            # Without a zone: Arrow formats those ~25 times faster; the session is in UTC.
            emitted.cast(pa.timestamp("ms")),
            pa.repeat(stream.default_meta, count),
            pa.repeat(pa.scalar(stream.generation_id, pa.int64()), count),
            *(data.field(i) for i in range(len(stream.columns))),
            pa.nulls(count, pa.string()),  # undeclared fields would have failed the read
        ]
        if self.numbered:
            columns.append(pa.array(np.arange(count, dtype=np.int64)))
        names = [str(i) for i in range(len(columns))]
        out = io.BytesIO()
        pa_csv.write_csv(pa.table(columns, names=names), out, self.write_options)
        return out.getvalue()
