"""files/preview: a file's columns with their types and nullability, its first rows, its row
count and the problems found, read as source-file reads it.

The column types come from `sluice_connectors.file_formats` (the inference source-file's
discover uses: the same kinds, merged the same way), over the same number of rows
(`INFER_ROWS`, source-file's default `sample_rows`); a column is nullable when a null (or a
CSV null text) was seen in it. CSV rows are typed as the source types them, so the preview
shows the values a sync writes. Rows are counted for files up to `COUNT_BYTES`; past that a
count is taken from the file's metadata (Parquet, Feather, Avro) or estimated from the first
rows' size (`rowCountExact: false`).
"""

from __future__ import annotations

import itertools
import zipfile
from pathlib import Path
from typing import Any

from sluice_connectors import file_formats, file_readers
from sluice_connectors.entrypoint import ConfigError

from server.core.errors import Refused
from server.models.files import FileColumn, FilePreviewRead, FileProblem, FileRead

INFER_ROWS = 1000
COUNT_BYTES = 64 * 1024 * 1024
MAX_PROBLEMS = 100
_ESTIMATE_BYTES = 1024 * 1024


class CannotPreview(Refused):
    """The file cannot be read with this format and these options."""


def _columns(seen: dict[str, set[str]]) -> list[FileColumn]:
    schema = file_formats.schema_from_kinds(seen)
    columns = []
    for name, spec in schema.items():
        types = [t for t in spec["type"] if t != "null"]
        columns.append(
            FileColumn(
                name=name,
                type=types[0] if types else "string",
                format=spec.get("format"),
                # No value seen (a header alone): nothing says the column is never null.
                nullable="null" in seen[name] or not seen[name] or not types,
            )
        )
    return columns


def _typed(rows: list[dict[str, Any]], schema: dict[str, Any], nulls: set[str]) -> list[Any]:
    """CSV rows as the source types them (a value its type refuses becomes null)."""
    converters = file_formats.column_converters(schema)
    out = []
    for row in rows:
        typed: dict[str, Any] = {}
        for name, text in row.items():
            convert = converters.get(name)
            if text in nulls:
                typed[name] = None
            elif convert is None:
                typed[name] = text
            else:
                try:
                    typed[name] = convert(text)
                except (ValueError, KeyError):
                    typed[name] = None
        out.append(typed)
    return out


def _metadata_count(path: Path, fmt: str) -> int | None:
    if fmt == "parquet":
        return int(file_formats.arrow().parquet.ParquetFile(path).metadata.num_rows)
    if fmt == "feather":
        return int(file_formats.arrow().feather.read_table(path, memory_map=True).num_rows)
    if fmt == "avro":
        return int(file_readers.avro_count(path))
    return None


def _estimate(path: Path, fmt: str, rows_seen: int) -> int:
    """Rows in a large text file: newlines (CSV, JSONL) or objects (JSON) in its first MiB,
    scaled to its size."""
    with path.open("rb") as handle:
        head = handle.read(_ESTIMATE_BYTES)
    marks = head.count(b"\n") if fmt in ("csv", "jsonl") else head.count(b"{")
    if fmt == "csv":
        marks -= 1  # the header line
    estimate = int(max(marks, 1) * path.stat().st_size / max(len(head), 1))
    return max(estimate, rows_seen)


def preview(path: Path, file: FileRead, sample_size: int) -> FilePreviewRead:
    """Read in a worker thread; CannotPreview names what stops the read."""
    fmt, options = file.format, file.options
    nulls = {""} | {str(v) for v in options.get("na_values", [])}
    problems: list[dict[str, Any]] = []
    seen: dict[str, set[str]] = {}
    try:
        rows = file_formats.read_rows(path, fmt, options, problems)
        head = list(itertools.islice(rows, max(sample_size, INFER_ROWS)))
        if fmt in file_formats.ARROW_FORMATS:
            file_formats.arrow_kinds(path, fmt, seen)
        else:
            file_formats.header_columns(path, fmt, options, seen)
            file_formats.infer_kinds(iter(head), fmt, nulls, INFER_ROWS, seen)
        count, exact = len(head), True
        if len(head) >= max(sample_size, INFER_ROWS):
            known = _metadata_count(path, fmt)
            if known is not None:
                count = known
            elif path.stat().st_size <= COUNT_BYTES or fmt == "excel":
                count += sum(1 for _ in rows)
            else:
                count, exact = _estimate(path, fmt, len(head)), False
    except (OSError, ValueError, UnicodeDecodeError, KeyError, zipfile.BadZipFile) as exc:
        raise CannotPreview(f"{file.name} cannot be read as {fmt}: {exc}") from None
    except ConfigError as exc:
        raise CannotPreview(f"{file.name}: {exc}") from None
    sample = head[:sample_size]
    if fmt == "csv":
        sample = _typed(sample, file_formats.schema_from_kinds(seen), nulls)
    return FilePreviewRead(
        file_id=file.file_id,
        format=fmt,
        options=options,
        columns=_columns(seen),
        rows=sample,
        row_count=count,
        row_count_exact=exact,
        problems=[FileProblem(**p) for p in problems[:MAX_PROBLEMS]],
    )
