"""The public API's jobs (`/api/public/v1/jobs`): create, get, list, cancel, with real connectors.

The queue tests run a server whose worker runs no job (jobs stay `pending`) on a clock the test
moves, so times and orders are exact; the tests at the end run source-e2e-test into
destination-dev-null through the worker. Every test also reads the same jobs through the
configuration API: the two faces share one world.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from server.app import create_app
from tests.conftest import ADMIN_AUTH, running
from tests.support.api_jobs import e2e_connection, fast_settings, ok
from tests.support.auth import Clock, api_key, bearer, serve, settings_for
from tests.support.public import API, assert_problem

Json = dict[str, Any]
T0 = 1_900_000_000  # the moved clock's start: 2030-03-17T17:46:40Z
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DURATION = re.compile(r"^PT(\d+H)?(\d+M)?(\d+S)?$")
REQUIRED = {"jobId", "status", "jobType", "startTime", "connectionId"}


@pytest.fixture
def clock() -> Clock:
    return Clock(now=float(T0))


@pytest.fixture
async def idle(tmp_path: Path, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """The admin's client on a server whose worker runs no job, on `clock`."""
    async with serve(settings_for(tmp_path), clock) as (_, client):
        client.auth = ADMIN_AUTH
        yield client


async def create(client: httpx.AsyncClient, connection_id: str, job_type: str = "sync") -> Json:
    r = await client.post(f"{API}/jobs", json={"connectionId": connection_id, "jobType": job_type})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    job: Json = r.json()
    assert set(job) >= REQUIRED and job["status"] != "queued"
    return job


async def listed(client: httpx.AsyncClient, query: str = "") -> Json:
    r = await client.get(f"{API}/jobs{query}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def ids(page: Json) -> list[int]:
    return [job["jobId"] for job in page["data"]]


# --- the queue (no job runs) -----------------------------------------------------------------


async def test_a_created_job_is_pending_and_seen_by_the_config_api(
    idle: httpx.AsyncClient,
) -> None:
    connection_id = await e2e_connection(idle)
    job = await create(idle, connection_id)
    assert isinstance(job["jobId"], int)
    assert job == {
        "jobId": job["jobId"],
        "status": "pending",
        "jobType": "sync",
        "startTime": "2030-03-17T17:46:40Z",
        "connectionId": connection_id,
        "bytesSynced": 0,
        "rowsSynced": 0,
    }  # no duration while pending, no lastUpdatedAt before it ends
    got = await idle.get(f"{API}/jobs/{job['jobId']}")
    assert got.status_code == 200 and got.json() == job
    config = await ok(idle, "jobs/get", {"id": job["jobId"]})
    assert config["job"]["status"] == "pending" and config["job"]["configId"] == connection_id
    # A second job while one is pending: the config API's 409, as a problem.
    again = await idle.post(f"{API}/jobs", json={"connectionId": connection_id, "jobType": "sync"})
    body = assert_problem(again, 409, "state-conflict")
    assert "already running" in body["detail"] and str(job["jobId"]) in body["detail"]
    conflict = await idle.post("/api/v1/connections/sync", json={"connectionId": connection_id})
    assert conflict.status_code == 409


async def test_a_config_api_job_is_read_and_cancelled_here(
    idle: httpx.AsyncClient, clock: Clock
) -> None:
    connection_id = await e2e_connection(idle)
    job_id = (await ok(idle, "connections/sync", {"connectionId": connection_id}))["job"]["id"]
    got = (await idle.get(f"{API}/jobs/{job_id}")).json()
    assert got["status"] == "pending" and got["jobType"] == "sync" and "duration" not in got
    clock.now += 65
    cancelled = await idle.delete(f"{API}/jobs/{job_id}")
    assert cancelled.status_code == 200, cancelled.text
    job = cancelled.json()
    assert job["status"] == "cancelled" and job["jobId"] == job_id
    assert job["lastUpdatedAt"] == "2030-03-17T17:47:45Z" and job["duration"] == "PT1M5S"
    assert (await ok(idle, "jobs/get", {"id": job_id}))["job"]["status"] == "cancelled"
    body = assert_problem(await idle.delete(f"{API}/jobs/{job_id}"), 409, "state-conflict")
    assert body["detail"].startswith("Job is not currently running")
    # The connection is free again, for either face.
    await create(idle, connection_id)


async def test_reset_and_clear_map_to_the_config_types_and_refresh_is_refused(
    idle: httpx.AsyncClient,
) -> None:
    connection_id = await e2e_connection(idle)
    for public, config in (("reset", "reset_connection"), ("clear", "clear")):
        job = await create(idle, connection_id, public)
        assert job["jobType"] == public
        assert (await ok(idle, "jobs/get", {"id": job["jobId"]}))["job"]["configType"] == config
        assert (await idle.delete(f"{API}/jobs/{job['jobId']}")).status_code == 200
    refresh = await idle.post(
        f"{API}/jobs", json={"connectionId": connection_id, "jobType": "refresh"}
    )
    body = assert_problem(refresh, 422, "unprocessable-entity")
    assert body["detail"] == "Refreshes are not supported in the public API"
    assert (await listed(idle, f"?connectionId={connection_id}&status=pending"))["data"] == []


async def test_bad_and_unknown_input_are_problems(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    unknown = "3b2f8f6e-6f0a-4d55-9e55-8d9b1c7c2a10"
    gone = await idle.post(f"{API}/jobs", json={"connectionId": unknown, "jobType": "sync"})
    assert_problem(gone, 404, "resource-not-found")
    wrong = await idle.post(f"{API}/jobs", json={"connectionId": connection_id, "jobType": "x"})
    assert "jobType" in assert_problem(wrong, 422, "unprocessable-entity")["detail"]
    missing = await idle.post(f"{API}/jobs", json={"jobType": "sync"})
    assert_problem(missing, 422, "unprocessable-entity")
    assert_problem(await idle.get(f"{API}/jobs/987654"), 404, "resource-not-found")
    assert_problem(await idle.delete(f"{API}/jobs/987654"), 404, "resource-not-found")
    assert_problem(await idle.get(f"{API}/jobs/seven"), 400, "bad-request")
    for query in ("orderBy=createdAt", "orderBy=name|ASC", "orderBy=updatedAt|desc", "limit=101"):
        assert_problem(await idle.get(f"{API}/jobs?{query}"), 400, "bad-request")
    for query in (
        "status=queued_x",
        "jobType=reset_connection",
        "createdAtStart=yesterday",
        "updatedAtStart=null",
        "updatedAtEnd=0.5",
        "createdAtEnd=2030-03-18",
        "connectionId=null",
    ):
        assert_problem(await idle.get(f"{API}/jobs?{query}"), 400, "bad-request")


async def test_list_filters_orders_and_pages(idle: httpx.AsyncClient, clock: Clock) -> None:
    first = await e2e_connection(idle)
    second = await e2e_connection(idle)

    async def cancel(job_id: int) -> None:
        assert (await idle.delete(f"{API}/jobs/{job_id}")).status_code == 200

    early = (await create(idle, second))["jobId"]  # made first, cancelled last but one
    made: list[int] = []
    for _ in range(3):  # three syncs of `first`, a minute apart, each cancelled after 10 s
        clock.now += 60
        made.append((await create(idle, first))["jobId"])
        clock.now += 10
        await cancel(made[-1])
    clock.now += 10
    await cancel(early)
    clock.now += 40
    reset = (await create(idle, second, "reset"))["jobId"]  # pending
    everything = [early, *made, reset]

    assert ids(await listed(idle)) == everything  # createdAt|ASC by default
    assert ids(await listed(idle, "?orderBy=createdAt|DESC")) == everything[::-1]
    assert ids(await listed(idle, "?orderBy=updatedAt|ASC")) == [*made, early, reset]
    assert ids(await listed(idle, "?orderBy=updatedAt|DESC")) == [reset, early, *made[::-1]]
    assert ids(await listed(idle, f"?connectionId={first}")) == made
    assert ids(await listed(idle, "?jobType=reset")) == [reset]
    assert ids(await listed(idle, "?jobType=sync&status=cancelled")) == [early, *made]
    assert ids(await listed(idle, "?status=pending")) == [reset]
    assert ids(await listed(idle, "?status=queued")) == []  # nothing is ever shown queued
    assert ids(await listed(idle, "?jobType=refresh")) == []
    # Dagster's bound (`%Y-%m-%dT%H:%M:%SZ`) and offsets alike, inclusive.
    assert ids(await listed(idle, "?createdAtStart=2030-03-17T17:48:40Z")) == [*made[1:], reset]
    assert ids(await listed(idle, "?createdAtEnd=2030-03-17T19:48:50%2B02:00")) == everything[:3]
    assert ids(await listed(idle, "?createdAtStart=2030-03-18T00:00:00Z")) == []
    assert ids(await listed(idle, "?updatedAtStart=2030-03-17T17:51:01Z")) == []
    late = await listed(
        idle, "?updatedAtStart=2030-03-17T17:49:50Z&updatedAtEnd=2030-03-18T00:00:00Z"
    )
    assert ids(late) == [early, made[2], reset]

    workspace = (await ok(idle, "workspaces/list"))["workspaces"][0]["workspaceId"]
    other = (await ok(idle, "workspaces/create", {"name": "Other"}))["workspaceId"]
    assert ids(await listed(idle, f"?workspaceIds={workspace}")) == everything
    assert ids(await listed(idle, f"?workspaceIds={other}")) == []
    assert ids(await listed(idle, f"?workspaceIds={other},{workspace}")) == everything

    # Pages link onwards, carrying the filters, until `next` is "".
    url, seen, pages = f"{API}/jobs?limit=3&workspaceIds={workspace}", [], []
    while url:
        page = (await idle.get(url)).json()
        pages.append(page)
        seen += ids(page)
        assert f"workspaceIds={workspace}" in page["next"] or page["next"] == ""
        url = page["next"]
    assert seen == everything and len(pages) == 2
    assert pages[0]["previous"] == "" and "offset=0" in pages[1]["previous"]
    assert "limit=3" in pages[1]["previous"]


async def test_a_workspace_scoped_key_sees_its_own_jobs_only(idle: httpx.AsyncClient) -> None:
    mine = await e2e_connection(idle)
    job = await create(idle, mine)
    other = (await ok(idle, "workspaces/create", {"name": "Other"}))["workspaceId"]
    key = bearer(await api_key(idle, other))
    assert (await idle.get(f"{API}/jobs", headers=key, auth=None)).json()["data"] == []
    hidden = await idle.get(f"{API}/jobs/{job['jobId']}", headers=key, auth=None)
    assert_problem(hidden, 404, "resource-not-found")
    refused = await idle.delete(f"{API}/jobs/{job['jobId']}", headers=key, auth=None)
    assert_problem(refused, 404, "resource-not-found")
    started = await idle.post(
        f"{API}/jobs", json={"connectionId": mine, "jobType": "sync"}, headers=key, auth=None
    )
    assert_problem(started, 404, "resource-not-found")
    assert (await listed(idle, "?status=pending"))["data"][0]["jobId"] == job["jobId"]


# --- with real connectors -------------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path))) as c:
        yield c


async def poll(
    client: httpx.AsyncClient, job_id: int, until: tuple[str, ...], timeout: float = 90
) -> Json:
    """GET the job as Airflow's and PyAirbyte's pollers do, until its status is in `until`."""
    deadline = time.monotonic() + timeout
    while True:
        job: Json = (await client.get(f"{API}/jobs/{job_id}")).json()
        assert job["status"] in {"pending", "running", "incomplete", *until}, job
        if job["status"] in until:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        await anyio.sleep(0.1)


async def test_a_sync_runs_to_succeeded_with_rows_and_bytes(client: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(client, {"max_messages": 250, "seed": 7})
    created = await create(client, connection_id)
    assert created["status"] in {"pending", "running"}
    job = await poll(client, created["jobId"], ("succeeded", "failed", "cancelled"))
    assert job["status"] == "succeeded", job
    assert job["rowsSynced"] == 250 and job["bytesSynced"] > 250 * 50
    assert ISO.match(job["startTime"]) and ISO.match(job["lastUpdatedAt"])
    assert job["lastUpdatedAt"] >= job["startTime"] and DURATION.match(job["duration"])
    config = (await ok(client, "jobs/get", {"id": job["jobId"]}))["job"]
    assert config["status"] == "succeeded"
    assert config["aggregatedStats"]["recordsCommitted"] == job["rowsSynced"]
    assert config["aggregatedStats"]["bytesCommitted"] == job["bytesSynced"]
    page = await listed(client, f"?connectionId={connection_id}&orderBy=updatedAt|DESC")
    assert page["data"] == [job] and page["next"] == "" and page["previous"] == ""
    cancel = await client.delete(f"{API}/jobs/{job['jobId']}")
    assert_problem(cancel, 409, "state-conflict")


async def test_cancel_a_running_job(client: httpx.AsyncClient) -> None:
    source = {"max_messages": 5000, "message_interval_ms": 20, "state_checkpoint_interval": 5}
    connection_id = await e2e_connection(client, source)
    created = await create(client, connection_id)
    running_job = await poll(client, created["jobId"], ("running",))
    assert DURATION.match(running_job["duration"]) and "lastUpdatedAt" not in running_job
    started = time.monotonic()
    cancelled = await client.delete(f"{API}/jobs/{created['jobId']}")
    assert cancelled.status_code == 200, cancelled.text
    assert time.monotonic() - started < 15
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["jobType"] == "sync"
    again = (await client.get(f"{API}/jobs/{created['jobId']}")).json()
    assert again["status"] == "cancelled" and ISO.match(again["lastUpdatedAt"])
    assert (await ok(client, "jobs/get", {"id": created["jobId"]}))["job"]["status"] == "cancelled"
    body = assert_problem(
        await client.delete(f"{API}/jobs/{created['jobId']}"), 409, "state-conflict"
    )
    assert body["detail"].startswith("Job is not currently running")
