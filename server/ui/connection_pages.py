"""Connections: the list (filtered, paged) and one connection with its actions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.ui import frame


async def connection_list(request: Request) -> Response:
    return frame.page(request, "connections/list.html", {"rows": []})


ROUTES = [frame.route("/connections", connection_list)]
