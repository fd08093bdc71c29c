"""Health check and the API document itself (tags: health, openapi)."""

from __future__ import annotations

from sqlite_utils import Database
from starlette.responses import Response

from server import openapi
from server.context import Context
from server.models.health import HealthCheckRead


def _ping(db: Database) -> bool:
    return bool(db.execute("SELECT 1").fetchone() == (1,))


async def get_health_check(ctx: Context) -> HealthCheckRead:
    try:
        ok = await ctx.store.read(_ping)
    except Exception:
        ok = False
    return HealthCheckRead(available=ok, db=ok)


async def get_open_api_spec(ctx: Context) -> Response:
    return Response(openapi.document_yaml(), media_type="application/yaml")


async def get_open_api_spec_yaml(ctx: Context) -> Response:
    return Response(openapi.document_yaml(), media_type="application/yaml")


async def get_open_api_spec_json(ctx: Context) -> Response:
    return Response(openapi.document_json(), media_type="application/json")


handlers = [get_health_check, get_open_api_spec, get_open_api_spec_yaml, get_open_api_spec_json]
