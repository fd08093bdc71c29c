"""Receiving an upload, the one rule both faces call (files/upload of the API, the UI's form).

`receive_upload` checks the content type and the declared length against the server's limit,
streams the body's chunks into a `StagedUpload` (each wait bounded by the body timeout), reads
the `format` and `options` fields, asks the caller for the workspace and keeps the file through
`files.keep_upload`; the staged file is gone afterwards, kept or not. What goes wrong is one of
the core's errors, which each face answers in its own way: `UploadTooLarge`, `BadMultipart`
(also a body that is not multipart: `NotMultipart`), `UploadStalled`, `ClientGone`,
`NotAdmitted`, `InvalidInput` (a bad field), and whatever `keep_upload` raises.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, cast, get_args

import anyio
import msgspec

from server.context import Context
from server.core import files
from server.core.errors import DomainError, InvalidInput
from server.core.files_upload import (
    BadMultipart,
    StagedUpload,
    UploadTooLarge,
    boundary_of,
    too_large,
)
from server.models.files import FileFormat, FileRead

# Room for the multipart framing and the text fields around the file.
FRAMING_BYTES = 1024 * 1024

Fields = Mapping[str, str]
Workspace = Callable[[Fields], Awaitable[uuid.UUID] | uuid.UUID]


class NotMultipart(BadMultipart):
    """The request body is not multipart/form-data."""


class UploadStalled(DomainError):
    """The upload stalled: no data came within the body timeout."""


class ClientGone(DomainError):
    """The client went away mid-upload: nobody to answer."""


def workspace_field(fields: Fields) -> uuid.UUID:
    """The `workspaceId` field as a workspace id (the API's upload names its workspace)."""
    raw = fields.get("workspaceId")
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        raise InvalidInput(
            "files/upload needs a 'workspaceId' field holding a workspace id",
            property_path="workspaceId",
            invalid_value=raw,
        ) from None


def reading(fields: Fields) -> tuple[FileFormat | None, dict[str, Any]]:
    """The `format` and `options` fields: how the file is to be read."""
    fmt = fields.get("format") or None
    if fmt is not None and fmt not in get_args(FileFormat):
        raise InvalidInput(
            f"Unknown format {fmt!r}; files/formats lists them", property_path="format"
        )
    options: Any = {}
    if fields.get("options"):
        try:
            options = msgspec.json.decode(fields["options"])
        except msgspec.DecodeError:
            options = None
        if not isinstance(options, dict):
            raise InvalidInput(
                'The reader options must be a JSON object, e.g. {"sep": ";"}',
                property_path="options",
            )
    return cast(FileFormat | None, fmt), options


async def _take(staged: StagedUpload, chunks: AsyncIterator[bytes], timeout: float) -> None:
    while True:
        # The body timeout bounds the wait for each chunk: a big upload may take long.
        try:
            with anyio.fail_after(timeout if timeout > 0 else None):
                chunk = await chunks.__anext__()
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise UploadStalled(f"The upload stalled: no data for {timeout:g} s") from None
        await staged.feed(chunk)
    await staged.finish()


async def receive_upload(
    ctx: Context,
    content_type: str,
    content_length: str,
    chunks: AsyncIterator[bytes],
    workspace_id: Workspace,
    *,
    keep: tuple[str, ...] = (),
    admit: Callable[[Fields], bool] | None = None,
) -> FileRead:
    """Receive one multipart upload and keep its file. `chunks` raises `ClientGone` when the
    client leaves; `workspace_id` gets the fields once the body is in (and may refuse them);
    `admit` sees the fields sent before the file part (`keep` names fields to collect besides
    the core's) and refuses with `NotAdmitted` before any byte of the file is stored."""
    limit = ctx.settings.upload_max_bytes
    try:
        boundary = boundary_of(content_type)
    except BadMultipart as exc:
        raise NotMultipart(exc.message) from None
    if content_length.isdigit() and int(content_length) > limit + FRAMING_BYTES:
        raise UploadTooLarge(too_large(limit))
    staged = StagedUpload(files.incoming_dir(ctx.settings), boundary, limit, keep=keep, admit=admit)
    try:
        await _take(staged, chunks, ctx.settings.http_body_timeout_seconds)
        found = workspace_id(staged.fields)
        workspace = await found if inspect.isawaitable(found) else found
        fmt, options = reading(staged.fields)
        return await files.keep_upload(
            ctx,
            staged.path,
            name=staged.filename or "upload",
            workspace_id=workspace,
            fmt=fmt,
            options=options,
            size=staged.size,
            sha256=staged.sha256.hexdigest(),
        )
    finally:
        staged.discard()
