"""`rpc(handler)`: turn a typed handler into a Starlette endpoint.

A handler looks like `async def create_source(body: SourceCreate, ctx: Context) -> SourceRead`.
The body is decoded and validated in one step by a msgspec Decoder cached per handler; unknown
fields are ignored and an empty body counts as `{}`. A reply of `None` is a 204, as Airbyte's
deletes are; a `Raw` reply is sent as-is (pre-encoded documents).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from server.context import Context
from server.errors import BadRequest, PayloadTooLarge, from_decode_error
from server.models.decoding import RequestDecoder

Handler = Callable[..., Awaitable[Any]]
Endpoint = Callable[[Request], Awaitable[Response]]

_encoder = msgspec.json.Encoder()


def body_type(handler: Handler) -> type | None:
    """The request model a handler takes (its `body` parameter), if any."""
    hints = typing.get_type_hints(handler)
    return hints.get("body") if "body" in inspect.signature(handler).parameters else None


def reply_type(handler: Handler) -> Any:
    return typing.get_type_hints(handler).get("return")


async def read_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing (413) as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body is larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def rpc(handler: Handler) -> Endpoint:
    model = body_type(handler)
    # Strict msgspec types, except that `3.0` is taken where an integer goes (as Airbyte does).
    decoder: RequestDecoder[Any] | None = RequestDecoder(model) if model is not None else None

    async def endpoint(request: Request) -> Response:
        ctx: Context = request.app.state.ctx
        args: list[Any] = []
        if decoder is not None:
            raw = await read_body(request, ctx.settings.max_body_bytes)
            if not raw.strip():
                raw = b"{}"
            try:
                args.append(decoder.decode(raw))
            except msgspec.ValidationError as exc:
                raise from_decode_error(exc, raw) from None
            except msgspec.DecodeError as exc:
                raise BadRequest(f"Malformed JSON in request body: {exc}") from None
        result = await handler(*args, ctx)
        if result is None:
            return Response(status_code=204)
        if isinstance(result, Response):
            return result
        content = result if isinstance(result, msgspec.Raw) else _encoder.encode(result)
        return Response(bytes(content), media_type="application/json")

    endpoint.__name__ = handler.__name__
    return endpoint
