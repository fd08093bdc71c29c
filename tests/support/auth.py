"""Shared pieces of the auth tests: an app whose clock the test moves, credentials of each kind."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from server.app import create_app
from server.context import Context
from server.settings import Settings
from server.store.db import Store, open_db
from tests.support.postgres import current_database_url

E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"
BASIC = "Basic " + base64.b64encode(b"airbyte:password").decode()


@dataclass
class Clock:
    """Wall clock the test moves (epoch seconds)."""

    now: float = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "scheduler_tick_seconds": 0,
        # Jobs created by these tests stay pending: nothing runs.
        "max_concurrent_syncs": 0,
        "database_url": current_database_url(),
        **overrides,
    }
    return Settings(**values)


@contextlib.asynccontextmanager
async def serve(
    settings: Settings, clock: Clock | None = None
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The app (with `clock` as its wall clock) and a client that sends no credential."""
    ctx = Context(
        settings=settings,
        store=Store(open_db(settings.database, key_dir=settings.data_path)),
        clock=clock or Clock(),
    )
    app = create_app(settings, ctx)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                yield app, c
    finally:
        ctx.store.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = {"Authorization": BASIC}


async def call(
    client: httpx.AsyncClient, path: str, body: Any = None, headers: dict[str, str] = ADMIN
) -> Any:
    r = await client.post(f"/api/v1/{path}", json=body if body is not None else {}, headers=headers)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()


async def api_key(client: httpx.AsyncClient, workspace_id: str | None = None, **body: Any) -> str:
    created = await call(
        client, "api_keys/create", {"name": "k", "workspaceId": workspace_id, **body}
    )
    return str(created["key"])


async def app_token(client: httpx.AsyncClient, workspace_id: str | None = None) -> str:
    app = await call(client, "applications/create", {"name": "a", "workspaceId": workspace_id})
    token = await call(
        client,
        "applications/token",
        {"client_id": app["clientId"], "client_secret": app["clientSecret"]},
        headers={},
    )
    return str(token["access_token"])
