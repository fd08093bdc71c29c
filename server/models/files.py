"""Uploaded files (tag: files): Sluice's additions, named in the Configuration API's style."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec

from server.models.base import Model, PageSize

FileFormat = Literal["csv", "json", "jsonl", "parquet", "feather", "excel", "avro"]
SampleSize = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
TableName = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[^\x00]+$")]


class FileRead(Model):
    """An uploaded file: its bytes are kept by the server until the file is deleted."""

    file_id: uuid.UUID
    workspace_id: uuid.UUID
    name: str  # the uploaded file's own name
    format: FileFormat
    # Reader options: those detected (a CSV's encoding, delimiter, quote character) with the
    # ones given at upload on top.
    options: dict[str, Any]
    size_bytes: int
    sha256: str
    created_at: int
    # The file source that files/import made for it (reused by the next import).
    source_id: uuid.UUID | None = None
    # The connection files/import made to each destination (by destination id), reused too.
    connection_ids: dict[str, uuid.UUID] | None = None


class FileReadList(Model):
    files: list[FileRead]


class FileIdRequestBody(Model):
    file_id: uuid.UUID


class FileListRequestBody(Model):
    workspace_id: uuid.UUID
    page_size: PageSize | None = None


class FileFormatOption(Model):
    name: str
    type: str
    description: str
    detected: bool = False  # found from the file when not given


class FileFormatRead(Model):
    format: FileFormat
    title: str
    extensions: list[str]
    options: list[FileFormatOption]


class FileFormatReadList(Model):
    formats: list[FileFormatRead]


class FilePreviewRequestBody(Model):
    file_id: uuid.UUID
    format: FileFormat | None = None
    options: dict[str, Any] | None = None
    sample_size: SampleSize = 20


class FileColumn(Model):
    name: str
    type: str  # a JSON Schema type: string, integer, number, boolean, object, array
    nullable: bool
    format: str | None = None  # date or date-time for strings that hold them


class FileProblem(Model):
    row: int  # 1-based data row (the header is not counted)
    kind: str  # ragged_row, bad_encoding
    message: str


class FilePreviewRead(Model):
    file_id: uuid.UUID
    format: FileFormat
    options: dict[str, Any]
    columns: list[FileColumn]
    rows: list[dict[str, Any]]
    row_count: int
    row_count_exact: bool
    problems: list[FileProblem]


class FileImportRequestBody(Model):
    file_id: uuid.UUID
    destination_id: uuid.UUID
    table_name: TableName
    column_renames: dict[str, str] | None = None
    format: FileFormat | None = None
    options: dict[str, Any] | None = None
