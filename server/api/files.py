"""Uploaded files: upload, list, get, delete, formats, preview and import (tag: files).

Sluice's additions (Airbyte has no such operations), in the Configuration API's style: POST,
JSON bodies with camelCase ids. files/upload is the exception: a multipart/form-data body,
streamed to disk as it arrives (the edge passes its body through unbuffered), so its handler
answers an ASGI response that reads the body itself (`_Upload`).

A workspace-scoped credential sees only its workspace's files: a file of another workspace is
404 (as if it did not exist), an upload into another workspace 403.
"""

from __future__ import annotations

import uuid
from typing import Any, cast, get_args

import anyio
import msgspec
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from server.api.jobs import job_info
from server.auth.principal import current
from server.context import Context
from server.core import files as core
from server.core import files_import, files_preview
from server.core.errors import DomainError, InvalidInput
from server.core.files_formats import FORMATS
from server.core.files_upload import BadMultipart, StagedUpload, UploadTooLarge, boundary_of
from server.errors import (
    ApiError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    error_response,
    from_domain,
)
from server.models.files import (
    FileFormat,
    FileFormatReadList,
    FileIdRequestBody,
    FileImportRequestBody,
    FileListRequestBody,
    FilePreviewRead,
    FilePreviewRequestBody,
    FileRead,
    FileReadList,
)
from server.models.jobs import JobInfoRead

# Room for the multipart framing and the text fields around the file.
_FRAMING_BYTES = 1024 * 1024
_encoder = msgspec.json.Encoder()


class _ClientGone(Exception):
    """The client went away mid-upload: nobody to answer."""


def _scoped_workspace() -> str | None:
    principal = current.get()
    return principal.workspace_id if principal is not None else None


async def _visible(ctx: Context, file_id: uuid.UUID) -> FileRead:
    file = await core.get_file(ctx, file_id)
    scope = _scoped_workspace()
    if scope is not None and scope != str(file.workspace_id):
        raise NotFound(f"Could not find file with id: {file_id}", id=str(file_id))
    return file


def _fields(staged: StagedUpload) -> tuple[uuid.UUID, FileFormat | None, dict[str, Any]]:
    raw_id = staged.fields.get("workspaceId")
    try:
        workspace_id = uuid.UUID(raw_id or "")
    except ValueError:
        raise InvalidInput(
            "files/upload needs a 'workspaceId' field holding a workspace id",
            property_path="workspaceId",
            invalid_value=raw_id,
        ) from None
    fmt = staged.fields.get("format") or None
    if fmt is not None and fmt not in get_args(FileFormat):
        raise InvalidInput(
            f"Unknown format {fmt!r}; files/formats lists them", property_path="format"
        )
    options: Any = {}
    if staged.fields.get("options"):
        try:
            options = msgspec.json.decode(staged.fields["options"])
        except msgspec.DecodeError:
            options = None
        if not isinstance(options, dict):
            raise InvalidInput("'options' must be a JSON object", property_path="options")
    return workspace_id, cast(FileFormat | None, fmt), options


async def _receive_file(ctx: Context, scope: Scope, receive: Receive) -> FileRead:
    headers = Headers(scope=scope)
    limit = ctx.settings.upload_max_bytes
    try:
        boundary = boundary_of(headers.get("content-type", ""))
    except BadMultipart as exc:
        raise UnsupportedMediaType(exc.message) from None
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _FRAMING_BYTES:
        raise PayloadTooLarge(
            f"The upload is larger than {limit} bytes, the server's upload limit "
            "(SLUICE_UPLOAD_MAX_BYTES)"
        )
    staged = StagedUpload(core.incoming_dir(ctx.settings), boundary, limit)
    timeout = ctx.settings.http_body_timeout_seconds
    try:
        more = True
        while more:
            # The body timeout bounds the wait for each chunk: a big upload may take long.
            with anyio.fail_after(timeout if timeout > 0 else None):
                message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            await staged.feed(message.get("body", b""))
            more = message.get("more_body", False)
        await staged.finish()
        workspace_id, fmt, options = _fields(staged)
        scoped = _scoped_workspace()
        if scoped is not None and scoped != str(workspace_id):
            raise Forbidden(f"This credential may not create objects in workspace {workspace_id}")
        return await core.keep_upload(
            ctx,
            staged.path,
            name=staged.filename or "upload",
            workspace_id=workspace_id,
            fmt=fmt,
            options=options,
            size=staged.size,
            sha256=staged.sha256.hexdigest(),
        )
    except TimeoutError:
        raise RequestTimeout(f"The upload stalled: no data for {timeout:g} s") from None
    except UploadTooLarge as exc:
        raise PayloadTooLarge(exc.message) from None
    finally:
        staged.discard()


class _Upload(Response):
    """The reply of files/upload, which receives the upload when it is sent."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(media_type="application/json")
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            file = await _receive_file(self.ctx, scope, receive)
        except _ClientGone:
            return
        except (ApiError, DomainError) as exc:
            error = exc if isinstance(exc, ApiError) else from_domain(exc)
            response = error_response(error, scope["path"])
            # What is left of the body would be taken for the next request: close instead.
            response.headers["connection"] = "close"
            await response(scope, receive, send)
            return
        await Response(_encoder.encode(file), media_type="application/json")(scope, receive, send)


async def upload_file(ctx: Context) -> Response:
    return _Upload(ctx)


async def list_files(body: FileListRequestBody, ctx: Context) -> FileReadList:
    return FileReadList(files=await core.list_files(ctx, body.workspace_id, body.page_size))


async def get_file(body: FileIdRequestBody, ctx: Context) -> FileRead:
    return await _visible(ctx, body.file_id)


async def delete_file(body: FileIdRequestBody, ctx: Context) -> None:
    await _visible(ctx, body.file_id)
    await core.delete_file(ctx, body.file_id)


async def list_file_formats(ctx: Context) -> FileFormatReadList:
    return FileFormatReadList(formats=FORMATS)


async def preview_file(body: FilePreviewRequestBody, ctx: Context) -> FilePreviewRead:
    file = await _visible(ctx, body.file_id)
    path = core.file_path(ctx.settings, file)
    reading = core.override(file, body.format, body.options)
    return await anyio.to_thread.run_sync(files_preview.preview, path, reading, body.sample_size)


async def import_file(body: FileImportRequestBody, ctx: Context) -> JobInfoRead:
    file = await _visible(ctx, body.file_id)
    job_id = await files_import.import_file(ctx, body, file)
    ctx.worker.wake()
    return await job_info(ctx, job_id)


handlers = [
    upload_file,
    list_files,
    get_file,
    delete_file,
    list_file_formats,
    preview_file,
    import_file,
]
