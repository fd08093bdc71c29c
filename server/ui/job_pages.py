"""A connection's job history and a job's log (tailing live while it runs)."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
