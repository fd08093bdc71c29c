"""Syncs end to end through the HTTP API, as a user runs them: create the source, destination
and connection, sync, poll jobs/get to the end, and find the data in the destination.

Real connectors: Airbyte's source-faker (from PyPI, a local process) into destination-sqlite;
source-e2e-test into destination-postgres, incrementally, as processes and as Docker images;
and the faults source-e2e-test and destination-dev-null inject.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running
from tests.connectors.conftest import PostgresServer, connector_images, postgres_server
from tests.support.api_jobs import (
    DEV_NULL,
    E2E_TEST,
    POSTGRES,
    SQLITE,
    fast_settings,
    make_connection,
    make_destination,
    make_source,
    ok,
    wait_job,
    workspace_id,
)
from tests.support.processes import processes_mentioning

__all__ = ["connector_images", "postgres_server"]  # fixtures used below

pytestmark = pytest.mark.slow

FAKER = Path(__file__).resolve().parents[1] / ".venvs" / "source-faker" / "bin" / "source-faker"


@dataclass
class Server:
    client: httpx.AsyncClient
    settings: Settings


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    """Where `/local/...` paths of local-file connectors land: `<data dir>/local` (Airbyte's
    local mount)."""
    return fast_settings(tmp_path).local_path


async def serve(settings: Settings) -> AsyncIterator[Server]:
    async with running(create_app(settings)) as client:
        yield Server(client, settings)


@pytest.fixture
async def server(tmp_path: Path, local_root: Path) -> AsyncIterator[Server]:
    async for s in serve(fast_settings(tmp_path)):
        yield s


async def sync(client: httpx.AsyncClient, connection_id: str) -> dict[str, Any]:
    job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
    return await wait_job(client, job["id"], timeout=240)


def pg_ids(pg: PostgresServer, schema: str, table: str = "data_stream") -> list[int]:
    import psycopg

    with psycopg.connect(pg.dsn()) as conn:
        rows = conn.execute(f'SELECT id FROM "{schema}"."{table}" ORDER BY id').fetchall()
    return [int(r[0]) for r in rows]


# --- source-faker into SQLite ----------------------------------------------------------------


@pytest.mark.skipif(not FAKER.exists(), reason="scripts/install-faker.sh installs source-faker")
async def test_faker_into_sqlite(server: Server, local_root: Path) -> None:
    client = server.client
    definition = await ok(
        client,
        "source_definitions/create_custom",
        {
            "workspaceId": await workspace_id(client),
            "sourceDefinition": {
                "name": "Faker (local)",
                "dockerRepository": "airbyte/source-faker",
                "dockerImageTag": "7.2.1",
                "documentationUrl": "https://docs.airbyte.com/integrations/sources/faker",
                "runner": "process",
                "command": [FAKER.name],
            },
        },
    )
    source = await make_source(
        client,
        {"count": 300, "seed": 5, "records_per_slice": 100, "parallelism": 1},
        definition_id=definition["sourceDefinitionId"],
    )
    destination = await make_destination(client, SQLITE, {"destination_path": "/local/faker.db"})
    connection = await make_connection(client, source, destination, only={"users"})
    info = await sync(client, connection)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]
    assert info["job"]["aggregatedStats"]["recordsCommitted"] == 300
    with sqlite3.connect(local_root / "faker.db") as db:
        count, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM users").fetchone()
        emails = db.execute("SELECT COUNT(*) FROM users WHERE email LIKE '%@%'").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert (count, distinct) == (300, 300)
    assert emails == 300
    assert "products" not in tables and "purchases" not in tables  # not selected


# --- source-e2e-test into PostgreSQL, incremental ----------------------------------------------


async def incremental_twice(client: httpx.AsyncClient, pg: PostgresServer) -> list[str]:
    """Sync 50 records, then 80: the second run reads only the 30 new ones. Returns the
    second job's log lines."""
    schema = f"e2e_{uuid.uuid4().hex[:8]}"
    source = await make_source(client, {"max_messages": 50, "state_checkpoint_interval": 10})
    destination = await make_destination(client, POSTGRES, pg.config(schema=schema))
    connection = await make_connection(
        client, source, destination, sync_mode="incremental", destination_sync_mode="append"
    )
    first = await sync(client, connection)
    assert first["job"]["status"] == "succeeded", first["attempts"][-1]
    assert first["job"]["aggregatedStats"]["recordsEmitted"] == 50
    assert pg_ids(pg, schema) == list(range(1, 51))

    await ok(
        client,
        "sources/update",
        {
            "sourceId": source,
            "name": "Source",
            "connectionConfiguration": {"max_messages": 80, "state_checkpoint_interval": 10},
        },
    )
    second = await sync(client, connection)
    assert second["job"]["status"] == "succeeded", second["attempts"][-1]
    assert second["job"]["aggregatedStats"]["recordsEmitted"] == 30
    assert pg_ids(pg, schema) == list(range(1, 81))
    got = await ok(client, "state/get", {"connectionId": connection})
    assert got["streamState"][0]["streamState"] == {"updated_at": 80}
    return list(second["attempts"][-1]["logs"]["logLines"])


@pytest.mark.postgres
async def test_e2e_into_postgres_incremental(
    server: Server, postgres_server: PostgresServer
) -> None:
    await incremental_twice(server.client, postgres_server)


@pytest.mark.docker
@pytest.mark.postgres
async def test_e2e_into_postgres_incremental_as_docker_images(
    server: Server, postgres_server: PostgresServer, connector_images: None
) -> None:
    client = server.client
    for kind, definition in (("source", E2E_TEST), ("destination", POSTGRES)):
        updated = await ok(
            client,
            f"{kind}_definitions/update",
            {f"{kind}DefinitionId": definition, "runner": "docker"},
        )
        assert updated["runner"] == "docker"
    log = "\n".join(await incremental_twice(client, postgres_server))
    assert "sluice/source-e2e-test:0.1.0" in log and "sluice/destination-postgres:0.1.0" in log


# --- faults -------------------------------------------------------------------------------


@pytest.mark.postgres
async def test_source_failure_is_retried_from_the_last_committed_state(
    server: Server, postgres_server: PostgresServer
) -> None:
    client, schema = server.client, f"fail_{uuid.uuid4().hex[:8]}"
    source = await make_source(
        client,
        {
            "max_messages": 100,
            "state_checkpoint_interval": 10,
            "fault": {"mode": "fail", "after_records": 55},  # once per run: the retry gets by
        },
    )
    destination = await make_destination(client, POSTGRES, postgres_server.config(schema=schema))
    connection = await make_connection(
        client, source, destination, sync_mode="incremental", destination_sync_mode="append"
    )
    info = await sync(client, connection)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]
    first, second = (a["attempt"] for a in info["attempts"])
    assert first["status"] == "failed" and second["status"] == "succeeded"
    reasons = first["failureSummary"]["failures"]
    assert any(r["failureOrigin"] == "source" for r in reasons)
    assert any("fault injection" in (r.get("externalMessage") or "") for r in reasons)
    assert first["totalStats"]["recordsCommitted"] >= 50
    # The retry started from the last committed state (50), not from the beginning...
    assert second["recordsSynced"] == 50
    # ... and the destination lost nothing (records after the last state may come twice).
    assert sorted(set(pg_ids(postgres_server, schema))) == list(range(1, 101))
    log = "\n".join(info["attempts"][0]["logs"]["logLines"])
    assert "fault injection" in log


async def test_hanging_source_fails_the_attempt_on_the_heartbeat(
    tmp_path: Path, local_root: Path
) -> None:
    settings = fast_settings(tmp_path, heartbeat_seconds=2.0, sync_max_attempts=1)
    async for s in serve(settings):
        source = await make_source(
            s.client, {"max_messages": 50, "fault": {"mode": "hang", "after_records": 10}}
        )
        destination = await make_destination(
            s.client, DEV_NULL, {"test_destination": {"test_destination_type": "SILENT"}}
        )
        connection = await make_connection(s.client, source, destination)
        started = time.monotonic()
        info = await sync(s.client, connection)
        assert info["job"]["status"] == "failed"
        assert time.monotonic() - started < 60
        [reason, *_] = info["attempts"][0]["attempt"]["failureSummary"]["failures"]
        assert reason["failureType"] == "heartbeat_timeout", reason
        assert info["attempts"][0]["attempt"]["recordsSynced"] == 10
        job_dir = str(s.settings.data_path / "jobs" / str(info["job"]["id"]))
        assert processes_mentioning(job_dir) == []


async def test_destination_failure_fails_the_attempt_and_commits_only_echoed_state(
    tmp_path: Path, local_root: Path
) -> None:
    settings = fast_settings(tmp_path, sync_max_attempts=1)
    async for s in serve(settings):
        source = await make_source(s.client, {"max_messages": 100, "state_checkpoint_interval": 10})
        destination = await make_destination(
            s.client,
            DEV_NULL,
            {"test_destination": {"test_destination_type": "FAILING", "num_messages": 25}},
        )
        connection = await make_connection(
            s.client, source, destination, sync_mode="incremental", destination_sync_mode="append"
        )
        info = await sync(s.client, connection)
        assert info["job"]["status"] == "failed"
        attempt = info["attempts"][0]["attempt"]
        reasons = attempt["failureSummary"]["failures"]
        assert any(r["failureOrigin"] == "destination" for r in reasons), reasons
        assert attempt["failureSummary"]["partialSuccess"] is True
        # The source checkpointed beyond record 25, but the destination only acknowledged the
        # states up to 20: only those count as committed.
        assert attempt["totalStats"]["stateMessagesEmitted"] >= 3
        got = await ok(s.client, "state/get", {"connectionId": connection})
        assert got["streamState"][0]["streamState"] == {"updated_at": 20}
        assert attempt["totalStats"]["recordsCommitted"] == 20


async def test_cancel_during_a_sync_stops_it_within_seconds(server: Server) -> None:
    client = server.client
    source = await make_source(
        client, {"max_messages": 2000, "message_interval_ms": 20, "state_checkpoint_interval": 5}
    )
    destination = await make_destination(
        client, DEV_NULL, {"test_destination": {"test_destination_type": "SILENT"}}
    )
    connection = await make_connection(
        client, source, destination, sync_mode="incremental", destination_sync_mode="append"
    )
    job_id = (await ok(client, "connections/sync", {"connectionId": connection}))["job"]["id"]
    deadline = time.monotonic() + 60
    while (await ok(client, "jobs/get", {"id": job_id}))["attempts"][-1]["attempt"][
        "recordsSynced"
    ] < 20:
        assert time.monotonic() < deadline
        await anyio.sleep(0.2)
    job_dir = str(server.settings.data_path / "jobs" / str(job_id))
    assert processes_mentioning(job_dir), "the connectors should be running"

    started = time.monotonic()
    info = await ok(client, "jobs/cancel", {"id": job_id})
    assert time.monotonic() - started < 10
    assert info["job"]["status"] == "cancelled"
    attempt = info["attempts"][-1]["attempt"]
    assert attempt["status"] == "failed" and attempt["endedAt"] is not None
    assert attempt["failureSummary"]["failures"][0]["failureType"] == "manual_cancellation"
    assert processes_mentioning(job_dir) == []
    # What was committed before the cancel stays.
    got = await ok(client, "state/get", {"connectionId": connection})
    assert got["stateType"] == "stream"
    assert 0 < got["streamState"][0]["streamState"]["updated_at"] < 2000
    # Cancelled is final: no retry follows.
    await anyio.sleep(1)
    again = await ok(client, "jobs/get", {"id": job_id})
    assert again["job"]["status"] == "cancelled" and len(again["attempts"]) == 1
    r = await post(client, "jobs/cancel", {"id": job_id})
    assert r.status_code == 409


# --- resets -------------------------------------------------------------------------------


async def test_reset_of_one_stream_empties_it_and_forgets_only_its_state(
    server: Server, local_root: Path
) -> None:
    client = server.client
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    source = await make_source(
        client,
        {
            "max_messages": 30,
            "state_checkpoint_interval": 10,
            "mock_catalog": {
                "type": "MULTI_STREAM",
                "stream_schemas": json.dumps({"users": schema, "orders": schema}),
            },
        },
    )
    destination = await make_destination(client, SQLITE, {"destination_path": "/local/reset.db"})
    connection = await make_connection(
        client, source, destination, sync_mode="incremental", destination_sync_mode="append"
    )
    info = await sync(client, connection)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]

    def counts() -> dict[str, int]:
        with sqlite3.connect(local_root / "reset.db") as db:
            return {
                t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("users", "orders")
            }

    assert counts() == {"users": 30, "orders": 30}
    reset = await ok(
        client,
        "connections/reset/stream",
        {"connectionId": connection, "streams": [{"streamName": "orders"}]},
    )
    assert reset["job"]["resetConfig"] == {"streamsToReset": [{"name": "orders"}]}
    done = await wait_job(client, reset["job"]["id"])
    assert done["job"]["status"] == "succeeded", done["attempts"][-1]
    assert counts() == {"users": 30, "orders": 0}
    got = await ok(client, "state/get", {"connectionId": connection})
    assert [s["streamDescriptor"]["name"] for s in got["streamState"]] == ["users"]

    # The next sync reads `orders` from the start and `users` only past its state.
    again = await sync(client, connection)
    per_stream = {
        s["streamName"]: s["recordsEmitted"] for s in again["job"]["streamAggregatedStats"]
    }
    assert per_stream.get("orders") == 30 and per_stream.get("users", 0) == 0
    assert counts() == {"users": 30, "orders": 30}
