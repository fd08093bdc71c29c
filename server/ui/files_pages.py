"""Files: the workspace's uploaded files, an upload form, a file's preview (columns, types,
first rows, row count, problems) and an import form into a destination; delete.

The upload (`POST /files/upload`) is the core's `receive_upload`, as the API's files/upload is:
streamed to disk as it arrives (the edge passes its body through unbuffered,
`server.edge.STREAMED_PATHS`). Its CSRF token is the form's first field (browsers send a form's
fields in document order), checked by the core's `admit` predicate on the fields sent before the
file part: a forged request, or one with the token after the file or only in the URL, has not a
byte of its file stored. The token stays out of URLs, so out of the access log. The Origin check
of the edge backs it up.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast, get_args

import anyio
import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from server.core import files as core
from server.core import files_import, files_preview
from server.core import files_receive as receive
from server.core.actor_list import list_actor_summaries
from server.core.errors import DomainError
from server.core.files_formats import FORMATS
from server.core.files_upload import BadMultipart, NotAdmitted, UploadTooLarge
from server.models.files import FileFormat, FileImportRequestBody, FileRead
from server.ui import frame, paths
from server.ui.actor_kinds import default_workspace

UPLOAD = "/files/upload"
SAMPLE_ROWS = 20
PAGE_SIZE = 200


def _file_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["file_id"])
    except ValueError:
        raise frame.PageError(404, "There is no such file.") from None


async def _file(request: Request) -> FileRead:
    """The file of the path, when it is one of the UI's workspace (404 otherwise)."""
    ctx = frame.context(request)
    file = await core.get_file(ctx, _file_id(request))
    if file.workspace_id != await default_workspace(ctx):
        raise frame.PageError(404, "There is no such file.")
    return file


def _token_ok(request: Request, fields: Mapping[str, str]) -> bool:
    """The `csrf_token` field is this browser's token (as `frame.form` checks it)."""
    sent = fields.get("csrf_token", "")
    found = frame.session(request)
    expected = found.csrf_token if found is not None else request.cookies.get(paths.CSRF_COOKIE)
    return bool(sent and expected and hmac.compare_digest(sent, expected))


async def files_page(request: Request) -> Response:
    ctx = frame.context(request)
    workspace = await default_workspace(ctx)
    files = await core.list_files(ctx, workspace, PAGE_SIZE)
    values = {
        "files": files,
        "formats": [f.format for f in FORMATS],
        "upload": UPLOAD,
        "limit": ctx.settings.upload_max_bytes,
    }
    return frame.page(request, "files/list.html", values)


def _refuse(request: Request, message: str) -> Response:
    response = frame.back(request, "/files", message, "error")
    # What is left of the body would be taken for the next request: close instead.
    response.headers["connection"] = "close"
    return response


async def _chunks(request: Request) -> AsyncIterator[bytes]:
    """The body as it arrives; `ClientGone` when the browser leaves first."""
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        raise receive.ClientGone from None


async def upload(request: Request) -> Response:
    ctx = frame.context(request)

    async def workspace(_: Mapping[str, str]) -> uuid.UUID:
        return await default_workspace(ctx)

    try:
        file = await receive.receive_upload(
            ctx,
            request.headers.get("content-type", ""),
            request.headers.get("content-length", ""),
            _chunks(request),
            workspace,
            keep=("csrf_token",),
            admit=lambda fields: _token_ok(request, fields),
        )
    except receive.ClientGone:
        return Response(status_code=400)  # never seen: the browser left
    except NotAdmitted:
        response = frame.error_page(
            request, 403, "This form has expired or did not come from this site; try again."
        )
        response.headers["connection"] = "close"
        return response
    except receive.UploadStalled:
        return _refuse(request, "The upload stalled; try again.")
    except (UploadTooLarge, BadMultipart) as exc:
        return _refuse(request, exc.message)
    except DomainError as exc:
        return frame.back(request, "/files", exc.message, "error")
    return frame.back(request, f"/files/{file.file_id}", f"{file.name} uploaded.", "ok")


def _options(text: str) -> dict[str, Any] | None:
    if not text.strip():
        return None
    try:
        found = msgspec.json.decode(text)
    except msgspec.DecodeError:
        found = None
    if not isinstance(found, dict):
        raise frame.PageError(400, 'Reader options are a JSON object, e.g. {"sep": ";"}.')
    return found


async def file_page(request: Request) -> Response:
    ctx = frame.context(request)
    file = await _file(request)
    fmt = request.query_params.get("format") or None
    if fmt is not None and fmt not in get_args(FileFormat):
        raise frame.PageError(400, f"Unknown format {fmt!r}.")
    options_text = request.query_params.get("options", "")
    reading = core.override(file, cast(FileFormat | None, fmt), _options(options_text))
    preview, problem = None, None
    try:
        preview = await anyio.to_thread.run_sync(
            files_preview.preview, core.file_path(ctx.settings, file), reading, SAMPLE_ROWS
        )
    except DomainError as exc:
        problem = exc.message
    destinations = await list_actor_summaries(ctx, "destination", file.workspace_id, None, 200)
    values = {
        "file": file,
        "reading": reading,
        "options_text": options_text,
        "formats": [f.format for f in FORMATS],
        "preview": preview,
        "problem": problem,
        "destinations": destinations.rows,
        "table": _table_name(file.name),
    }
    return frame.page(request, "files/detail.html", values)


def _table_name(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    cleaned = "".join(c if c.isalnum() else "_" for c in stem).strip("_").lower()
    return cleaned or "imported"


async def import_page(request: Request) -> Response:
    ctx = frame.context(request)
    data = await frame.form(request)
    file = await _file(request)
    here = f"/files/{file.file_id}"
    renames = {
        key.removeprefix("rename."): value.strip()
        for key, value in data.multi_items()
        if key.startswith("rename.") and isinstance(value, str) and value.strip()
    }
    fmt = frame.field(data, "format") or None
    try:
        body = msgspec.convert(
            {
                "fileId": str(file.file_id),
                "destinationId": frame.field(data, "destination"),
                "tableName": frame.field(data, "table_name").strip(),
                "columnRenames": renames or None,
                "format": fmt,
                "options": _options(frame.field(data, "options")),
            },
            FileImportRequestBody,
        )
    except msgspec.ValidationError as exc:
        return frame.back(request, here, f"Check the form: {exc}", "error")
    except frame.PageError as exc:
        return frame.back(request, here, exc.message, "error")
    try:
        job_id = await files_import.import_file(ctx, body, file)
    except DomainError as exc:
        return frame.back(request, here, exc.message, "error")
    ctx.worker.wake()
    return frame.back(request, f"/jobs/{job_id}", f"Import started (job {job_id}).", "ok")


async def delete_page(request: Request) -> Response:
    await frame.form(request)
    file = await _file(request)
    await core.delete_file(frame.context(request), file.file_id)
    return frame.back(request, "/files", f"{file.name} deleted.", "ok")


ROUTES = [
    frame.route("/files", files_page),
    frame.route(UPLOAD, upload, methods=["POST"]),
    frame.route("/files/{file_id}", file_page),
    frame.route("/files/{file_id}/import", import_page, methods=["POST"]),
    frame.route("/files/{file_id}/delete", delete_page, methods=["POST"]),
]
