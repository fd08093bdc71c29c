"""Uploaded files: where their bytes live, their records, and the formats they may have.

A workspace's files are kept as `<data_dir>/files/<workspaceId>/<fileId><suffix>` (0700
directories, 0600 files); an upload is staged under `<data_dir>/files/.incoming/` and moved
there only once it is whole and reads as its format, so a cut or broken upload leaves nothing.
files/import links the file under the connectors' `/local/` root (`/local/files/<ws>/...`),
where source-file reads it; deleting the file removes both.
"""

from __future__ import annotations

import contextlib
import csv
import os
import uuid
from pathlib import Path
from typing import Any

import anyio
from sluice_connectors import file_detect
from sluice_connectors.entrypoint import ConfigError
from sqlite_utils import Database

from server.context import Context
from server.core.errors import InvalidInput, Refused
from server.models.files import FileFormat, FileRead
from server.private import private_dir
from server.settings import Settings
from server.store import files as store
from server.store import workspaces

INCOMING = ".incoming"


class BadUpload(Refused):
    """The uploaded file cannot be read as its format."""


def files_root(settings: Settings) -> Path:
    return settings.data_path / "files"


def incoming_dir(settings: Settings) -> Path:
    return private_dir(files_root(settings) / INCOMING)


def file_path(settings: Settings, file: FileRead) -> Path:
    suffix = file_detect.SUFFIXES[file.format]
    return files_root(settings) / str(file.workspace_id) / f"{file.file_id}{suffix}"


def local_relative(file: FileRead) -> str:
    """The file's path under the connectors' data root (`/local/` + this)."""
    suffix = file_detect.SUFFIXES[file.format]
    return f"files/{file.workspace_id}/{file.file_id}{suffix}"


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _csv_header_cells(path: Path, options: dict[str, Any]) -> int:
    """How many cells the CSV's header row has (0: none), read as source-file reads it."""
    encoding = options.get("encoding", "utf-8-sig")
    if str(encoding).replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # a byte-order mark is not a header cell
    with path.open(newline="", encoding=encoding, errors="replace") as handle:
        for _ in range(int(options.get("skiprows", 0))):
            handle.readline()
        reader = csv.reader(
            handle,
            delimiter=options.get("sep", options.get("delimiter", ",")),
            quotechar=options.get("quotechar", '"'),
            escapechar=options.get("escapechar"),
        )
        return len(next(reader, None) or [])


def check_file(
    staged: Path, name: str, fmt: FileFormat | None, options: dict[str, Any]
) -> tuple[FileFormat, dict[str, Any]]:
    """The file's format and reader options (detected, with `options` on top), once it has been
    checked to read as that format; BadUpload naming the problem otherwise."""
    found: Any = fmt or file_detect.detect_format(staged, name)
    merged = {**file_detect.default_options(staged, found), **options}
    try:
        file_detect.validate(staged, found, merged)
        # An empty file (or one whose first line is blank) reads as a CSV of nothing: no column
        # to preview or import. Blank header cells are columns (named column_<n>).
        headed = merged.get("header", 0) is not None and not merged.get("names")
        if found == "csv" and headed and _csv_header_cells(staged, merged) == 0:
            raise file_detect.BadFile("the file has no header row naming its columns")
    except file_detect.BadFile as exc:
        raise BadUpload(f"{name}: {exc}") from None
    except ConfigError as exc:  # the format's library is not installed
        raise BadUpload(f"{name}: {exc}") from None
    except (OSError, ValueError, LookupError, csv.Error, TypeError) as exc:  # bad reader options
        raise BadUpload(f"{name}: the file is not a readable csv file: {exc}") from None
    return found, merged


async def keep_upload(
    ctx: Context,
    staged: Path,
    *,
    name: str,
    workspace_id: uuid.UUID,
    fmt: FileFormat | None,
    options: dict[str, Any],
    size: int,
    sha256: str,
) -> FileRead:
    """Check a whole staged upload, move it into the workspace's files and record it. The
    staged file is gone afterwards, kept or not."""
    try:
        await ctx.store.read(workspaces.get_workspace, str(workspace_id))  # NotFound names it
        found, merged = await anyio.to_thread.run_sync(check_file, staged, name, fmt, options)
        file = FileRead(
            file_id=uuid.uuid4(),
            workspace_id=workspace_id,
            name=name,
            format=found,
            options=merged,
            size_bytes=size,
            sha256=sha256,
            created_at=ctx.now(),
        )
        target = file_path(ctx.settings, file)
        private_dir(target.parent)
        os.replace(staged, target)
    finally:
        _unlink(staged)
    try:
        return await ctx.store.write(store.insert_file, file)
    except BaseException:
        _unlink(target)
        raise


async def get_file(ctx: Context, file_id: uuid.UUID) -> FileRead:
    return await ctx.store.read(store.get_file, str(file_id))


async def list_files(ctx: Context, workspace_id: uuid.UUID, limit: int | None) -> list[FileRead]:
    def listed(db: Database) -> list[FileRead]:
        workspaces.get_workspace(db, str(workspace_id))
        return store.list_files(db, str(workspace_id), limit)

    return await ctx.store.read(listed)


async def delete_file(ctx: Context, file_id: uuid.UUID) -> None:
    """Forget the file and remove its bytes (and the copy import linked under /local/)."""
    file = await ctx.store.read(store.get_file, str(file_id))
    await ctx.store.write(store.delete_file, str(file_id))
    _unlink(file_path(ctx.settings, file))
    _unlink(ctx.settings.local_path / local_relative(file))


def override(file: FileRead, fmt: FileFormat | None, options: dict[str, Any] | None) -> FileRead:
    """The file read as another format or with other options (preview, import)."""
    if fmt is None and not options:
        return file
    if fmt is not None and fmt != file.format:
        base: dict[str, Any] = {}  # the detected options were the other format's
    else:
        base = dict(file.options)
    if options is not None and not isinstance(options, dict):
        raise InvalidInput("options must be an object", property_path="options")
    return FileRead(
        **{
            **{f: getattr(file, f) for f in file.__struct_fields__},
            "format": fmt or file.format,
            "options": {**base, **(options or {})},
        }
    )
