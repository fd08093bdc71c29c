"""Every public-API handler, for the routes (server/app.py) and the document's schemas."""

from __future__ import annotations

from server.public import (
    applications,
    connections,
    definitions,
    destinations,
    health,
    jobs,
    sources,
    streams,
    workspaces,
)
from server.public.rest import Handler

MODULES = [
    health,
    applications,
    workspaces,
    jobs,
    sources,
    destinations,
    definitions,
    connections,
    streams,
]


def all_handlers() -> list[Handler]:
    return [h for m in MODULES for h in m.handlers]
