"""Sources and destinations: lists, and create and edit with forms drawn from the connector's
spec, with "test the connection" before saving."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
