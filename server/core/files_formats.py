"""The formats files/upload takes and the reader options of each (files/formats)."""

from __future__ import annotations

from sluice_connectors import file_detect

from server.models.files import FileFormatOption, FileFormatRead

_O = FileFormatOption

FORMATS = [
    FileFormatRead(
        format="csv",
        title="CSV (delimited text)",
        extensions=[".csv", ".tsv", ".txt"],
        options=[
            _O(name="delimiter", type="string", description="Field separator", detected=True),
            _O(name="quotechar", type="string", description="Quote character", detected=True),
            _O(
                name="encoding",
                type="string",
                description="Text encoding (a byte-order mark, else UTF-8, else latin-1)",
                detected=True,
            ),
            _O(name="escapechar", type="string", description="Escape character"),
            _O(
                name="header",
                type="integer|null",
                description="0: the first row names the columns; null: no header row",
            ),
            _O(name="names", type="array", description="Column names (with header null)"),
            _O(name="skiprows", type="integer", description="Lines skipped before the header"),
            _O(name="na_values", type="array", description="Texts read as null (and '')"),
        ],
    ),
    FileFormatRead(
        format="json",
        title="JSON (an array of objects)",
        extensions=[".json"],
        options=[_O(name="lines", type="boolean", description="Read as JSONL instead")],
    ),
    FileFormatRead(
        format="jsonl",
        title="JSON Lines (one object a line)",
        extensions=[".jsonl", ".ndjson"],
        options=[],
    ),
    FileFormatRead(
        format="parquet",
        title="Apache Parquet",
        extensions=[".parquet"],
        options=[
            _O(name="columns", type="array", description="Only these columns"),
            _O(name="batch_size", type="integer", description="Rows read at a time"),
        ],
    ),
    FileFormatRead(
        format="feather",
        title="Feather (Arrow IPC file)",
        extensions=[".feather", ".arrow"],
        options=[
            _O(name="columns", type="array", description="Only these columns"),
            _O(name="batch_size", type="integer", description="Rows read at a time"),
        ],
    ),
    FileFormatRead(
        format="excel",
        title="Excel workbook (xlsx)",
        extensions=[".xlsx"],
        options=[
            _O(
                name="sheet_name",
                type="string|integer",
                description="The sheet: its name or 0-based index (the first by default)",
            ),
            _O(
                name="header",
                type="integer|null",
                description="0: the first row names the columns; null: no header row",
            ),
            _O(name="skiprows", type="integer", description="Rows skipped before the header"),
        ],
    ),
    FileFormatRead(format="avro", title="Apache Avro", extensions=[".avro"], options=[]),
]

assert [f.format for f in FORMATS] == list(file_detect.SUFFIXES)
