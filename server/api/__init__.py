"""One module per API tag; each exports `handlers`, named after the document's operationIds."""

from __future__ import annotations

from server.api import health, workspaces
from server.rpc import Handler

MODULES = [health, workspaces]


def all_handlers() -> list[Handler]:
    return [handler for module in MODULES for handler in module.handlers]
