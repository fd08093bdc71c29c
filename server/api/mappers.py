"""Mappers: validating a stream's mappers, as the web UI does (tag: web_backend).

The rules are server.mappers'; the core (`server.core.stream_mappers`) reads the connection's
stream and answers in Airbyte's shape. A mapper's problem is in its result, not an error."""

from __future__ import annotations

from server.context import Context
from server.core import stream_mappers
from server.models.mappers import (
    WebBackendValidateMappersRequestBody,
    WebBackendValidateMappersResponse,
)
from server.rpc import Handler


async def web_backend_validate_mappers(
    body: WebBackendValidateMappersRequestBody, ctx: Context
) -> WebBackendValidateMappersResponse:
    return await stream_mappers.validate_mappers(ctx, body)


handlers: list[Handler] = [web_backend_validate_mappers]
