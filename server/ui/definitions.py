"""Connector definitions: list, and add a Docker image or a local program (within the
allow-lists of what a definition may run)."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
