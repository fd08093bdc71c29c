"""Jobs through the HTTP API: connections/sync|reset|clear, jobs/get|list|cancel.

The queue tests run a server whose worker runs no job (`max_concurrent_syncs=0`), so jobs
stay where the API put them; the tests at the end run real connectors.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from tests.conftest import post, running
from tests.support.api_jobs import (
    e2e_connection,
    fast_settings,
    idle,
    ok,
    wait_job,
)

__all__ = ["idle"]  # fixture used below

# --- the queue (no job runs) ----------------------------------------------------------------


async def test_sync_answers_at_once_with_a_job_that_has_an_attempt(
    idle: httpx.AsyncClient,
) -> None:
    connection_id = await e2e_connection(idle)
    before = int(time.time())
    info = await ok(idle, "connections/sync", {"connectionId": connection_id})
    job = info["job"]
    assert job["status"] == "pending" and job["configType"] == "sync"
    assert job["configId"] == connection_id
    assert before <= job["createdAt"] <= int(time.time()) and job["updatedAt"] >= job["createdAt"]
    assert job["aggregatedStats"] == {
        "recordsEmitted": 0,
        "bytesEmitted": 0,
        "recordsCommitted": 0,
        "bytesCommitted": 0,
        "recordsRejected": 0,
    }
    assert job["enabledStreams"] == [{"name": "data_stream"}]
    # Clients read attempts[-1].attempt.recordsSynced and attempts[i].logs.logLines at once.
    [attempt] = info["attempts"]
    assert attempt["attempt"]["id"] == 0 and attempt["attempt"]["recordsSynced"] == 0
    assert attempt["logs"] == {"logLines": []}
    again = await ok(idle, "jobs/get", {"id": job["id"]})
    assert again["job"] == job and len(again["attempts"]) == 1


async def test_second_sync_while_one_is_pending_is_409_already_running(
    idle: httpx.AsyncClient,
) -> None:
    connection_id = await e2e_connection(idle)
    job_id = (await ok(idle, "connections/sync", {"connectionId": connection_id}))["job"]["id"]
    for path in ("connections/sync", "connections/reset", "connections/clear"):
        r = await post(idle, path, {"connectionId": connection_id})
        assert r.status_code == 409, r.text
        assert "A sync is already running" in r.json()["message"]
        assert str(job_id) in r.json()["message"]
    listed = await ok(idle, "jobs/list", {"configTypes": ["sync"], "configId": connection_id})
    assert listed["totalJobCount"] == 1


async def test_unknown_and_deprecated_connections(idle: httpx.AsyncClient) -> None:
    unknown = "3b2f8f6e-6f0a-4d55-9e55-8d9b1c7c2a10"
    r = await post(idle, "connections/sync", {"connectionId": unknown})
    assert r.status_code == 404 and r.json()["id"] == unknown
    connection_id = await e2e_connection(idle)
    await ok(idle, "connections/update", {"connectionId": connection_id, "status": "deprecated"})
    r = await post(idle, "connections/sync", {"connectionId": connection_id})
    assert r.status_code == 422, r.text
    assert "deprecated" in r.json()["message"]
    r = await post(idle, "connections/sync", {"connectionId": "not-a-uuid"})
    assert r.status_code == 422
    assert r.json()["validationErrors"][0]["propertyPath"] == "connectionId"


async def test_an_inactive_connection_can_still_be_synced_by_hand(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle, status="inactive")
    info = await ok(idle, "connections/sync", {"connectionId": connection_id})
    assert info["job"]["status"] == "pending"


async def test_get_variants_and_unknown_job(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    job_id = (await ok(idle, "connections/sync", {"connectionId": connection_id}))["job"]["id"]
    light = await ok(idle, "jobs/get_light", {"id": job_id})
    assert set(light) == {"job"} and light["job"]["id"] == job_id
    bare = await ok(idle, "jobs/get_without_logs", {"id": job_id})
    assert bare["attempts"][0]["logs"] == {"logLines": []}
    r = await post(idle, "jobs/get", {"id": 987654})
    assert r.status_code == 404 and r.json()["id"] == "987654"
    r = await post(idle, "jobs/get", {"id": "seven"})
    assert r.status_code == 422


async def test_cancel_a_pending_job_then_again(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    job_id = (await ok(idle, "connections/sync", {"connectionId": connection_id}))["job"]["id"]
    info = await ok(idle, "jobs/cancel", {"id": job_id})
    assert info["job"]["status"] == "cancelled"
    attempt = info["attempts"][0]["attempt"]
    assert attempt["status"] == "failed" and attempt["endedAt"] is not None
    [reason] = attempt["failureSummary"]["failures"]
    assert reason["failureType"] == "manual_cancellation"
    r = await post(idle, "jobs/cancel", {"id": job_id})
    assert r.status_code == 409 and "already ended" in r.json()["message"]
    # The connection is free again.
    await ok(idle, "connections/sync", {"connectionId": connection_id})


async def test_list_is_newest_first_filtered_and_paged(idle: httpx.AsyncClient) -> None:
    first = await e2e_connection(idle)
    second = await e2e_connection(idle)
    ids = []
    for _ in range(3):
        job = (await ok(idle, "connections/sync", {"connectionId": first}))["job"]
        ids.append(job["id"])
        await ok(idle, "jobs/cancel", {"id": job["id"]})
    reset = (await ok(idle, "connections/reset", {"connectionId": second}))["job"]
    assert reset["configType"] == "reset_connection"
    assert reset["resetConfig"] == {"streamsToReset": [{"name": "data_stream"}]}

    everything = await ok(idle, "jobs/list", {"configTypes": ["sync", "reset_connection"]})
    assert [j["job"]["id"] for j in everything["jobs"]] == [reset["id"], *reversed(ids)]
    assert everything["totalJobCount"] == 4
    # Attempts are flat in a list item (dagster reads both shapes).
    assert everything["jobs"][-1]["attempts"][0]["status"] == "failed"

    syncs = await ok(idle, "jobs/list", {"configTypes": ["sync"], "configId": first})
    assert [j["job"]["id"] for j in syncs["jobs"]] == list(reversed(ids))
    page = await ok(
        idle,
        "jobs/list",
        {"configTypes": ["sync"], "configId": first, "pagination": {"pageSize": 1, "rowOffset": 1}},
    )
    assert [j["job"]["id"] for j in page["jobs"]] == [ids[1]] and page["totalJobCount"] == 3
    widened = await ok(
        idle,
        "jobs/list",
        {
            "configTypes": ["sync"],
            "configId": first,
            "pagination": {"pageSize": 1},
            "includingJobId": ids[0],
        },
    )
    assert [j["job"]["id"] for j in widened["jobs"]] == list(reversed(ids))
    pending = await ok(idle, "jobs/list", {"configTypes": ["sync"], "statuses": ["pending"]})
    assert pending["jobs"] == [] and pending["totalJobCount"] == 0
    oldest_first = await ok(idle, "jobs/list", {"configTypes": ["sync"], "orderByMethod": "ASC"})
    assert [j["job"]["id"] for j in oldest_first["jobs"]] == ids
    in_future = await ok(
        idle, "jobs/list", {"configTypes": ["sync"], "createdAtStart": "2999-01-01T00:00:00Z"}
    )
    assert in_future["totalJobCount"] == 0
    r = await post(idle, "jobs/list", {"configTypes": ["nonsense"]})
    assert r.status_code == 422


async def test_last_replication_job(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    assert await ok(idle, "jobs/get_last_replication_job", {"connectionId": connection_id}) == {}
    job_id = (await ok(idle, "connections/sync", {"connectionId": connection_id}))["job"]["id"]
    found = await ok(idle, "jobs/get_last_replication_job", {"connectionId": connection_id})
    assert found["job"]["id"] == job_id
    r = await post(
        idle,
        "jobs/get_last_replication_job",
        {"connectionId": "3b2f8f6e-6f0a-4d55-9e55-8d9b1c7c2a10"},
    )
    assert r.status_code == 404


async def test_reset_chosen_streams_is_checked_against_the_catalog(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    r = await post(
        idle,
        "connections/reset/stream",
        {"connectionId": connection_id, "streams": [{"streamName": "no_such_stream"}]},
    )
    assert r.status_code == 422 and "no_such_stream" in r.json()["message"]
    assert r.json()["validationErrors"][0]["propertyPath"] == "streams[0]"
    r = await post(idle, "connections/clear/stream", {"connectionId": connection_id, "streams": []})
    assert r.status_code == 422
    info = await ok(
        idle,
        "connections/clear/stream",
        {"connectionId": connection_id, "streams": [{"streamName": "data_stream"}]},
    )
    assert info["job"]["configType"] == "clear"
    assert info["job"]["resetConfig"] == {"streamsToReset": [{"name": "data_stream"}]}


async def test_deleting_a_connection_deletes_its_jobs(idle: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(idle)
    job_id = (await ok(idle, "connections/sync", {"connectionId": connection_id}))["job"]["id"]
    r = await post(idle, "connections/delete", {"connectionId": connection_id})
    assert r.status_code == 204
    assert (await post(idle, "jobs/get", {"id": job_id})).status_code == 404


async def test_basic_credentials_are_accepted(idle: httpx.AsyncClient) -> None:
    """Clients send `Authorization: Basic airbyte:password` even when none is configured."""
    token = base64.b64encode(b"airbyte:password").decode()
    headers = {"Authorization": f"Basic {token}"}
    r = await idle.post("/api/v1/jobs/list/", json={"configTypes": ["sync"]}, headers=headers)
    assert r.status_code == 200 and r.json() == {"jobs": [], "totalJobCount": 0}
    r = await idle.get("/api/v1/health/", headers={"Authorization": "Bearer abc"})
    assert r.status_code == 200


# --- with real connectors -------------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path))) as c:
        yield c


async def test_sync_runs_to_succeeded_with_stats_and_logs(client: httpx.AsyncClient) -> None:
    connection_id = await e2e_connection(client, {"max_messages": 250, "seed": 7})
    job_id = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]["id"]
    info = await wait_job(client, job_id)
    job = info["job"]
    assert job["status"] == "succeeded", info["attempts"][-1]
    assert job["startedAt"] >= job["createdAt"]
    assert job["aggregatedStats"]["recordsEmitted"] == 250
    assert job["aggregatedStats"]["recordsCommitted"] == 250
    assert job["aggregatedStats"]["bytesEmitted"] > 250 * 50
    [stream] = job["streamAggregatedStats"]
    assert stream["streamName"] == "data_stream" and stream["recordsCommitted"] == 250
    [attempt_info] = info["attempts"]
    attempt = attempt_info["attempt"]
    assert attempt["status"] == "succeeded" and attempt["endedAt"] >= attempt["createdAt"]
    assert attempt["recordsSynced"] == 250 and attempt["totalStats"]["recordsCommitted"] == 250
    assert attempt["streamStats"][0]["stats"]["recordsEmitted"] == 250
    assert "failureSummary" not in attempt
    lines = attempt_info["logs"]["logLines"]
    assert any("Starting attempt 1" in line for line in lines)
    assert any("succeeded" in line for line in lines)
    # The web backend sees the job too.
    listed = await ok(client, "jobs/list", {"configTypes": ["sync"], "configId": connection_id})
    assert listed["jobs"][0]["job"]["status"] == "succeeded"


async def test_log_lines_are_bounded_to_the_last_ones(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, job_log_lines=3)
    async with running(create_app(settings)) as client:
        connection_id = await e2e_connection(client)
        job_id = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"][
            "id"
        ]
        info = await wait_job(client, job_id)
        lines = info["attempts"][0]["logs"]["logLines"]
        full = (settings.data_path / "jobs" / str(job_id) / "attempt-0.log").read_text()
        assert len(full.splitlines()) > 3
        assert lines == full.splitlines()[-3:]
