"""Reading rows from local CSV, JSON, JSONL, Parquet, Feather, Excel (xlsx) and Avro files, and
inferring a JSON Schema for them. Used by source-file and by the server's file preview (one
inference rule for both)."""

from __future__ import annotations

import csv
import datetime
import decimal
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from sluice_connectors import file_readers
from sluice_connectors.entrypoint import ConfigError

FORMATS = ("csv", "json", "jsonl", "parquet", "feather", "excel", "avro")
ARROW_FORMATS = ("parquet", "feather")
CSV_OPTIONS = {
    "sep",
    "delimiter",
    "quotechar",
    "escapechar",
    "encoding",
    "header",
    "names",
    "skiprows",
    "na_values",
}
OPTIONS = {
    "csv": CSV_OPTIONS,
    "json": {"lines", "encoding"},
    "jsonl": {"encoding"},
    "parquet": {"columns", "batch_size"},
    "feather": {"columns", "batch_size"},
    "excel": {"sheet_name", "header", "names", "skiprows"},
    "avro": set(),
}

# A problem found while reading (preview): the 1-based data row and what is wrong with it.
Problem = dict[str, Any]

Row = dict[str, Any]

# --- reading -----------------------------------------------------------------------------


def read_rows(
    path: Path, fmt: str, options: dict[str, Any], problems: list[Problem] | None = None
) -> Iterator[Row]:
    """The rows of one file, as dicts of JSON-compatible values (CSV values stay strings).

    With a `problems` list (a preview), CSV rows that are ragged or not in the file's encoding
    are noted there and read on (bad bytes replaced) instead of failing the read."""
    if fmt == "csv":
        return _csv_rows(path, options, problems)
    if fmt == "excel":
        return file_readers.excel_rows(path, options)
    if fmt == "avro":
        return file_readers.avro_rows(path)
    if fmt == "jsonl" or (fmt == "json" and options.get("lines")):
        return _jsonl_rows(path)
    if fmt == "json":
        return _json_rows(path)
    return _arrow_rows(path, fmt, options)


def _csv_reader(handle: Any, options: dict[str, Any]) -> Iterator[list[str]]:
    for _ in range(int(options.get("skiprows", 0))):
        handle.readline()
    return csv.reader(
        handle,
        delimiter=options.get("sep", options.get("delimiter", ",")),
        quotechar=options.get("quotechar", '"'),
        escapechar=options.get("escapechar"),
    )


def _csv_open(path: Path, options: dict[str, Any], errors: str) -> Any:
    encoding = options.get("encoding", "utf-8-sig")  # -sig: drop a byte-order mark
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    return path.open(newline="", encoding=encoding, errors=errors)


def header_columns(
    path: Path, fmt: str, options: dict[str, Any], seen: dict[str, set[str]]
) -> None:
    """Put a CSV's columns (its header's, or the `names` given) in `seen` first, so that the
    columns come in the header's order and a file of a header alone still has them (as
    nullable strings: no value was seen). Other formats name columns in their rows."""
    if fmt != "csv":
        return
    names = options.get("names")
    if not names and options.get("header", 0) is not None:
        with _csv_open(path, options, "replace") as handle:
            names = next(_csv_reader(handle, options), None)
    for name in column_names(names or []):
        seen.setdefault(name, set())


def _csv_rows(
    path: Path, options: dict[str, Any], problems: list[Problem] | None = None
) -> Iterator[Row]:
    errors = "strict" if problems is None else "replace"
    with _csv_open(path, options, errors) as handle:
        reader = _csv_reader(handle, options)
        names = options.get("names")
        if options.get("header", 0) is not None:
            header = next(reader, None)
            if header is None:
                return
            names = names or header
        columns: list[str] | None = None
        for number, values in enumerate(reader, 1):
            if names is None:  # no header and no names: columns are numbered as pandas does
                names = [str(i) for i in range(len(values))]
            if not values:
                continue
            columns = columns or column_names(names)
            if problems is not None:
                _note(problems, number, values, len(columns))
            yield dict(zip(columns, values, strict=False))


def _note(problems: list[Problem], number: int, values: list[str], expected: int) -> None:
    if len(values) != expected:
        problems.append(
            {
                "row": number,
                "kind": "ragged_row",
                "message": f"row {number} has {len(values)} fields, the header {expected}",
            }
        )
    if any("\ufffd" in v for v in values):
        problems.append(
            {
                "row": number,
                "kind": "bad_encoding",
                "message": f"row {number} has bytes that are not in the file's encoding",
            }
        )


def column_names(names: list[Any]) -> list[str]:
    """Header cells as unique, non-empty column names."""
    result: list[str] = []
    for index, name in enumerate(names):
        text = str(name).strip() or f"column_{index + 1}"
        candidate, n = text, 1
        while candidate in result:
            n += 1
            candidate = f"{text}_{n}"
        result.append(candidate)
    return result


def _jsonl_rows(path: Path) -> Iterator[Row]:
    decoder = msgspec.json.Decoder()
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise ValueError(f"{path.name} line {number} is not JSON: {exc}") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path.name} line {number} is not a JSON object")
            yield row


def _json_rows(path: Path) -> Iterator[Row]:
    try:
        value = msgspec.json.decode(path.read_bytes())
    except msgspec.DecodeError as exc:
        raise ValueError(
            f"{path.name} is not JSON ({exc}); use format jsonl for one object per line"
        ) from None
    rows = value if isinstance(value, list) else [value]
    for row in rows:
        if not isinstance(row, dict):
            raise ValueError(f"{path.name}: expected objects (a JSON object or a list of them)")
        yield row


def arrow() -> Any:
    """pyarrow, or a ConfigError that says how to get it."""
    try:
        import pyarrow
        import pyarrow.feather
        import pyarrow.parquet
    except ImportError:
        raise ConfigError(
            "Parquet and Feather files need pyarrow: pip install 'sluice-connectors[parquet]'"
        ) from None
    return pyarrow


def _arrow_rows(path: Path, fmt: str, options: dict[str, Any]) -> Iterator[Row]:
    pa = arrow()
    columns = options.get("columns")
    batch_size = int(options.get("batch_size", 10_000))
    if fmt == "parquet":
        batches = pa.parquet.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns)
    else:
        batches = pa.feather.read_table(path, columns=columns).to_batches(batch_size)
    for batch in batches:
        yield from batch.to_pylist()


# --- schemas -----------------------------------------------------------------------------

_INT = re.compile(r"[+-]?\d+\Z")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\Z")
_BOOLS = {"true": True, "false": False}


def _text_kind(value: str) -> str:
    if _INT.match(value):
        return "integer"
    if _NUMBER.match(value):
        return "number"
    if value.lower() in _BOOLS:
        return "boolean"
    if _DATE.match(value):
        return "date"
    if _DATE_TIME.match(value):
        return "date-time"
    return "string"


def _value_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | decimal.Decimal):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, datetime.datetime):
        return "date-time"
    if isinstance(value, datetime.date):
        return "date"
    return "string"


def _merge(kinds: set[str]) -> dict[str, Any]:
    """One column's schema from the kinds seen in it; every column may be null."""
    kinds = kinds - {"null"}
    if kinds == {"integer", "number"}:
        kinds = {"number"}
    if kinds == {"date-time"} or kinds == {"date"}:
        return {"type": ["null", "string"], "format": kinds.pop()}
    if len(kinds) != 1:  # nothing but nulls, or a mix: strings hold anything
        return {"type": ["null", "string"]}
    return {"type": ["null", kinds.pop()]}


def infer_kinds(
    rows: Iterator[Row], fmt: str, nulls: set[str], limit: int, seen: dict[str, set[str]]
) -> None:
    """Add the value kinds of up to `limit` rows to `seen` (column -> kinds; first-seen order)."""
    for count, row in enumerate(rows):
        if count >= limit:
            break
        for name, value in row.items():
            kinds = seen.setdefault(name, set())
            if fmt == "csv":
                kinds.add("null" if value in nulls else _text_kind(value))
            else:
                kinds.add(_value_kind(value))


def schema_from_kinds(seen: dict[str, set[str]]) -> dict[str, Any]:
    return {name: _merge(kinds) for name, kinds in seen.items()}


def arrow_kinds(path: Path, fmt: str, seen: dict[str, set[str]]) -> None:
    """Column kinds from a Parquet or Feather file's own schema (no sampling needed)."""
    pa = arrow()
    if fmt == "parquet":
        schema = pa.parquet.read_schema(path)
    else:
        schema = pa.feather.read_table(path, memory_map=True).schema
    t = pa.types
    for field in schema:
        kind = field.type
        if t.is_boolean(kind):
            name = "boolean"
        elif t.is_integer(kind):
            name = "integer"
        elif t.is_floating(kind) or t.is_decimal(kind):
            name = "number"
        elif t.is_timestamp(kind):
            name = "date-time"
        elif t.is_date(kind):
            name = "date"
        elif t.is_struct(kind) or t.is_map(kind):
            name = "object"
        elif t.is_list(kind) or t.is_large_list(kind):
            name = "array"
        else:
            name = "string"
        seen.setdefault(field.name, set()).update({name, "null"})


# --- converting CSV text to the schema's types ---------------------------------------------


def _to_bool(value: str) -> bool:
    return _BOOLS[value.lower()]


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "integer": int,
    "number": float,
    "boolean": _to_bool,
}


def column_converters(properties: dict[str, Any]) -> dict[str, Callable[[str], Any] | None]:
    """Per column, how a CSV text value becomes its schema type (None: keep the text)."""
    result: dict[str, Callable[[str], Any] | None] = {}
    for name, spec in properties.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        kinds = kind if isinstance(kind, list) else [kind]
        result[name] = next((_CONVERTERS[k] for k in kinds if k in _CONVERTERS), None)
    return result
