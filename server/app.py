"""create_app(settings): the Starlette application, its routes and its lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route

from server import openapi
from server.api import all_handlers
from server.context import Context
from server.errors import exception_handlers
from server.rpc import Handler, rpc
from server.settings import Settings
from server.store.db import Store, open_db

log = logging.getLogger("sluice")


def build_routes() -> list[Route]:
    """One route per operation in the document (plus its trailing-slash twin).

    Fails at start-up when the document and the handlers disagree, so they cannot drift.
    """
    handlers: dict[str, Handler] = {h.__name__: h for h in all_handlers()}
    operations = openapi.operations()
    missing = sorted(op.handler_name for op in operations if op.handler_name not in handlers)
    documented = {op.handler_name for op in operations}
    undocumented = sorted(set(handlers) - documented)
    if missing or undocumented:
        raise RuntimeError(
            f"openapi/config.yaml and server/api disagree: operations without a handler "
            f"{missing}, handlers without an operation {undocumented}"
        )
    base = openapi.base_path()
    routes = []
    for op in operations:
        endpoint = rpc(handlers[op.handler_name])
        path = base + op.path.rstrip("/")
        routes.append(Route(path, endpoint, methods=[op.method], name=op.operation_id))
        routes.append(Route(path + "/", endpoint, methods=[op.method]))
    return routes


def create_app(settings: Settings, ctx: Context | None = None) -> Starlette:
    """The ASGI app. `ctx` may be given by tests that want to share or replace its parts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        context = ctx or Context(settings=settings, store=Store(open_db(settings.db_path)))
        app.state.ctx = context
        log.info("Sluice ready; data in %s", settings.data_path.resolve())
        try:
            yield
        finally:
            if ctx is None:
                context.store.close()

    return Starlette(
        routes=build_routes(),
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
