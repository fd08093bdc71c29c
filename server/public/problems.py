"""The public API's error bodies: problem JSON, as Airbyte's public API sends them.

`{"status", "type", "title", "detail", "data"}` with `Content-Type: application/json` (not
`application/problem+json`: the airbyte-api SDK takes only `application/json`). The title is
Airbyte's problem name for the status (`resource-not-found`, `unprocessable-entity`, ...).

A leaf: it imports nothing of server/, so the error handlers, the edge and the credential
check can all render a public path's errors in this shape.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

PREFIX = "/api/public/"

TITLES = {
    400: "bad-request",
    401: "invalid-api-key",
    403: "forbidden",
    404: "resource-not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    409: "state-conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "unprocessable-entity",
    429: "rate-limit-exceeded",
    500: "unexpected-problem",
    503: "try-again-later",
}
DOCS = "https://reference.airbyte.com/reference/errors"


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    status: int
    type: str
    title: str
    detail: str
    documentation_url: str | None = None
    data: dict[str, Any] | None = None


_encoder = msgspec.json.Encoder()


def is_public(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


def problem(
    status: int, detail: str, data: dict[str, Any] | None = None, title: str | None = None
) -> bytes:
    title = title or TITLES.get(status, "bad-request" if status < 500 else "unexpected-problem")
    return _encoder.encode(
        Problem(status=status, type=f"{DOCS}#{title}", title=title, detail=detail, data=data)
    )


def problem_response(
    status: int,
    detail: str,
    data: dict[str, Any] | None = None,
    headers: Any = None,
    title: str | None = None,
) -> Response:
    return Response(
        problem(status, detail, data, title),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
