"""Shared fixtures: settings under tmp_path, a migrated in-memory db, the app and its client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database
from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings
from server.store.db import open_db
from tests.connector_fixtures import CONNECTOR_PATH

# Fixtures that several test modules use, from tests/support/ (a plugin module is imported after
# this one, so it may import `post` and `running` from here).
pytest_plugins = ["tests.support.connections", "tests.support.serving", "tests.support.postgres"]

# Every test client sends the instance admin's default credentials (auth is on by default).
ADMIN_AUTH = ("airbyte", "password")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextlib.asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give an in-process client for it (as `localhost`, one of the
    hosts the server answers for by default)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://localhost", auth=ADMIN_AUTH
        ) as c:
            yield c


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The scheduler stays off here: a basic schedule would start syncs in tests about other things.
    # SLUICE_TEST_STORE=postgres: the store is a fresh PostgreSQL database (tests/support).
    return Settings(
        data_dir=str(tmp_path / "data"),
        scheduler_tick_seconds=0,
        connector_path=CONNECTOR_PATH,
        database_url=database_url,
    )


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    opened = open_db(database_url, "", tmp_path / "key") if database_url else open_db(None)
    yield opened
    opened.conn.close()


@pytest.fixture
def app(settings: Settings) -> Starlette:
    return create_app(settings)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client; the app's lifespan (start-up and shut-down) runs around it."""
    async with running(app) as c:
        yield c


async def post(client: httpx.AsyncClient, path: str, body: object = None) -> httpx.Response:
    """POST an API call the way clients do: JSON body, path under /api/v1/."""
    return await client.post(f"/api/v1/{path}", json=body if body is not None else {})
