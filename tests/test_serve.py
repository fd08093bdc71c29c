"""A real server process on a loopback port, talked to over HTTP as clients do, killed and
started again on the same data directory."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_AUTH
from tests.support.serving import free_port

pytestmark = pytest.mark.serve

E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"


@contextmanager
def server(data_dir: Path, port: int) -> Iterator[tuple[httpx.Client, float]]:
    """Start `python -m server serve`; yield a client and the seconds until health answered."""
    log = (data_dir.parent / "server.log").open("ab")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        with httpx.Client(base_url=base, auth=ADMIN_AUTH, timeout=10) as client:
            ready = None
            while time.monotonic() - started < 30:
                assert proc.poll() is None, (data_dir.parent / "server.log").read_text()
                try:
                    if client.get("/health").json() == {"available": True, "db": True}:
                        ready = time.monotonic() - started
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            assert ready is not None, "the server did not answer /health within 30 s"
            yield client, ready
    finally:
        # A kill, not a polite stop: what was answered must already be on disk.
        proc.kill()
        proc.wait(timeout=10)
        log.close()


def call(client: httpx.Client, path: str, body: dict[str, object]) -> dict[str, object]:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_objects_survive_a_killed_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    with server(data_dir, port) as (client, ready):
        # A fresh start migrates and seeds the database, and still answers quickly.
        assert ready < 5, f"health answered only after {ready:.1f} s"
        workspace_id = call(client, "/workspaces/list", {})["workspaces"][0]["workspaceId"]  # type: ignore[index]
        source = call(
            client,
            "/sources/create/",  # a trailing slash, as Prefect and Kestra send
            {
                "workspaceId": workspace_id,
                "sourceDefinitionId": E2E,
                "name": "feed",
                "connectionConfiguration": {"max_messages": 10},
            },
        )
        destination = call(
            client,
            "/destinations/create",
            {
                "workspaceId": workspace_id,
                "destinationDefinitionId": DEV_NULL,
                "name": "sink",
                "connectionConfiguration": {},
            },
        )
        connection = call(
            client,
            "/connections/create",
            {
                "sourceId": source["sourceId"],
                "destinationId": destination["destinationId"],
                "status": "active",
                "scheduleType": "cron",
                "scheduleData": {"cron": {"cronExpression": "0 0 3 * * ?", "cronTimeZone": "UTC"}},
            },
        )
    with server(data_dir, port) as (client, ready):
        assert ready < 5
        assert call(client, "/sources/get", {"sourceId": source["sourceId"]}) == source
        got = call(client, "/destinations/get", {"destinationId": destination["destinationId"]})
        assert got == destination
        assert call(client, "/connections/get", {"connectionId": connection["connectionId"]}) == (
            connection
        )
        listed = call(client, "/connections/list", {"workspaceId": workspace_id})
        assert listed == {"connections": [connection]}
