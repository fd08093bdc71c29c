"""A server that stops mid-sync, by shut-down or by `kill -9`: at the next start the
interrupted attempt is failed, its connectors are gone, the job is retried from the last
committed state, and nothing stays `running`."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import anyio
import httpx
import pytest

from server.app import create_app
from tests.conftest import ADMIN_AUTH, running
from tests.support.api_jobs import (
    DEV_NULL,
    SQLITE,
    fast_settings,
    make_connection,
    make_destination,
    make_source,
    ok,
    wait_job,
)
from tests.support.processes import processes_mentioning
from tests.support.serving import ServerProcess

pytestmark = pytest.mark.slow


async def committed_cursor(client: httpx.AsyncClient, connection_id: str) -> int:
    got = await ok(client, "state/get", {"connectionId": connection_id})
    if got["stateType"] != "stream":
        return 0
    return int(got["streamState"][0]["streamState"]["updated_at"])


@pytest.mark.serve
async def test_kill_9_mid_sync_then_restart(server_process: ServerProcess) -> None:
    """The source hangs after 35 records (the states up to record 30 committed); the server
    is killed; the restarted server removes the hung connector and retries from 30."""
    server_process.start()
    async with httpx.AsyncClient(
        base_url=server_process.url, timeout=60, auth=ADMIN_AUTH
    ) as client:
        source = await make_source(
            client,
            {
                "max_messages": 40,
                "state_checkpoint_interval": 5,
                "fault": {"mode": "hang", "after_records": 35},  # once per run
            },
        )
        destination = await make_destination(
            client,
            SQLITE,
            {"destination_path": "/local/kill.db"},
        )
        connection = await make_connection(
            client,
            source,
            destination,
            sync_mode="incremental",
            destination_sync_mode="append",
        )
        info = await ok(client, "connections/sync", {"connectionId": connection})
        job_id = info["job"]["id"]
        deadline = time.monotonic() + 90
        while await committed_cursor(client, connection) < 30:
            assert time.monotonic() < deadline, "the first 30 records were never committed"
            await anyio.sleep(0.2)
        state_before = await ok(client, "state/get", {"connectionId": connection})

    first_attempt = str(server_process.data_dir / "jobs" / str(job_id) / "0")
    assert processes_mentioning(first_attempt), "the hung source should be running"
    server_process.kill(signal.SIGKILL)
    assert processes_mentioning(first_attempt), "a killed server leaves its connectors behind"

    server_process.start()
    async with httpx.AsyncClient(
        base_url=server_process.url, timeout=60, auth=ADMIN_AUTH
    ) as client:
        info = await wait_job(client, job_id, timeout=120)
        assert info["job"]["status"] == "succeeded", info["attempts"][-1]
        first, second = (a["attempt"] for a in info["attempts"])
        assert first["status"] == "failed"
        messages = [f.get("externalMessage") for f in first["failureSummary"]["failures"]]
        assert "The server stopped during the attempt" in messages
        assert second["status"] == "succeeded" and second["recordsSynced"] == 10
        running_jobs = await ok(client, "jobs/list", {"statuses": ["running"]})
        assert running_jobs["totalJobCount"] == 0
        state_after = await ok(client, "state/get", {"connectionId": connection})
    assert processes_mentioning(first_attempt) == []
    assert state_before["streamState"][0]["streamState"] == {"updated_at": 30}
    assert state_after["streamState"][0]["streamState"] == {"updated_at": 40}
    with sqlite3.connect(server_process.data_dir / "local" / "kill.db") as db:
        ids = sorted({r[0] for r in db.execute("SELECT id FROM data_stream")})
    assert ids == list(range(1, 41))
    server_process.kill(signal.SIGTERM)  # a clean shut-down (uvicorn re-raises the signal)
    assert "Application shutdown complete" in server_process.log.read_text()


async def test_shutdown_stops_the_attempt_and_the_next_start_retries_it(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    async with running(create_app(settings)) as client:
        source = await make_source(
            client, {"max_messages": 60, "message_interval_ms": 50, "state_checkpoint_interval": 5}
        )
        destination = await make_destination(
            client, DEV_NULL, {"test_destination": {"test_destination_type": "SILENT"}}
        )
        connection = await make_connection(
            client, source, destination, sync_mode="incremental", destination_sync_mode="append"
        )
        job_id = (await ok(client, "connections/sync", {"connectionId": connection}))["job"]["id"]
        deadline = time.monotonic() + 60
        while await committed_cursor(client, connection) < 10:
            assert time.monotonic() < deadline
            await anyio.sleep(0.1)
        stopped_at = time.monotonic()
    # The shut-down stopped the connectors and ended the attempt.
    assert time.monotonic() - stopped_at < 15
    assert processes_mentioning(str(settings.data_path / "jobs" / str(job_id))) == []

    # Files of a job that is gone (its connection deleted while the server was down).
    stray = settings.data_path / "jobs" / "9999"
    stray.mkdir(parents=True)
    (stray / "attempt-0.log").write_text("old\n")

    async with running(create_app(settings)) as client:
        assert not stray.exists()
        info = await wait_job(client, job_id)
        assert info["job"]["status"] == "succeeded"
        first, second = (a["attempt"] for a in info["attempts"])
        reasons = [f["externalMessage"] for f in first["failureSummary"]["failures"]]
        assert reasons[0] == "The server stopped during the attempt"
        assert first["totalStats"]["recordsCommitted"] >= 10
        # The retry read only what was not committed.
        assert second["recordsSynced"] == 60 - first["totalStats"]["recordsCommitted"]
        assert await committed_cursor(client, connection) == 60
