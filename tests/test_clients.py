"""The HTTP calls of the real Airbyte clients, replayed exactly, with what each client then reads.

The clients themselves (dagster-airbyte 0.29's AirbyteResource, prefect-airbyte 0.3's
AirbyteClient, apache-airflow-providers-airbyte 3.9's AirbyteHook, kestra's Sync task) are not
installed here; `scripts/check_clients.sh` runs them for real against a served Sluice. These
tests pin the same conversations so a change that would break a client fails here first: paths
(with the trailing slashes prefect and kestra add), headers (Basic auth, `accept`), bodies, the
fields read unguarded, the status values each polling loop knows, and the error codes it maps.
Syncs run real connectors (E2E Testing into Local SQLite) as local processes.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from server.app import create_app
from tests.conftest import running
from tests.support.api_jobs import fast_settings

Json = dict[str, Any]

E2E_TESTING = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
LOCAL_SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"
BASIC = "Basic " + base64.b64encode(b"airbyte:password").decode()
# Every client sends Airbyte's OSS default credentials; dagster and airflow also `accept`.
HEADERS = {"Authorization": BASIC, "accept": "application/json"}
UNKNOWN = "00000000-0000-0000-0000-0000000000aa"

# What each polling loop does with a job status (anything else is a failure, "unexpected state").
DAGSTER_AIRFLOW_WAIT = {"running", "pending", "incomplete"}
PREFECT_TERMINAL = {"succeeded", "failed", "cancelled"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path))) as c:
        c.headers.update(HEADERS)
        yield c


async def call(client: httpx.AsyncClient, path: str, body: Json | None = None) -> Json:
    """POST /api/v1/<path> as the clients do (JSON body, `{}` when they have no argument)."""
    r = await client.post(f"/api/v1/{path}", json=body if body is not None else {})
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()  # type: ignore[no-any-return]


async def connection(
    client: httpx.AsyncClient, name: str, records: int = 20, interval_ms: int = 0
) -> Json:
    """Two E2E Testing streams into a SQLite file, as a user sets it up (the clients only sync)."""
    workspace = (await call(client, "workspaces/list"))["workspaces"][0]["workspaceId"]
    source = await call(
        client,
        "sources/create",
        {
            "workspaceId": workspace,
            "sourceDefinitionId": E2E_TESTING,
            "name": f"{name} source",
            "connectionConfiguration": {
                "max_messages": records,
                "message_interval_ms": interval_ms,
                "mock_catalog": {
                    "type": "SINGLE_STREAM",
                    "stream_name": "data_stream",
                    "stream_duplication": 2,
                },
            },
        },
    )
    destination = await call(
        client,
        "destinations/create",
        {
            "workspaceId": workspace,
            "destinationDefinitionId": LOCAL_SQLITE,
            "name": f"{name} destination",
            "connectionConfiguration": {"destination_path": f"/local/{name}.db"},
        },
    )
    catalog = (await call(client, "sources/discover_schema", {"sourceId": source["sourceId"]}))[
        "catalog"
    ]
    for entry in catalog["streams"]:
        entry["config"].update(
            selected=True, syncMode="full_refresh", destinationSyncMode="overwrite"
        )
    return await call(
        client,
        "connections/create",
        {
            "name": name,
            "sourceId": source["sourceId"],
            "destinationId": destination["destinationId"],
            "status": "active",
            "syncCatalog": catalog,
            "prefix": f"{name}_",
        },
    )


# --- dagster-airbyte: AirbyteResource.sync_and_poll ------------------------------------------


async def test_dagster_sync_and_poll_with_logs(client: httpx.AsyncClient) -> None:
    conn = await connection(client, "dagster", records=15)
    connection_id = conn["connectionId"]

    # 1. connections/get: name, prefix and the selected streams with their properties.
    details = await call(client, "connections/get", {"connectionId": connection_id})
    assert details["name"] == "dagster" and details["prefix"] == "dagster_"
    selected = {
        details["prefix"] + s["stream"]["name"]: s["stream"]["jsonSchema"]["properties"]
        for s in details["syncCatalog"]["streams"]
        if s["config"]["selected"]
    }
    assert set(selected) == {"dagster_data_stream_0", "dagster_data_stream_1"}
    assert "id" in selected["dagster_data_stream_0"]

    # 2. connections/sync: job.id.
    job_id = (await call(client, "connections/sync", {"connectionId": connection_id}))["job"]["id"]
    assert isinstance(job_id, int)

    # 3. jobs/get until a status outside running/pending/incomplete; `succeeded` ends it.
    #    Each poll prints attempts[logged_attempts].logs.logLines[logged_lines:].
    seen = []
    for _ in range(600):
        info = await call(client, "jobs/get", {"id": job_id})
        attempts = info["attempts"]
        if attempts:
            assert all(isinstance(line, str) for line in attempts[0]["logs"]["logLines"])
        seen.append(info["job"]["status"])
        if info["job"]["status"] not in DAGSTER_AIRFLOW_WAIT:
            break
        await anyio.sleep(0.1)
    assert seen[-1] == "succeeded", seen

    # 4. Materializations: streamStats of the last attempt (nested under `attempt` here),
    #    keyed by stream name, every stats value a number.
    last = info["attempts"][-1]
    stats = {s["streamName"]: s["stats"] for s in (last.get("attempt") or last)["streamStats"]}
    assert set(stats) == {"data_stream_0", "data_stream_1"}
    assert stats["data_stream_0"]["recordsEmitted"] == 15
    assert stats["data_stream_1"]["recordsCommitted"] == 15
    assert all(isinstance(v, int) for s in stats.values() for v in s.values())
    assert info["attempts"][-1]["logs"]["logLines"], "a finished attempt has log lines"


async def test_dagster_sync_and_poll_without_logs(client: httpx.AsyncClient) -> None:
    """With forward_logs=False dagster polls jobs/list and picks its job out of the first 5."""
    conn = await connection(client, "quiet", records=5)
    connection_id = conn["connectionId"]
    job_id = (await call(client, "connections/sync", {"connectionId": connection_id}))["job"]["id"]
    body = {"configTypes": ["sync"], "configId": connection_id, "pagination": {"pageSize": 5}}
    for _ in range(600):
        listed = await call(client, "jobs/list", body)
        job = next(j for j in listed["jobs"] if j["job"]["id"] == job_id)
        if job["job"]["status"] not in DAGSTER_AIRFLOW_WAIT:
            break
        await anyio.sleep(0.1)
    assert job["job"]["status"] == "succeeded"
    # Attempts are flat here; dagster reads `attempt.get("attempt") or attempt`.
    last = job["attempts"][-1]
    assert "attempt" not in last
    assert {s["streamName"] for s in last["streamStats"]} == {"data_stream_0", "data_stream_1"}


async def test_dagster_cancels_a_timed_out_sync(client: httpx.AsyncClient) -> None:
    """On a poll timeout sync_and_poll sends jobs/cancel {id}; the job ends `cancelled`."""
    conn = await connection(client, "slow", records=100000, interval_ms=50)
    job_id = (await call(client, "connections/sync", {"connectionId": conn["connectionId"]}))[
        "job"
    ]["id"]
    for _ in range(300):
        if (await call(client, "jobs/get", {"id": job_id}))["job"]["status"] == "running":
            break
        await anyio.sleep(0.1)
    cancelled = await call(client, "jobs/cancel", {"id": job_id})
    assert cancelled["job"]["status"] == "cancelled"
    assert (await call(client, "jobs/get", {"id": job_id}))["job"]["status"] == "cancelled"


# --- dagster-airbyte: load_assets_from_airbyte_instance and managed elements ------------------


async def test_dagster_load_assets_from_instance(client: httpx.AsyncClient) -> None:
    conn = await connection(client, "assets")
    # Exactly one workspace, else dagster refuses to guess.
    workspaces = (await call(client, "workspaces/list", {}))["workspaces"]
    assert len(workspaces) == 1
    listed = await call(client, "connections/list", {"workspaceId": workspaces[0]["workspaceId"]})
    found = next(c for c in listed["connections"] if c["connectionId"] == conn["connectionId"])
    # AirbyteConnectionMetadata.from_api_json reads these unguarded.
    assert found["name"] == "assets"
    assert found["destinationId"] == conn["destinationId"]
    assert found["syncCatalog"]["streams"][0]["stream"]["jsonSchema"]["properties"]
    operations = await call(client, "operations/list", {"connectionId": found["connectionId"]})
    assert operations == {"operations": []}
    destination = await call(client, "destinations/get", {"destinationId": found["destinationId"]})
    assert destination["destinationName"] == "Local SQLite"
    assert destination["connectionConfiguration"] == {"destination_path": "/local/assets.db"}


async def test_dagster_managed_reconciliation(client: httpx.AsyncClient) -> None:
    """`dagster-airbyte apply`: definitions by name, normalization support, discover's catalogId,
    then sources/create and connections/create with exactly the bodies it sends; a later check
    compares what sources/list and connections/list give back."""
    workspace = (await call(client, "workspaces/list", {}))["workspaces"][0]["workspaceId"]
    sources = (await call(client, "source_definitions/list", {}))["sourceDefinitions"]
    source_def = next(d for d in sources if d["name"].lower() == "e2e testing")
    dests = (await call(client, "destination_definitions/list", {}))["destinationDefinitions"]
    dest_def = next(d for d in dests if d["name"].lower() == "local sqlite")
    dest_def_id = dest_def["destinationDefinitionId"]

    spec = await call(
        client,
        "destination_definition_specifications/get",
        {"destinationDefinitionId": dest_def_id, "workspaceId": workspace},
    )
    definition = await call(
        client, "destination_definitions/get", {"destinationDefinitionId": dest_def_id}
    )
    supports = spec.get("supportsNormalization", False) or definition.get(
        "normalizationConfig", {}
    ).get("supported", False)
    assert supports is False  # so no normalization operation is created

    config = {"max_messages": 3, "mock_catalog": {"type": "SINGLE_STREAM", "stream_name": "m"}}
    source_id = (
        await call(
            client,
            "sources/create",
            {
                "name": "managed source",
                "connectionConfiguration": config,
                "workspaceId": workspace,
                "sourceDefinitionId": source_def["sourceDefinitionId"],
            },
        )
    )["sourceId"]
    destination_id = (
        await call(
            client,
            "destinations/create",
            {
                "name": "managed destination",
                "connectionConfiguration": {"destination_path": "/local/managed.db"},
                "workspaceId": workspace,
                "destinationDefinitionId": dest_def_id,
            },
        )
    )["destinationId"]
    # The source read back as dagster compares it: name, definition name, same configuration.
    listed_sources = (await call(client, "sources/list", {"workspaceId": workspace}))["sources"]
    read = next(s for s in listed_sources if s["sourceId"] == source_id)
    assert read["sourceName"] == source_def["name"]
    assert read["connectionConfiguration"] == config

    discovered = await call(client, "sources/discover_schema", {"sourceId": source_id})
    catalog_id = discovered["catalogId"]
    stream = discovered["catalog"]["streams"][0]
    configured = {
        "stream": stream["stream"],
        "config": {
            **stream["config"],
            "syncMode": "full_refresh",
            "destinationSyncMode": "overwrite",
            "selected": True,
        },
    }
    base = {
        "name": "managed",
        "namespaceDefinition": "source",
        "namespaceFormat": "${SOURCE_NAMESPACE}",
        "prefix": "",
        "operationIds": [],
        "syncCatalog": {"streams": [configured]},
        "scheduleType": "manual",
        "status": "active",
    }
    created = await call(
        client,
        "connections/create",
        {
            **base,
            "sourceCatalogId": catalog_id,
            "sourceId": source_id,
            "destinationId": destination_id,
        },
    )
    # InitializedAirbyteConnection.from_api_json reads these unguarded.
    listed = (await call(client, "connections/list", {"workspaceId": workspace}))["connections"]
    again = next(c for c in listed if c["connectionId"] == created["connectionId"])
    assert again["operationIds"] == []
    assert again["namespaceDefinition"] == "source"
    assert again["syncCatalog"]["streams"][0]["config"]["syncMode"] == "full_refresh"
    assert again["syncCatalog"]["streams"][0]["config"]["destinationSyncMode"] == "overwrite"
    # A second apply updates the connection with the same body plus its id.
    updated = await call(
        client,
        "connections/update",
        {**base, "sourceCatalogId": catalog_id, "connectionId": created["connectionId"]},
    )
    assert updated["connectionId"] == created["connectionId"]


# --- prefect-airbyte: AirbyteClient (trailing slashes, httpx Basic auth) ----------------------


async def test_prefect_client_calls(client: httpx.AsyncClient) -> None:
    conn = await connection(client, "prefect", records=12)
    connection_id = conn["connectionId"]

    health = await client.get("/api/v1/health/")
    assert health.status_code == 200
    body = health.json()
    assert body["available" if "available" in body else "db"] is True

    r = await client.post("/api/v1/connections/get/", json={"connectionId": connection_id})
    assert r.status_code == 200 and r.json()["status"] == "active"

    r = await client.post("/api/v1/connections/sync/", json={"connectionId": connection_id})
    assert r.status_code == 200
    job = r.json()["job"]
    job_id, created_at = job["id"], job["createdAt"]
    assert isinstance(job_id, int) and isinstance(created_at, int)

    # AirbyteSync.wait_for_completion reads attempts[-1].attempt from the very first poll on.
    status = "pending"
    for _ in range(600):
        if status in PREFECT_TERMINAL:
            break
        r = await client.post("/api/v1/jobs/get/", json={"id": job_id})
        assert r.status_code == 200
        info = r.json()
        status = info["job"]["status"]
        records = info["attempts"][-1]["attempt"].get("recordsSynced", 0)
        assert isinstance(info["job"]["createdAt"], int)
        assert isinstance(info["job"]["updatedAt"], int)
        await anyio.sleep(0.1)
    assert status == "succeeded"
    assert records == 24  # 12 per stream, two streams


async def test_prefect_reads_an_attempt_of_a_waiting_job(tmp_path: Path) -> None:
    """A job still waiting for a free worker already has an attempt to read: prefect indexes
    attempts[-1] unguarded on its first poll, and an empty list would crash the flow."""
    async with running(create_app(fast_settings(tmp_path, max_concurrent_syncs=0))) as idle:
        idle.headers.update(HEADERS)
        conn = await connection(idle, "waiting")
        r = await idle.post(
            "/api/v1/connections/sync/", json={"connectionId": conn["connectionId"]}
        )
        job_id = r.json()["job"]["id"]
        info = (await idle.post("/api/v1/jobs/get/", json={"id": job_id})).json()
        assert info["job"]["status"] == "pending"
        assert info["attempts"][-1]["attempt"]["recordsSynced"] == 0


async def test_prefect_error_mapping(client: httpx.AsyncClient) -> None:
    """404 on connections/get/ and connections/sync/ becomes ConnectionNotFoundException, on
    jobs/get/ JobNotFoundException; other codes would read as "server not healthy"."""
    for path, body in (
        ("connections/get/", {"connectionId": UNKNOWN}),
        ("connections/sync/", {"connectionId": UNKNOWN}),
        ("jobs/get/", {"id": 987654}),
    ):
        r = await client.post(f"/api/v1/{path}", json=body)
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert r.json()["message"]


async def test_prefect_inactive_connection_status(client: httpx.AsyncClient) -> None:
    """prefect only syncs when connections/get/ says `active`; it raises on inactive."""
    conn = await connection(client, "paused")
    await call(
        client, "connections/update", {"connectionId": conn["connectionId"], "status": "inactive"}
    )
    r = await client.post("/api/v1/connections/get/", json={"connectionId": conn["connectionId"]})
    assert r.json()["status"] == "inactive"


# --- apache-airflow-providers-airbyte 3.9.0: AirbyteHook (api_type="config") ------------------


async def test_airflow_hook_calls(client: httpx.AsyncClient) -> None:
    conn = await connection(client, "airflow", records=8)
    # test_connection: GET api/v1/health, only the 200 matters.
    assert (await client.get("/api/v1/health")).status_code == 200

    # submit_sync_connection; the operator reads job.id and job.status.
    r = await client.post("/api/v1/connections/sync", json={"connectionId": conn["connectionId"]})
    job = r.json()["job"]
    assert job["status"] in DAGSTER_AIRFLOW_WAIT | {"succeeded"}
    # wait_for_job: jobs/get {id: int(job_id)}; the async trigger posts the JSON as text with an
    # explicit Basic header and content-type.
    statuses = []
    for _ in range(600):
        r = await client.post(
            "/api/v1/jobs/get",
            content=f'{{"id": {int(job["id"])}}}',
            headers={"content-type": "application/json"},
        )
        status = r.json()["job"]["status"]
        statuses.append(status)
        if status not in DAGSTER_AIRFLOW_WAIT:
            break
        await anyio.sleep(0.1)
    assert statuses[-1] == "succeeded", statuses
    assert set(statuses) <= DAGSTER_AIRFLOW_WAIT | {"succeeded"}  # never `queued`


async def test_airflow_timeout_cancels(client: httpx.AsyncClient) -> None:
    """wait_for_job's timeout and the operator's on_kill send jobs/cancel {id}; the sensor
    then sees `cancelled`."""
    conn = await connection(client, "airflow_slow", records=100000, interval_ms=50)
    r = await client.post("/api/v1/connections/sync", json={"connectionId": conn["connectionId"]})
    job_id = r.json()["job"]["id"]
    r = await client.post("/api/v1/jobs/cancel", json={"id": job_id})
    assert r.status_code == 200
    assert r.json()["job"]["status"] == "cancelled"


# --- kestra plugin-airbyte: Sync with "already running" -----------------------------------------


async def test_kestra_sync_already_running(client: httpx.AsyncClient) -> None:
    """A second sync of a connection with an active job: HTTP 409 and a message containing
    "already running" (kestra maps either to SyncAlreadyRunningException)."""
    conn = await connection(client, "kestra", records=100000, interval_ms=50)
    first = await client.post(
        "/api/v1/connections/sync/", json={"connectionId": conn["connectionId"]}
    )
    assert first.status_code == 200
    second = await client.post(
        "/api/v1/connections/sync/", json={"connectionId": conn["connectionId"]}
    )
    assert second.status_code == 409
    assert "already running" in second.json()["message"]
    await call(client, "jobs/cancel", {"id": first.json()["job"]["id"]})
