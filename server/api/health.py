"""Health check and the API document itself (tags: health, openapi)."""

from __future__ import annotations

from starlette.responses import Response

from server import openapi
from server.context import Context
from server.core.health import database_answers
from server.models.health import HealthCheckRead


async def get_health_check(ctx: Context) -> HealthCheckRead:
    ok = await database_answers(ctx)
    return HealthCheckRead(available=ok, db=ok)


async def get_open_api_spec(ctx: Context) -> Response:
    return Response(openapi.document_yaml(), media_type="application/yaml")


async def get_open_api_spec_yaml(ctx: Context) -> Response:
    return Response(openapi.document_yaml(), media_type="application/yaml")


async def get_open_api_spec_json(ctx: Context) -> Response:
    return Response(openapi.document_json(), media_type="application/json")


handlers = [get_health_check, get_open_api_spec, get_open_api_spec_yaml, get_open_api_spec_json]
