"""Health and the API document (tags: health, openapi). Open without a credential.

`GET /health` answers 200 `Successful operation` as Airbyte's server does (the SDK takes any
content type there), or a 503 problem when the database does not answer.
"""

from __future__ import annotations

from sqlite_utils import Database
from starlette.responses import PlainTextResponse, Response

from server import openapi
from server.context import Context
from server.errors import ServiceUnavailable


def _ping(db: Database) -> bool:
    return bool(db.execute("SELECT 1").fetchone() == (1,))


async def get_health_check(ctx: Context) -> Response:
    try:
        ok = await ctx.store.read(_ping)
    except Exception:
        ok = False
    if not ok:
        raise ServiceUnavailable("The database does not answer")
    return PlainTextResponse("Successful operation")


async def get_open_api_yaml(ctx: Context) -> Response:
    return Response(openapi.PUBLIC.yaml, media_type="application/yaml")


async def get_open_api_json(ctx: Context) -> Response:
    return Response(openapi.PUBLIC.json, media_type="application/json")


handlers = [get_health_check, get_open_api_yaml, get_open_api_json]
