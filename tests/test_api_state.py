"""state/get and state/create_or_update through the HTTP API, and how syncs and resets change
the state: what a source is given as `--state` on its next read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from tests.conftest import post, running
from tests.support.api_jobs import e2e_connection, fast_settings, ok, wait_job

UNKNOWN = "3b2f8f6e-6f0a-4d55-9e55-8d9b1c7c2a10"


@pytest.fixture
async def idle(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path, max_concurrent_syncs=0))) as c:
        yield c


async def put_state(client: httpx.AsyncClient, connection_id: str, **state: Any) -> httpx.Response:
    return await post(
        client,
        "state/create_or_update",
        {
            "connectionId": connection_id,
            "connectionState": {"connectionId": connection_id, **state},
        },
    )


async def test_a_new_connection_has_no_state(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    got = await ok(idle, "state/get", {"connectionId": connection_id})
    assert got == {"connectionId": connection_id, "stateType": "not_set"}
    r = await post(idle, "state/get", {"connectionId": UNKNOWN})
    assert r.status_code == 404


@pytest.mark.parametrize(
    "given",
    [
        {
            "stateType": "stream",
            "streamState": [
                {"streamDescriptor": {"name": "users"}, "streamState": {"updated_at": 5}},
                {
                    "streamDescriptor": {"name": "orders", "namespace": "shop"},
                    "streamState": {"updated_at": 9},
                },
            ],
        },
        {
            "stateType": "global",
            "globalState": {
                "shared_state": {"lsn": 42},
                "streamStates": [{"streamDescriptor": {"name": "users"}, "streamState": {"x": 1}}],
            },
        },
        {"stateType": "legacy", "state": {"cursor": "2024-01-01"}},
    ],
    ids=["stream", "global", "legacy"],
)
async def test_each_state_type_round_trips(idle: httpx.AsyncClient, given: dict[str, Any]) -> None:
    connection_id = await e2e_connection(idle)
    r = await put_state(idle, connection_id, **given)
    assert r.status_code == 200, r.text
    expected = {"connectionId": connection_id, **given}
    assert r.json() == expected
    assert await ok(idle, "state/get", {"connectionId": connection_id}) == expected
    # Setting `not_set` forgets it again.
    r = await put_state(idle, connection_id, stateType="not_set")
    assert r.json() == {"connectionId": connection_id, "stateType": "not_set"}


async def test_camel_case_shared_state_is_accepted(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    r = await put_state(
        idle,
        connection_id,
        stateType="global",
        globalState={"sharedState": {"lsn": 1}, "streamStates": []},
    )
    assert r.status_code == 200, r.text
    assert r.json()["globalState"] == {"shared_state": {"lsn": 1}, "streamStates": []}


async def test_bad_state_bodies_are_422(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    r = await put_state(idle, connection_id, stateType="stream")
    assert r.status_code == 422
    assert r.json()["validationErrors"][0]["propertyPath"] == "connectionState.streamState"
    r = await put_state(idle, connection_id, stateType="sideways")
    assert r.status_code == 422
    r = await post(
        idle,
        "state/create_or_update",
        {
            "connectionId": connection_id,
            "connectionState": {"connectionId": UNKNOWN, "stateType": "not_set"},
        },
    )
    assert r.status_code == 422 and "connectionState.connectionId" in r.text
    r = await put_state(idle, UNKNOWN, stateType="not_set")
    assert r.status_code == 404
    # Nothing was stored by the refused calls.
    got = await ok(idle, "state/get", {"connectionId": connection_id})
    assert got["stateType"] == "not_set"


async def test_safe_variant_behaves_the_same(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    body = {
        "connectionId": connection_id,
        "connectionState": {
            "connectionId": connection_id,
            "stateType": "legacy",
            "state": {"a": 1},
        },
    }
    assert (await ok(idle, "state/create_or_update_safe", body))["state"] == {"a": 1}


# --- with real connectors -------------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path))) as c:
        yield c


async def test_incremental_sync_commits_state_that_the_next_sync_starts_from(
    client: httpx.AsyncClient,
) -> None:
    connection_id = await e2e_connection(
        client,
        {"max_messages": 30, "state_checkpoint_interval": 10},
        sync_mode="incremental",
        destination_sync_mode="append",
    )
    job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
    assert (await wait_job(client, job["id"]))["job"]["status"] == "succeeded"
    got = await ok(client, "state/get", {"connectionId": connection_id})
    assert got["stateType"] == "stream"
    [stream] = got["streamState"]
    assert stream["streamDescriptor"] == {"name": "data_stream"}
    assert stream["streamState"] == {"updated_at": 30}

    # Moving the state back makes the next sync read the records after it again.
    stream["streamState"] = {"updated_at": 25}
    r = await put_state(client, connection_id, stateType="stream", streamState=[stream])
    assert r.status_code == 200, r.text
    job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
    info = await wait_job(client, job["id"])
    assert info["job"]["status"] == "succeeded"
    assert info["job"]["aggregatedStats"]["recordsEmitted"] == 5
    got = await ok(client, "state/get", {"connectionId": connection_id})
    assert got["streamState"][0]["streamState"] == {"updated_at": 30}


async def test_state_cannot_change_while_a_sync_runs(client: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(
        client,
        {"max_messages": 100, "message_interval_ms": 50},
        sync_mode="incremental",
        destination_sync_mode="append",
    )
    job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
    await wait_job(client, job["id"], until=("running",))
    r = await put_state(client, connection_id, stateType="not_set")
    assert r.status_code == 409 and "running" in r.json()["message"]
    await ok(client, "jobs/cancel", {"id": job["id"]})
    r = await put_state(client, connection_id, stateType="not_set")
    assert r.status_code == 200


async def test_reset_forgets_the_state(client: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(
        client, {"max_messages": 20}, sync_mode="incremental", destination_sync_mode="append"
    )
    job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
    await wait_job(client, job["id"])
    assert (await ok(client, "state/get", {"connectionId": connection_id}))["stateType"] == "stream"
    reset = (await ok(client, "connections/reset", {"connectionId": connection_id}))["job"]
    info = await wait_job(client, reset["id"])
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]
    got = await ok(client, "state/get", {"connectionId": connection_id})
    assert got["stateType"] == "not_set"
    # The next sync reads everything again.
    job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
    info = await wait_job(client, job["id"])
    assert info["job"]["aggregatedStats"]["recordsEmitted"] == 20
