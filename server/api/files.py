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
from collections.abc import AsyncIterator, Mapping

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
from server.core import files_receive as receive
from server.core.errors import DomainError
from server.core.files_formats import FORMATS
from server.core.files_upload import UploadTooLarge
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

_encoder = msgspec.json.Encoder()


def _scoped_workspace() -> str | None:
    principal = current.get()
    return principal.workspace_id if principal is not None else None


async def _visible(ctx: Context, file_id: uuid.UUID) -> FileRead:
    file = await core.get_file(ctx, file_id)
    scope = _scoped_workspace()
    if scope is not None and scope != str(file.workspace_id):
        raise NotFound(f"Could not find file with id: {file_id}", id=str(file_id))
    return file


def _workspace(fields: Mapping[str, str]) -> uuid.UUID:
    """The upload's `workspaceId` field, one this credential may create objects in."""
    workspace_id = receive.workspace_field(fields)
    scoped = _scoped_workspace()
    if scoped is not None and scoped != str(workspace_id):
        raise Forbidden(f"This credential may not create objects in workspace {workspace_id}")
    return workspace_id


async def _chunks(receive_message: Receive) -> AsyncIterator[bytes]:
    """The ASGI body as chunks; `ClientGone` when the client leaves first."""
    more = True
    while more:
        message = await receive_message()
        if message["type"] == "http.disconnect":
            raise receive.ClientGone
        yield message.get("body", b"")
        more = message.get("more_body", False)


def _api_error(exc: DomainError) -> ApiError:
    """The upload's core errors in the API's statuses (the rest as every handler maps them)."""
    if isinstance(exc, receive.NotMultipart):
        return UnsupportedMediaType(exc.message)
    if isinstance(exc, UploadTooLarge):
        return PayloadTooLarge(exc.message)
    if isinstance(exc, receive.UploadStalled):
        return RequestTimeout(exc.message)
    return from_domain(exc)


class _Upload(Response):
    """The reply of files/upload, which receives the upload when it is sent."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(media_type="application/json")
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive_message: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        try:
            file = await receive.receive_upload(
                self.ctx,
                headers.get("content-type", ""),
                headers.get("content-length", ""),
                _chunks(receive_message),
                _workspace,
            )
        except receive.ClientGone:
            return
        except (ApiError, DomainError) as exc:
            error = exc if isinstance(exc, ApiError) else _api_error(exc)
            response = error_response(error, scope["path"])
            # What is left of the body would be taken for the next request: close instead.
            response.headers["connection"] = "close"
            await response(scope, receive_message, send)
            return
        reply = Response(_encoder.encode(file), media_type="application/json")
        await reply(scope, receive_message, send)


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
