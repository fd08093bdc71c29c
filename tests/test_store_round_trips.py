"""Store round trips per request: `sources/create` in at most 2, and the list endpoints in a
number that does not grow with the page. A spy wraps the app's real Store (every call still
runs) and counts `read`/`write` calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running

E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"  # Sluice's test source, run as a local program
SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"


async def ok(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await post(client, path, body)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def default_workspace(client: httpx.AsyncClient) -> str:
    return str((await ok(client, "workspaces/list", {}))["workspaces"][0]["workspaceId"])


async def make_source(client: httpx.AsyncClient, workspace_id: str, name: str = "s") -> str:
    body = {"workspaceId": workspace_id, "sourceDefinitionId": E2E, "name": name}
    body["connectionConfiguration"] = {"max_messages": 10}
    return str((await ok(client, "sources/create", body))["sourceId"])


async def make_destination(client: httpx.AsyncClient, workspace_id: str) -> str:
    body = {"workspaceId": workspace_id, "destinationDefinitionId": SQLITE, "name": "d"}
    body["connectionConfiguration"] = {"destination_path": "/local/out.db"}
    return str((await ok(client, "destinations/create", body))["destinationId"])


class StoreSpy:
    """Counts the calls of `read` and `write` on one Store, passing each through."""

    def __init__(self, app: Starlette) -> None:
        self.store = app.state.ctx.store
        self.calls: list[str] = []
        for name in ("read", "write"):
            setattr(self.store, name, self._counted(name, getattr(self.store, name)))

    def _counted(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return await real(*args, **kwargs)

        return call

    def count(self) -> int:
        found = len(self.calls)
        self.calls.clear()
        return found


@pytest.fixture
async def spied(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, StoreSpy]]:
    app = create_app(settings)
    async with running(app) as client:
        yield client, StoreSpy(app)


async def test_create_source_reads_once_and_writes_once(
    spied: tuple[httpx.AsyncClient, StoreSpy],
) -> None:
    client, spy = spied
    workspace_id = await default_workspace(client)
    await make_source(client, workspace_id)  # the first run of the connector caches its spec
    spy.count()
    await make_source(client, workspace_id, name="second")
    assert spy.count() <= 2


async def round_trips(
    client: httpx.AsyncClient, spy: StoreSpy, path: str, body: dict[str, Any]
) -> int:
    spy.count()
    await ok(client, path, body)
    return spy.count()


async def test_list_round_trips_do_not_grow_with_the_page(
    spied: tuple[httpx.AsyncClient, StoreSpy],
) -> None:
    client, spy = spied
    workspace_id = await default_workspace(client)
    body = {"workspaceId": workspace_id}
    counts: dict[str, list[int]] = {"sources": [], "destinations": [], "connections": []}
    for _ in range(2):
        for _ in range(3):
            source = await make_source(client, workspace_id)
            destination = await make_destination(client, workspace_id)
            ends = {"sourceId": source, "destinationId": destination, "status": "active"}
            await ok(client, "connections/create", ends)
        for family in counts:
            counts[family].append(await round_trips(client, spy, f"{family}/list", body))
    for family, (three, six) in counts.items():
        assert three == six, (family, counts)
        assert three <= 2, (family, counts)
