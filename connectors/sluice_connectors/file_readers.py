"""Reading rows from Excel (xlsx) and Avro files, for source-file and the server's file
preview. Each needs an optional dependency; without it the error says which extra to install.

Values come out JSON-compatible as the other formats' do: Avro decimals become floats (JSON
numbers, as the inferred schema says), Excel times and durations their ISO text.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sluice_connectors.entrypoint import ConfigError

Row = dict[str, Any]


def openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        raise ConfigError(
            "Excel files need openpyxl: pip install 'sluice-connectors[excel]'"
        ) from None
    return openpyxl


def fastavro() -> Any:
    try:
        import fastavro
    except ImportError:
        raise ConfigError(
            "Avro files need fastavro: pip install 'sluice-connectors[avro]'"
        ) from None
    return fastavro


def _cell(value: Any) -> Any:
    if isinstance(value, datetime.time | datetime.timedelta):
        return str(value)
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _workbook(handle: Any) -> Any:
    # A file object, not a path: openpyxl refuses a path whose name does not end in .xlsx.
    return openpyxl().load_workbook(handle, read_only=True, data_only=True)


def excel_sheets(path: Path) -> list[str]:
    with path.open("rb") as handle:
        book = _workbook(handle)
        try:
            return list(book.sheetnames)
        finally:
            book.close()


def excel_rows(path: Path, options: dict[str, Any]) -> Iterator[Row]:
    """The rows of one sheet (`sheet_name`: a name or a 0-based index; the first by default);
    the first row (after `skiprows`) names the columns unless `header` is null."""
    with path.open("rb") as handle:
        yield from _sheet_rows(path, _workbook(handle), options)


def _sheet_rows(path: Path, book: Any, options: dict[str, Any]) -> Iterator[Row]:
    from sluice_connectors.file_formats import column_names

    try:
        sheet_name = options.get("sheet_name", 0)
        if isinstance(sheet_name, int):
            if not 0 <= sheet_name < len(book.sheetnames):
                raise ValueError(f"{path.name} has no sheet number {sheet_name}")
            sheet = book.worksheets[sheet_name]
        elif sheet_name in book.sheetnames:
            sheet = book[sheet_name]
        else:
            raise ValueError(f"{path.name} has no sheet {sheet_name!r}: {book.sheetnames}")
        values = sheet.iter_rows(values_only=True)
        for _ in range(int(options.get("skiprows", 0))):
            next(values, None)
        names = options.get("names")
        if options.get("header", 0) is not None:
            header = next(values, None)
            if header is None:
                return
            names = names or [h if h is not None else "" for h in header]
        for cells in values:
            if all(c is None for c in cells):
                continue
            if names is None:
                names = [str(i) for i in range(len(cells))]
            row = dict(zip(column_names(names), map(_cell, cells), strict=False))
            yield row
    finally:
        book.close()


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def avro_rows(path: Path) -> Iterator[Row]:
    reader_type = fastavro().reader
    with path.open("rb") as handle:
        for record in reader_type(handle):
            if not isinstance(record, dict):
                raise ValueError(f"{path.name}: Avro records must be records (objects)")
            yield {k: _plain(v) for k, v in record.items()}


def avro_count(path: Path) -> int:
    """Records in an Avro file, from its block headers (no record is decoded)."""
    block_reader = fastavro().block_reader
    with path.open("rb") as handle:
        return sum(block.num_records for block in block_reader(handle))
