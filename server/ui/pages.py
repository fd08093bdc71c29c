"""The UI's routes: every page module's ROUTES, then an HTML 404 for any other UI path."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from server.ui import (
    actors,
    connection_detail,
    connection_pages,
    definitions,
    files_pages,
    frame,
    job_pages,
    login,
    mapper_pages,
    notifications_pages,
    paths,
    schema_pages,
    settings_pages,
    static,
)


async def home(request: Request) -> Response:
    return frame.back(request, "/connections")


async def not_found(request: Request) -> Response:
    return frame.error_page(request, 404, "There is no such page.")


class UiFallback(Route):
    """Matches every UI path no page took for a signed-in browser, and no API path (those keep
    the API's 404 and 405 replies; a request without a session, the app's JSON 404)."""

    fallback = True  # server.auth.ui_gate: not a page

    def matches(self, scope: Scope) -> tuple[Match, MutableMapping[str, Any]]:
        if scope["type"] != "http" or not paths.is_ui_path(scope["path"]):
            return Match.NONE, {}
        if not scope.get(paths.SIGNED_IN_KEY):
            return Match.NONE, {}
        return super().matches(scope)


def ui_routes() -> list[BaseRoute]:
    return [
        *static.ROUTES,
        Route("/", home, methods=["GET"]),
        *login.ROUTES,
        *connection_pages.ROUTES,
        *connection_detail.ROUTES,
        *schema_pages.ROUTES,
        *mapper_pages.ROUTES,
        *job_pages.ROUTES,
        *actors.ROUTES,
        *definitions.ROUTES,
        *settings_pages.ROUTES,
        *files_pages.ROUTES,
        *notifications_pages.ROUTES,
        UiFallback("/{path:path}", not_found, methods=["GET", "HEAD", "POST"]),
    ]
