"""Every public-API handler, for the routes (server/app.py) and the document's schemas."""

from __future__ import annotations

from server.public import applications, health, workspaces
from server.public.rest import Handler

MODULES = [health, applications, workspaces]


def all_handlers() -> list[Handler]:
    return [h for m in MODULES for h in m.handlers]
