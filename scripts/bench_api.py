#!/usr/bin/env python3
"""Measure the configuration API against a real server holding 10,000 connections.

Fills a fresh data directory through the store functions (one transaction: 10,000 sources,
10,000 destinations, 10,000 connections with a three-stream catalog, in one workspace as a
single-team install has them), starts `python -m server serve` on a loopback port, then drives
each endpoint with a bounded number of concurrent httpx clients for a bounded time and prints
requests/s and p50/p99 latency. The goal on a 2-core machine: p99 under 10 ms for
`connections/get`, also while a sync runs (the last row: source-e2e-test into
destination-dev-null through the API, its state committed every 0.1 s, so the reads meet the
sync's write transactions).

    python scripts/bench_api.py                       # 10,000 connections, 1 and 8 clients
    python scripts/bench_api.py --connections 2000 --seconds 3 --concurrency 4
    python scripts/bench_api.py --auth                # connections/get: no auth, Basic, API key
    python scripts/bench_api.py --only-sync           # only connections/get during a sync

Client and server share the machine's cores, so figures at higher concurrency include the
client's own CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from server.api.connections import finish  # noqa: E402
from server.models.connections import (  # noqa: E402
    AirbyteCatalog,
    AirbyteStream,
    AirbyteStreamAndConfiguration,
    AirbyteStreamConfiguration,
    BasicSchedule,
    ConnectionRead,
    ConnectionScheduleData,
    SourceSchema,
)
from server.models.destinations import DestinationRead  # noqa: E402
from server.models.sources import SourceRead  # noqa: E402
from server.models.workspaces import DEFAULT_ORGANIZATION_ID, WorkspaceRead  # noqa: E402
from server.store import connections, destinations, sources, workspaces  # noqa: E402
from server.store.db import open_db, transaction  # noqa: E402

E2E = uuid.UUID("d53f9084-fa6b-4a5a-976c-5b8392f4ad8a")
DEV_NULL = uuid.UUID("a7bcc9d8-13b3-4e49-b80d-d020b90045e3")


def catalog() -> AirbyteCatalog:
    """Three streams shaped like source-faker's (users, products, purchases)."""
    streams = []
    for name, fields in [
        ("users", ["id", "name", "email", "age", "created_at", "updated_at", "address"]),
        ("products", ["id", "make", "model", "year", "price", "created_at", "updated_at"]),
        ("purchases", ["id", "user_id", "product_id", "added_to_cart_at", "updated_at"]),
    ]:
        properties = {f: {"type": ["null", "string"]} for f in fields}
        properties["id"] = {"type": ["null", "integer"]}
        stream = AirbyteStream(
            name=name,
            json_schema={"type": "object", "properties": properties},
            supported_sync_modes=["full_refresh", "incremental"],
            source_defined_cursor=True,
            default_cursor_field=["updated_at"],
            source_defined_primary_key=[["id"]],
        )
        config = AirbyteStreamConfiguration(
            sync_mode="incremental",
            destination_sync_mode="append_dedup",
            cursor_field=["updated_at"],
            primary_key=[["id"]],
            alias_name=name,
            selected=True,
        )
        streams.append(AirbyteStreamAndConfiguration(stream=stream, config=config))
    return AirbyteCatalog(streams=streams)


def fill(data_dir: Path, count: int, database_url: str = "") -> tuple[str, list[str]]:
    """Create the database with `count` connections; return (workspace id, connection ids).
    `database_url`: a PostgreSQL database instead of the data directory's SQLite file."""
    # Unlocked once here (the key file's key): inside the one transaction below, each insert
    # would otherwise look the key up again and re-scan the rows for secrets stored in clear.
    db = open_db(database_url or data_dir / "sluice.db", "", data_dir)
    workspace = WorkspaceRead(
        workspace_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        name="Bench",
        slug="bench",
        initial_setup_complete=True,
        onboarding_complete=True,
        organization_id=DEFAULT_ORGANIZATION_ID,
    )
    shared_catalog = catalog()
    now = int(time.time())
    ids = []
    with transaction(db):
        workspaces.insert_workspace(db, workspace)
        for i in range(count):
            source = SourceRead(
                source_definition_id=E2E,
                source_id=uuid.uuid4(),
                workspace_id=workspace.workspace_id,
                connection_configuration={"max_messages": 1000, "seed": i},
                name=f"source {i}",
                source_name="E2E Testing",
                created_at=now,
            )
            destination = DestinationRead(
                destination_definition_id=DEV_NULL,
                destination_id=uuid.uuid4(),
                workspace_id=workspace.workspace_id,
                connection_configuration={"test_destination": {"test_destination_type": "SILENT"}},
                name=f"destination {i}",
                destination_name="End-to-End Testing (/dev/null)",
                created_at=now,
            )
            connection = finish(
                ConnectionRead(
                    connection_id=uuid.uuid4(),
                    name=f"{source.name} <> {destination.name}",
                    source_id=source.source_id,
                    destination_id=destination.destination_id,
                    workspace_id=workspace.workspace_id,
                    status="inactive",  # nothing for the scheduler to start meanwhile
                    sync_catalog=shared_catalog,
                    sync_schema=SourceSchema(streams=[]),
                    schedule_type="basic",
                    schedule_data=ConnectionScheduleData(
                        basic_schedule=BasicSchedule(time_unit="hours", units=24)
                    ),
                    schedule=None,  # finish() fills these two from the catalog and scheduleData
                    sync_mode="full_refresh",
                    namespace_definition="source",
                    operation_ids=[],
                    breaking_change=False,
                    created_at=now,
                )
            )
            sources.insert_source(db, source)
            destinations.insert_destination(db, destination)
            connections.insert_connection(db, connection)
            ids.append(str(connection.connection_id))
    db.conn.close()
    return str(workspace.workspace_id), ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


BASIC = {"Authorization": "Basic " + base64.b64encode(b"airbyte:password").decode()}
# The limiter runs (its cost is measured) but never refuses the benchmark's requests.
UNLIMITED = {"SLUICE_RATE_LIMIT": str(10**12)}
# The sync row's sync commits the destination's confirmed state at most this often.
STATE_COMMIT = {"SLUICE_STATE_COMMIT_SECONDS": "0.1"}


def start_server(
    data_dir: Path, port: int, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=ROOT,
        env={**os.environ, **UNLIMITED, **STATE_COMMIT, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "server.log").open("wb"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    log = (data_dir / "server.log").read_text(errors="replace")[-2000:]
    raise SystemExit(f"the server did not start within 30 s; its log ends:\n{log}")


@dataclass
class Result:
    name: str
    concurrency: int
    latencies: list[float]
    errors: int
    elapsed: float

    def row(self) -> str:
        n = len(self.latencies)
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000 if n else float("nan")
        p99 = ordered[min(n - 1, int(n * 0.99))] * 1000 if n else float("nan")
        rate = n / self.elapsed if self.elapsed else 0.0
        return (
            f"| {self.name:<36} | {self.concurrency:>7} | {n:>8} | {rate:>8.0f} | "
            f"{p50:>7.2f} | {p99:>7.2f} | {self.errors:>6} |"
        )


async def drive(
    base: str,
    name: str,
    path: str,
    body: Callable[[int], dict[str, Any]],
    concurrency: int,
    seconds: float,
    max_requests: int,
    headers: dict[str, str] = BASIC,
) -> Result:
    latencies: list[float] = []
    errors = 0
    counter = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, headers=headers
    ) as client:
        # One untimed request per connection warms the pool (and the server's caches).
        await asyncio.gather(*(client.post(path, json=body(-1)) for _ in range(concurrency)))
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal counter, errors
            while time.perf_counter() < stop and counter < max_requests:
                counter += 1
                payload = body(counter)
                t = time.perf_counter()
                r = await client.post(path, json=payload)
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, concurrency, latencies, errors, elapsed)


async def run(args: argparse.Namespace, base: str, workspace_id: str, ids: list[str]) -> None:
    rng = random.Random(7)
    page = args.page_size
    pages = max(1, len(ids) // page)
    cases: list[tuple[str, str, Callable[[int], dict[str, Any]], int]] = [
        ("connections/get", "/connections/get", lambda i: {"connectionId": rng.choice(ids)}, 10**9),
        (
            f"connections/list (page of {page})",
            "/connections/list",
            lambda i: {
                "workspaceId": workspace_id,
                "pageSize": page,
                "rowOffset": rng.randrange(pages) * page,
            },
            10**9,
        ),
        (
            f"connections/list (all {len(ids)})",
            "/connections/list",
            lambda i: {"workspaceId": workspace_id},
            args.full_list_requests,
        ),
        (
            "sources/create",
            "/sources/create",
            lambda i: {
                "workspaceId": workspace_id,
                "sourceDefinitionId": str(E2E),
                "name": f"bench {i}",
                "connectionConfiguration": {"max_messages": 10},
            },
            10**9,
        ),
    ]
    print(
        "| endpoint                             | clients | requests |    req/s | p50 ms  "
        "| p99 ms  | errors |"
    )
    print(
        "|--------------------------------------|---------|----------|----------|---------"
        "|---------|--------|"
    )
    if not args.only_sync:
        for name, path, body, cap in cases:
            for concurrency in args.concurrency:
                result = await drive(base, name, path, body, concurrency, args.seconds, cap)
                print(result.row(), flush=True)
    await sync_rows(args, base, workspace_id, ids)


async def sync_rows(args: argparse.Namespace, base: str, workspace_id: str, ids: list[str]) -> None:
    """connections/get while a real sync runs: source-e2e-test (a record every millisecond, a
    state every 10) into destination-dev-null, the state committed every 0.1 s."""
    rng = random.Random(7)
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=BASIC) as client:

        async def call(path: str, body: dict[str, Any]) -> Any:
            r = await client.post(path, json=body)
            if r.status_code != 200:
                raise SystemExit(f"{path}: {r.status_code} {r.text}")
            return r.json()

        source = await call(
            "/sources/create",
            {
                "workspaceId": workspace_id,
                "sourceDefinitionId": str(E2E),
                "name": "bench sync",
                "connectionConfiguration": {
                    "max_messages": 10**9,
                    "message_interval_ms": 1,
                    "state_checkpoint_interval": 10,
                },
            },
        )
        destination = await call(
            "/destinations/create",
            {
                "workspaceId": workspace_id,
                "destinationDefinitionId": str(DEV_NULL),
                "name": "bench sync",
                "connectionConfiguration": {
                    "test_destination": {"test_destination_type": "SILENT"}
                },
            },
        )
        discovered = await call("/sources/discover_schema", {"sourceId": source["sourceId"]})
        streams = [
            {
                "stream": entry["stream"],
                "config": {
                    **(entry.get("config") or {}),
                    "selected": True,
                    "syncMode": "full_refresh",
                    "destinationSyncMode": "append",
                },
            }
            for entry in discovered["catalog"]["streams"]
        ]
        connection = await call(
            "/connections/create",
            {
                "sourceId": source["sourceId"],
                "destinationId": destination["destinationId"],
                "status": "active",
                "syncCatalog": {"streams": streams},
            },
        )
        job = (await call("/connections/sync", {"connectionId": connection["connectionId"]}))["job"]
        try:
            # Running, and past its first state commit.
            deadline = time.monotonic() + 60
            while True:
                info = await call("/jobs/get", {"id": job["id"]})
                attempts = info["attempts"]
                committed = attempts[-1]["attempt"].get("recordsSynced", 0) if attempts else 0
                if info["job"]["status"] == "running" and committed:
                    break
                if info["job"]["status"] not in ("pending", "running"):
                    raise SystemExit(f"the bench sync ended: {info['job']['status']}")
                if time.monotonic() > deadline:
                    raise SystemExit("the bench sync did not commit a state within 60 s")
                await asyncio.sleep(0.1)
            for concurrency in args.concurrency:
                result = await drive(
                    base,
                    "connections/get (sync, state/0.1 s)",
                    "/connections/get",
                    lambda i: {"connectionId": rng.choice(ids)},
                    concurrency,
                    args.seconds,
                    10**9,
                )
                print(result.row(), flush=True)
            info = await call("/jobs/get", {"id": job["id"]})
            if info["job"]["status"] != "running":
                raise SystemExit(f"the bench sync ended early: {info['job']['status']}")
        finally:
            await client.post("/jobs/cancel", json={"id": job["id"]})


def auth_rows(args: argparse.Namespace, data_dir: Path, ids: list[str]) -> None:
    """connections/get with auth off, with Basic, and with an API key (rate limiter on)."""
    rng = random.Random(7)
    print(
        "| credential                           | clients | requests |    req/s | p50 ms  "
        "| p99 ms  | errors |"
    )
    print(
        "|--------------------------------------|---------|----------|----------|---------"
        "|---------|--------|"
    )
    for mode in ("none", "basic"):
        port = free_port()
        proc = start_server(data_dir, port, {"SLUICE_AUTH": mode})
        base = f"http://127.0.0.1:{port}/api/v1"
        rows: list[tuple[str, dict[str, str]]] = [("SLUICE_AUTH=none", {})]
        if mode == "basic":
            created = httpx.post(f"{base}/api_keys/create", json={"name": "bench"}, headers=BASIC)
            key = {"Authorization": f"Bearer {created.json()['key']}"}
            rows = [("Basic", BASIC), ("API key (Bearer)", key)]
        try:
            for name, headers in rows:
                for concurrency in args.concurrency:
                    result = asyncio.run(
                        drive(
                            base,
                            name,
                            "/connections/get",
                            lambda i: {"connectionId": rng.choice(ids)},
                            concurrency,
                            args.seconds,
                            10**9,
                            headers,
                        )
                    )
                    print(result.row(), flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="per endpoint and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--full-list-requests", type=int, default=20)
    parser.add_argument("--auth", action="store_true", help="only the cost of auth on one read")
    parser.add_argument(
        "--only-sync", action="store_true", help="only connections/get while a sync runs"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        t = time.perf_counter()
        workspace_id, ids = fill(data_dir, args.connections)
        size = (data_dir / "sluice.db").stat().st_size / 1e6
        print(
            f"filled {len(ids)} connections (+ sources, destinations) in "
            f"{time.perf_counter() - t:.1f} s; database {size:.0f} MB"
        )
        if args.auth:
            auth_rows(args, data_dir, ids)
            return 0
        port = free_port()
        t = time.perf_counter()
        proc = start_server(data_dir, port)
        print(f"server answered /health {time.perf_counter() - t:.2f} s after start\n")
        try:
            asyncio.run(run(args, f"http://127.0.0.1:{port}/api/v1", workspace_id, ids))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
