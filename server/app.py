"""create_app(settings): the Starlette application, its routes and its lifespan."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server import openapi
from server.api import all_handlers
from server.auth.forms import FormTokenMiddleware
from server.auth.headers import SecurityHeadersMiddleware
from server.auth.middleware import AuthMiddleware
from server.auth.scope import scoped
from server.context import Context
from server.edge import Edge
from server.errors import exception_handlers
from server.notify.loop import Deliveries
from server.private import PRIVATE_UMASK
from server.public.applications import ROOT_ALIASES
from server.public.handlers import all_handlers as all_public_handlers
from server.public.rest import rest
from server.roles import start_worker
from server.rpc import Endpoint, Handler, rpc
from server.runner.processes import remove_leftover_runs
from server.runner.setup import remove_leftovers, runners_for
from server.settings import Settings
from server.store.db import Store, open_db
from server.ui.pages import ui_routes

log = logging.getLogger("sluice")


def contract_routes(
    contract: openapi.Contract, handlers: list[Handler], adapt: Callable[[Handler], Endpoint]
) -> list[Route]:
    """One route per operation in the document (plus its trailing-slash twin).

    Fails at start-up when the document and the handlers disagree, so they cannot drift.
    """
    by_name: dict[str, Handler] = {h.__name__: h for h in handlers}
    operations = contract.operations()
    missing = sorted(op.handler_name for op in operations if op.handler_name not in by_name)
    documented = {op.handler_name for op in operations}
    undocumented = sorted(set(by_name) - documented)
    if missing or undocumented:
        raise RuntimeError(
            f"openapi/{contract.name}.yaml and its handlers disagree: operations without a "
            f"handler {missing}, handlers without an operation {undocumented}"
        )
    base = contract.base_path()
    # One route per path, whatever its methods, so that a 405 names them all in `Allow`.
    by_path: dict[str, dict[str, Endpoint]] = {}
    for op in operations:
        by_path.setdefault(op.path.rstrip("/"), {})[op.method] = adapt(by_name[op.handler_name])
    routes = []
    for path, endpoints in by_path.items():
        endpoint = _by_method(endpoints)
        name = next(op.operation_id for op in operations if op.path.rstrip("/") == path)
        routes.append(Route(base + path, endpoint, methods=list(endpoints), name=name))
        routes.append(Route(base + path + "/", endpoint, methods=list(endpoints)))
    return routes


def _by_method(endpoints: dict[str, Endpoint]) -> Endpoint:
    if len(endpoints) == 1:
        return next(iter(endpoints.values()))

    async def endpoint(request: Request) -> Response:
        # The route lets only these methods (and HEAD for GET) through.
        return await endpoints.get(request.method, endpoints.get("GET", _no_method))(request)

    return endpoint


async def _no_method(request: Request) -> Response:
    raise HTTPException(405)


def build_routes() -> list[BaseRoute]:
    # scoped: what a workspace-scoped credential may do, checked after decoding the body (the
    # public API's adapter applies the same rules to path and query parameters too).
    config = contract_routes(openapi.CONFIG, all_handlers(), lambda h: rpc(scoped(h)))
    public = contract_routes(openapi.PUBLIC, all_public_handlers(), rest)
    routes = config + public
    # The root paths SDKs resolve their default token URL to (see server/public/applications.py).
    by_id = {r.name: r.endpoint for r in public if r.name}
    for alias, operation_id in ROOT_ALIASES.items():
        routes.append(Route(alias, by_id[operation_id], methods=["POST"]))
        routes.append(Route(alias + "/", by_id[operation_id], methods=["POST"]))
    # The web UI at `/`, after the APIs (its last route takes every other UI path).
    return [*routes, *ui_routes()]


def middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: security headers on every reply (errors of the layers below too);
    CORS when origins are named (preflights need no credential); form-encoded token requests
    as JSON; the credential and rate check; then the edge (Host, Origin, content type, body)."""
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    cors = [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
        )
    ]
    return [
        Middleware(SecurityHeadersMiddleware),
        *(cors if origins else []),
        Middleware(FormTokenMiddleware),
        # The credential and rate check needs only the headers, so it comes before the edge
        # reads a body: a caller without a credential cannot make the server buffer one.
        Middleware(AuthMiddleware, settings=settings),
        # Host, Origin, content type, body size, deadline and depth: before any route runs.
        Middleware(Edge, settings=settings),
    ]


def create_app(settings: Settings, ctx: Context | None = None) -> Starlette:
    """The ASGI app. `ctx` may be given by tests that want to share or replace its parts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What the server creates is private to its user (the data directory holds every
        # secret), whatever umask it was started with; restored when the app stops.
        umask = os.umask(PRIVATE_UMASK)
        context = ctx or Context(
            settings=settings,
            store=Store(open_db(settings.database, settings.secret_key, settings.data_path)),
            runners=runners_for(settings),
        )
        app.state.ctx = context
        app.state.scheduler = None
        # Containers a crashed run of this server left behind (none without a Docker engine).
        await anyio.to_thread.run_sync(remove_leftovers, context.settings)
        # Processes and files of one-shot runs (spec, check, discover) a killed server left.
        await anyio.to_thread.run_sync(remove_leftover_runs, context.settings.data_path / "runs")
        log.info("Sluice ready; data in %s", settings.data_path.resolve())
        try:
            async with anyio.create_task_group() as tasks:
                # The job worker and the scheduler, unless `serve --no-worker` (API only).
                worker = None
                if settings.run_worker:
                    worker, app.state.scheduler = await start_worker(context, tasks)
                # The delivery loop: sends queued notifications, retrying failed ones.
                await tasks.start(Deliveries(context).run)
                try:
                    yield
                finally:
                    # Running attempts stop and are retried at the next start.
                    if worker is not None:
                        worker.stop_all()
                    tasks.cancel_scope.cancel()
        finally:
            if ctx is None:
                context.store.close()
            os.umask(umask)

    return Starlette(
        routes=build_routes(),
        middleware=middleware(settings),
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
