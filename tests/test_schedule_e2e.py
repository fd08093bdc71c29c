"""A real server runs scheduled syncs by itself: a connection from the E2E Testing source to a
Local SQLite file on a seconds-field cron (`*/2 * * * * ?`) gets sync jobs that succeed and
land their records, with no call to connections/sync; pausing it stops them."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.conftest import ADMIN_AUTH

pytestmark = [pytest.mark.serve, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"  # seeded "E2E Testing" (source-e2e-test)
SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"  # seeded "Local SQLite" (destination-sqlite)
RECORDS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`python -m server serve --port P --data-dir D` on a loopback port; its base URL."""
    data_dir, port = tmp_path / "data", free_port()
    log_path = tmp_path / "server.log"
    # Local connector processes read /local paths under SLUICE_LOCAL_ROOT (inherited).
    local = str(data_dir / "local")
    env = {**os.environ, "SLUICE_WORKER_POLL_SECONDS": "0.2", "SLUICE_LOCAL_ROOT": local}
    env.pop("SLUICE_SCHEDULER_TICK_SECONDS", None)  # the default: 1 s
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def ok(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    r = await client.post(f"/api/v1/{path}", json=body)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()


async def sync_jobs(client: httpx.AsyncClient, connection_id: str) -> list[dict[str, Any]]:
    listed = await ok(client, "jobs/list", {"configTypes": ["sync"], "configId": connection_id})
    return [item["job"] for item in listed["jobs"]]


def rows_in(path: Path, table: str) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])


async def test_seconds_cron_runs_real_syncs_that_land_data(server: str, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=60, auth=ADMIN_AUTH) as client:
        workspace = (await ok(client, "workspaces/list", {}))["workspaces"][0]["workspaceId"]
        source = await ok(
            client,
            "sources/create",
            {
                "workspaceId": workspace,
                "sourceDefinitionId": E2E,
                "name": "Feed",
                "connectionConfiguration": {"max_messages": RECORDS},
            },
        )
        destination = await ok(
            client,
            "destinations/create",
            {
                "workspaceId": workspace,
                "destinationDefinitionId": SQLITE,
                "name": "Lake",
                "connectionConfiguration": {"destination_path": "/local/scheduled.db"},
            },
        )
        discovered = await ok(client, "sources/discover_schema", {"sourceId": source["sourceId"]})
        streams = [
            {
                "stream": entry["stream"],
                "config": {
                    **(entry.get("config") or {}),
                    "selected": True,
                    "syncMode": "full_refresh",
                    "destinationSyncMode": "append",  # each run adds its records
                },
            }
            for entry in discovered["catalog"]["streams"]
        ]
        assert len(streams) == 1
        table = streams[0]["stream"]["name"]
        connection = await ok(
            client,
            "connections/create",
            {
                "sourceId": source["sourceId"],
                "destinationId": destination["destinationId"],
                "status": "active",
                "syncCatalog": {"streams": streams},
                "scheduleType": "cron",
                "scheduleData": {
                    "cron": {"cronExpression": "*/2 * * * * ?", "cronTimeZone": "Europe/Berlin"}
                },
            },
        )
        cid = connection["connectionId"]

        # Nobody calls connections/sync: every job here is the scheduler's.
        with anyio.fail_after(30):
            while sum(j["status"] == "succeeded" for j in await sync_jobs(client, cid)) < 2:
                await anyio.sleep(0.25)

        # Pause: no new job starts; let the one in flight (if any) end.
        await ok(client, "connections/update", {"connectionId": cid, "status": "inactive"})
        with anyio.fail_after(30):
            while any(
                j["status"] in ("pending", "running", "incomplete")
                for j in await sync_jobs(client, cid)
            ):
                await anyio.sleep(0.25)
        paused = await sync_jobs(client, cid)
        await anyio.sleep(4)  # two slots of the schedule
        assert await sync_jobs(client, cid) == paused

    succeeded = [j for j in paused if j["status"] == "succeeded"]
    assert len(succeeded) >= 2
    assert all(j["status"] in ("succeeded", "cancelled") for j in paused), paused
    assert len({j["createdAt"] for j in paused}) == len(paused)  # one job per slot
    # Every succeeded run landed its records in the file the destination wrote.
    landed = rows_in(tmp_path / "data" / "local" / "scheduled.db", table)
    assert landed == RECORDS * len(succeeded)
