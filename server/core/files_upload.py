"""A multipart/form-data upload, streamed to a staged file as it arrives.

`python-multipart`'s push parser gets each received chunk; the `file` part's bytes are hashed
(SHA-256) and written out in batches of about 1 MiB (in a worker thread, off the event loop),
the other parts (`workspaceId`, `format`, `options`, and any the caller names) are kept as
small text fields. Nothing holds more than a batch, whatever the file's size. Past `limit`
bytes of file, or on a body that ends before the multipart's closing boundary, the staged file
is removed. A caller's `admit` predicate sees the fields sent before the `file` part, and when
it says no, not a byte of the file is written (`NotAdmitted`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header

from server.core.errors import Refused

BATCH_BYTES = 1024 * 1024
FIELD_LIMIT = 64 * 1024  # a text field (workspaceId, format, options)
TEXT_FIELDS = ("workspaceId", "format", "options")


class UploadTooLarge(Refused):
    """The uploaded file is larger than the server accepts."""


class BadMultipart(Refused):
    """The request body is not a complete multipart/form-data upload."""


class NotAdmitted(Refused):
    """The fields sent before the file were refused: nothing of the file was kept."""


def too_large(limit: int) -> str:
    return (
        f"The file is larger than {limit} bytes, the server's upload limit "
        "(SLUICE_UPLOAD_MAX_BYTES)"
    )


def boundary_of(content_type: str) -> bytes:
    media, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise BadMultipart(
            "files/upload takes multipart/form-data (a 'file' part and a 'workspaceId' field), "
            f"not {content_type or 'no Content-Type'}"
        )
    return boundary


class StagedUpload:
    """One upload in progress: feed it the body's chunks, then `finish()`."""

    def __init__(
        self,
        directory: Path,
        boundary: bytes,
        limit: int,
        *,
        keep: tuple[str, ...] = (),
        admit: Callable[[Mapping[str, str]], bool] | None = None,
    ) -> None:
        self.limit = limit
        self._keep = TEXT_FIELDS + keep
        self._admit = admit
        self.path = directory / f"{uuid.uuid4()}.part"
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self.sha256 = hashlib.sha256()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._part: str | None = None  # the name of the part being read
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._text = bytearray()
        self._ended = False
        self._error: Refused | None = None
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    # --- parser callbacks (sync, called from `feed`) ---

    def _part_begin(self) -> None:
        self._headers, self._header_name, self._part = {}, b"", None
        self._text = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        name = self._header_name.lower()
        self._headers[name] = self._headers.get(name, b"") + data[start:end]

    def _header_end(self) -> None:
        self._header_name = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._part = params.get(b"name", b"").decode("utf-8", "replace")
        if self._part == "file":
            if self.filename is not None:
                self._error = BadMultipart("the upload has more than one 'file' part")
            self._check_admitted()
            raw = params.get(b"filename", b"upload")
            self.filename = os.path.basename(raw.decode("utf-8", "replace")) or "upload"

    def _check_admitted(self) -> None:
        """The caller's predicate, once, on the fields seen so far (before any file byte)."""
        admit, self._admit = self._admit, None
        if admit is not None and not admit(self.fields):
            self._error = NotAdmitted()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._error is not None:
            return  # refused: keep nothing more of this chunk
        if self._part == "file":
            self.size += end - start
            if self.size > self.limit:
                self._error = UploadTooLarge(too_large(self.limit))
                return
            self._pending.append(data[start:end])
            self._pending_size += end - start
        elif self._part in self._keep:
            self._text += data[start:end]
            if len(self._text) > FIELD_LIMIT:
                self._error = BadMultipart(f"the field {self._part!r} is too long")

    def _part_end(self) -> None:
        if self._part in self._keep:
            self.fields[self._part] = self._text.decode("utf-8", "replace").strip()

    def _end(self) -> None:
        self._ended = True

    # --- driving it ---

    def _flush(self, chunks: list[bytes]) -> None:
        data = b"".join(chunks)
        self.sha256.update(data)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    async def feed(self, chunk: bytes) -> None:
        """One chunk of the body; raises UploadTooLarge or BadMultipart."""
        try:
            self.parser.write(chunk)
        except Exception as exc:  # python-multipart's MultipartParseError and kin
            raise BadMultipart(f"the multipart body is malformed: {exc}") from None
        if self._error is not None:
            raise self._error
        if self._pending_size >= BATCH_BYTES:
            chunks, self._pending, self._pending_size = self._pending, [], 0
            await anyio.to_thread.run_sync(self._flush, chunks)

    async def finish(self) -> None:
        """The body has ended: the file is complete on disk, or BadMultipart says why not."""
        self._check_admitted()  # a body without a file part is checked too
        if self._error is not None:
            raise self._error
        if not self._ended:
            raise BadMultipart(
                "the multipart body ended before its closing boundary (the upload was cut short)"
            )
        if self.filename is None:
            raise BadMultipart("the upload has no 'file' part")
        chunks, self._pending = self._pending, []
        await anyio.to_thread.run_sync(self._flush, chunks)
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def discard(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
