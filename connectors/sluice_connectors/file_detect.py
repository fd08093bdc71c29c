"""What a file is and whether it is whole: format detection from its first bytes (then its
name), CSV dialect and encoding detection, and a check that reads enough of a file to refuse a
broken one (a Parquet file without its footer, an xlsx that is not a zip, a cut-off Avro
block). Used by the server when a file is uploaded; all of it reads in bounded memory.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from pathlib import Path
from typing import Any

import msgspec

from sluice_connectors import file_formats, file_readers
from sluice_connectors.entrypoint import ConfigError

SAMPLE_BYTES = 64 * 1024
# A JSON array is parsed whole to check it; past this size only its two ends are looked at.
JSON_PARSE_LIMIT = 64 * 1024 * 1024
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".feather": "feather",
    ".arrow": "feather",
    ".xlsx": "excel",
    ".avro": "avro",
}
SUFFIXES = {
    "csv": ".csv",
    "json": ".json",
    "jsonl": ".jsonl",
    "parquet": ".parquet",
    "feather": ".feather",
    "excel": ".xlsx",
    "avro": ".avro",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class BadFile(ValueError):
    """The file is not what its format says, or is cut short; the message says how."""


def _head(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def detect_format(path: Path, filename: str) -> str:
    """The format by the file's magic bytes, else its name's extension, else CSV."""
    head = _head(path)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"ARROW1", b"FEA1")):
        return "feather"
    if head.startswith(b"Obj\x01"):
        return "avro"
    if head.startswith(b"PK\x03\x04"):
        return "excel"
    by_name = EXTENSIONS.get(Path(filename).suffix.lower())
    if by_name is not None:
        return by_name
    text = head.lstrip()
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        first = text.split(b"\n", 1)[0]
        try:
            msgspec.json.decode(first)
        except msgspec.DecodeError:
            return "json"  # one object spread over lines
        return "jsonl"
    return "csv"


def detect_encoding(head: bytes) -> str:
    """A byte-order mark's encoding; else UTF-8 when the sample decodes as it; else latin-1
    (which decodes any byte: the preview then shows what is odd)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    try:
        # A multi-byte character cut at the sample's end is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def detect_csv(path: Path) -> dict[str, Any]:
    """Reader options for a CSV file: its encoding, delimiter and quote character."""
    head = _head(path)
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="replace")
    # The last line of the sample may be cut: leave it out.
    lines = text.splitlines()
    sample = "\n".join(lines[:-1] if len(lines) > 1 else lines)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter, quotechar = dialect.delimiter, dialect.quotechar or '"'
    except csv.Error:
        delimiter, quotechar = ",", '"'
    return {"encoding": encoding, "delimiter": delimiter, "quotechar": quotechar}


def default_options(path: Path, fmt: str) -> dict[str, Any]:
    """The reader options detected for a file (CSV's dialect; nothing for the others)."""
    return detect_csv(path) if fmt == "csv" else {}


def validate(path: Path, fmt: str, options: dict[str, Any]) -> None:
    """Raise BadFile naming the problem unless the file reads as `fmt` (ConfigError when the
    format's library is missing)."""
    try:
        _VALIDATORS[fmt](path, options)
    except (BadFile, ConfigError):
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, csv.Error) as exc:
        raise BadFile(f"the file is not a readable {fmt} file: {exc}") from None
    except Exception as exc:  # a format library's own error class (pyarrow, fastavro)
        raise BadFile(f"the file is not a readable {fmt} file: {exc}") from None


def _csv(path: Path, options: dict[str, Any]) -> None:
    head = _head(path)
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise BadFile("the file holds NUL bytes: it is not a text (CSV) file")
    rows = file_formats.read_rows(path, "csv", options, problems=[])
    next(iter(rows), None)


def _json(path: Path, options: dict[str, Any]) -> None:
    if options.get("lines"):
        _jsonl(path, options)
        return
    if path.stat().st_size <= JSON_PARSE_LIMIT:
        for _ in file_formats.read_rows(path, "json", options):
            pass
        return
    head = _head(path, 1024).lstrip()
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 1024))
        tail = handle.read().rstrip()
    if not (head.startswith(b"[") and tail.endswith(b"]")):
        raise BadFile("the file is not a JSON array of objects (or it is cut short)")


def _jsonl(path: Path, options: dict[str, Any]) -> None:
    for _ in file_formats.read_rows(path, "jsonl", options):
        pass


def _parquet(path: Path, options: dict[str, Any]) -> None:
    pa = file_formats.arrow()
    meta = pa.parquet.ParquetFile(path).metadata  # reads the footer
    if meta.num_columns == 0:
        raise BadFile("the Parquet file has no columns")


def _feather(path: Path, options: dict[str, Any]) -> None:
    pa = file_formats.arrow()
    pa.feather.read_table(path, memory_map=True).validate()


def _excel(path: Path, options: dict[str, Any]) -> None:
    if not zipfile.is_zipfile(path):
        raise BadFile("the file is not an xlsx workbook (not a zip archive)")
    with zipfile.ZipFile(path) as archive:
        broken = archive.testzip()
        if broken is not None:
            raise BadFile(f"the xlsx archive's member {broken} is damaged")
    sheets = file_readers.excel_sheets(path)
    sheet = options.get("sheet_name", 0)
    if isinstance(sheet, str) and sheet not in sheets:
        raise BadFile(f"the workbook has no sheet {sheet!r}; its sheets: {sheets}")


def _avro(path: Path, options: dict[str, Any]) -> None:
    file_readers.avro_count(path)  # every block's header and sync marker


_VALIDATORS = {
    "csv": _csv,
    "json": _json,
    "jsonl": _jsonl,
    "parquet": _parquet,
    "feather": _feather,
    "excel": _excel,
    "avro": _avro,
}
