"""Health and the API document (tags: health, openapi). Open without a credential.

`GET /health` answers 200 `Successful operation` as Airbyte's server does (the SDK takes any
content type there), or a 503 problem when the database does not answer.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

from server import openapi
from server.context import Context
from server.core.health import database_answers
from server.errors import ServiceUnavailable


async def get_health_check(ctx: Context) -> Response:
    if not await database_answers(ctx):
        raise ServiceUnavailable("The database does not answer")
    return PlainTextResponse("Successful operation")


async def get_open_api_yaml(ctx: Context) -> Response:
    return Response(openapi.PUBLIC.yaml, media_type="application/yaml")


async def get_open_api_json(ctx: Context) -> Response:
    return Response(openapi.PUBLIC.json, media_type="application/json")


handlers = [get_health_check, get_open_api_yaml, get_open_api_json]
