"""One module per API tag; each exports `handlers`, named after the document's operationIds."""

from __future__ import annotations

from server.api import (
    api_keys,
    applications,
    checks,
    connections,
    debug,
    destination_definitions,
    destinations,
    discover,
    files,
    health,
    jobs,
    mappers,
    notifications,
    operations,
    schedules,
    source_definitions,
    sources,
    specifications,
    state,
    syncs,
    web_backend,
    workspaces,
)
from server.rpc import Handler

MODULES = [
    health,
    workspaces,
    source_definitions,
    destination_definitions,
    sources,
    destinations,
    connections,
    operations,
    web_backend,
    schedules,
    debug,
    specifications,
    checks,
    discover,
    syncs,
    jobs,
    state,
    applications,
    api_keys,
    files,
    notifications,
    mappers,
]


def all_handlers() -> list[Handler]:
    return [handler for module in MODULES for handler in module.handlers]
