"""Jobs through the HTTP API, the helpers job tests share: settings for a fast server, the
objects a sync needs (source, destination, connection), waiting for a job to end, and a
server whose worker runs no job (`idle`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running
from tests.support.postgres import current_database_url

Json = dict[str, Any]

E2E_TEST = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"
SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"
POSTGRES = "25c5221d-dce2-4163-ade9-739ef790f503"
TERMINAL = ("succeeded", "failed", "cancelled")
SILENT = {"test_destination": {"test_destination_type": "SILENT"}}


def fast_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for job tests: retries without waiting, a quick poll."""
    values: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "sync_retry_backoff_seconds": 0.0,
        "worker_poll_seconds": 0.2,
        # SLUICE_TEST_STORE=postgres: this test's PostgreSQL database (tests/support).
        "database_url": current_database_url(),
        **overrides,
    }
    return Settings(**values)


async def ok(client: httpx.AsyncClient, path: str, body: Json | None = None) -> Json:
    r = await post(client, path, body or {})
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()  # type: ignore[no-any-return]


async def workspace_id(client: httpx.AsyncClient) -> str:
    return str((await ok(client, "workspaces/list"))["workspaces"][0]["workspaceId"])


async def make_source(
    client: httpx.AsyncClient, config: Json, definition_id: str = E2E_TEST, name: str = "Source"
) -> str:
    body = {
        "workspaceId": await workspace_id(client),
        "sourceDefinitionId": definition_id,
        "name": name,
        "connectionConfiguration": config,
    }
    return str((await ok(client, "sources/create", body))["sourceId"])


async def make_destination(
    client: httpx.AsyncClient, definition_id: str, config: Json, name: str = "Destination"
) -> str:
    body = {
        "workspaceId": await workspace_id(client),
        "destinationDefinitionId": definition_id,
        "name": name,
        "connectionConfiguration": config,
    }
    return str((await ok(client, "destinations/create", body))["destinationId"])


async def make_connection(
    client: httpx.AsyncClient,
    source_id: str,
    destination_id: str,
    sync_mode: str = "full_refresh",
    destination_sync_mode: str = "overwrite",
    only: set[str] | None = None,
    **extra: Any,
) -> str:
    """A connection syncing the streams the source discovers (`only` some of them), as a
    user sets one up."""
    discovered = await ok(client, "sources/discover_schema", {"sourceId": source_id})
    streams = []
    for entry in discovered["catalog"]["streams"]:
        config = dict(entry.get("config") or {})
        config.update(
            selected=only is None or entry["stream"]["name"] in only,
            syncMode=sync_mode,
            destinationSyncMode=destination_sync_mode,
        )
        if sync_mode == "incremental":
            config["cursorField"] = entry["stream"].get("defaultCursorField") or ["updated_at"]
        if destination_sync_mode.endswith("dedup"):
            config["primaryKey"] = entry["stream"].get("sourceDefinedPrimaryKey") or [["id"]]
        streams.append({"stream": entry["stream"], "config": config})
    body = {
        "sourceId": source_id,
        "destinationId": destination_id,
        "status": "active",
        "syncCatalog": {"streams": streams},
        **extra,
    }
    return str((await ok(client, "connections/create", body))["connectionId"])


async def e2e_connection(
    client: httpx.AsyncClient, source_config: Json | None = None, **extra: Any
) -> str:
    """source-e2e-test into destination-dev-null: real connectors, nothing to set up."""
    source = await make_source(client, source_config or {"max_messages": 10})
    destination = await make_destination(client, DEV_NULL, SILENT)
    return await make_connection(client, source, destination, **extra)


async def wait_job(
    client: httpx.AsyncClient, job_id: int, until: tuple[str, ...] = TERMINAL, timeout: float = 90
) -> Json:
    """Poll jobs/get as clients do, until the job's status is one of `until`."""
    deadline = time.monotonic() + timeout
    while True:
        info = await ok(client, "jobs/get", {"id": job_id})
        if info["job"]["status"] in until:
            return info
        assert time.monotonic() < deadline, f"job {job_id} still {info['job']['status']}"
        await anyio.sleep(0.1)


@pytest.fixture
async def idle(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A server whose worker runs no job: jobs stay as the API leaves them."""
    async with running(create_app(fast_settings(tmp_path, max_concurrent_syncs=0))) as c:
        yield c
