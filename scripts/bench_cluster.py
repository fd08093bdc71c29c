#!/usr/bin/env python3
"""Measure Sluice on a shared PostgreSQL: job claims with 1, 2 and 4 workers, and
`connections/get` with 10,000 connections on PostgreSQL beside SQLite.

1. Claims: 200 short jobs queued on a fresh database; 1, 2 or 4 worker processes each claim
   (`SELECT ... FOR UPDATE SKIP LOCKED`, the lease written in the same transaction) and
   finish jobs (the attempt's end and the job's status in one transaction, as the worker's
   `end_attempt`) until none is left, through the same store functions `sluice worker` uses.
   No connector runs: this is the coordination's cost (jobs/s and the p99 of one claim), the
   part that more workers contend on. Every job is checked to have been run exactly once.
2. `connections/get`: `python -m server serve` on 10,000 connections (bench_api.py's fill),
   once on SQLite and once on PostgreSQL, one client and eight, p50 and p99.

    python scripts/bench_cluster.py                 # both parts, 200 jobs, 10,000 connections
    python scripts/bench_cluster.py --jobs 500 --connections 2000 --seconds 3

PostgreSQL runs locally (a throwaway initdb, fsync off as in the tests), so the figures leave
out network round trips: add yours per statement for a database on another machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_api  # noqa: E402
import psycopg  # noqa: E402

from server.jobs import leases  # noqa: E402
from server.jobs.attempts import AttemptStats  # noqa: E402
from server.jobs.retry import end_attempt  # noqa: E402
from server.store.db import Store, open_db  # noqa: E402
from tests.support.jobs import add_connection  # noqa: E402
from tests.support.postgres import PostgresServer, throwaway_postgres  # noqa: E402


def queue_jobs(url: str, count: int) -> None:
    """`count` pending sync jobs, one per connection (the one-active-job rule)."""
    from server.core.jobs import create_sync_job

    store = Store(open_db(url, ""))
    now = int(time.time())
    for _ in range(count):
        connection = store.write_sync(add_connection)
        store.write_sync(create_sync_job, connection, now)
    store.close()


def finish_job(db: object, job_id: int, number: int, now: int) -> None:
    end_attempt(
        db,  # type: ignore[arg-type]  # a Database; object keeps the pickled signature simple
        job_id,
        number,
        succeeded=True,
        cancelled=False,
        stats=AttemptStats(),
        failures=[],
        now=now,
        max_attempts=3,
        backoff_seconds=0,
    )


def worker(url: str, name: str, out: multiprocessing.Queue[tuple[str, list[float], int]]) -> None:
    """Claim and finish jobs until none is due; report the claim latencies."""
    store = Store(open_db(url))
    claims: list[float] = []
    done = 0
    while True:
        now = int(time.time())
        started = time.perf_counter()
        claim = store.write_sync(leases.claim, now, name, now + 30)
        claims.append(time.perf_counter() - started)
        if claim is None:
            break
        store.write_sync(finish_job, claim.job.id, claim.attempt_number, now)
        done += 1
    store.close()
    out.put((name, claims, done))


def claims_row(
    server: PostgresServer, admin: psycopg.Connection[object], workers: int, jobs: int
) -> str:
    name = f"bench_claims_{workers}"
    admin.execute(f"DROP DATABASE IF EXISTS {name}")
    admin.execute(f"CREATE DATABASE {name}")
    url = server.url(name)
    queue_jobs(url, jobs)
    results: multiprocessing.Queue[tuple[str, list[float], int]] = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=worker, args=(url, f"w{i}", results)) for i in range(workers)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    reports = [results.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
    latencies = sorted(x for _, claims, _ in reports for x in claims)
    with psycopg.connect(url, autocommit=True) as conn:
        attempts = conn.execute(
            "SELECT count(*), count(DISTINCT job_id), count(DISTINCT worker_id) FROM attempts "
            "WHERE status = 'succeeded'"
        ).fetchone()
    assert attempts is not None and attempts[0] == attempts[1] == jobs, attempts
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    spread = "/".join(str(done) for _, _, done in sorted(reports))
    return (
        f"| {workers:>7} | {jobs:>4} | {jobs / elapsed:>7.0f} | {p50:>8.2f} | {p99:>8.2f} "
        f"| {spread:<15} |"
    )


def get_rows(label: str, data_dir: Path, database_url: str, args: argparse.Namespace) -> None:
    _, ids = bench_api.fill(data_dir, args.connections, database_url)
    port = bench_api.free_port()
    env = {"SLUICE_DATABASE_URL": database_url} if database_url else {}
    proc = bench_api.start_server(data_dir, port, env)
    try:
        for concurrency in (1, 8):
            result = asyncio.run(
                bench_api.drive(
                    f"http://127.0.0.1:{port}",
                    f"connections/get ({label})",
                    "/api/v1/connections/get",
                    lambda i: {"connectionId": ids[i % len(ids)]},
                    concurrency,
                    args.seconds,
                    args.max_requests,
                )
            )
            print(result.row(), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    args = parser.parse_args()
    with throwaway_postgres() as server:
        admin = psycopg.connect(server.url("postgres"), autocommit=True)
        print("| workers | jobs |  jobs/s | claim p50 ms | claim p99 ms | jobs per worker |")
        print("|--------:|-----:|--------:|---------:|---------:|:----------------|")
        for workers in (1, 2, 4):
            print(claims_row(server, admin, workers, args.jobs), flush=True)
        print()
        print(f"| {'endpoint':<36} | clients | requests |    req/s | p50 ms  | p99 ms  | errors |")
        print(f"|{'-' * 38}|--------:|---------:|---------:|--------:|--------:|-------:|")
        with tempfile.TemporaryDirectory(prefix="sluice-bench-") as tmp:
            get_rows("SQLite", Path(tmp) / "sqlite", "", args)
            admin.execute("CREATE DATABASE bench_get")
            get_rows("PostgreSQL", Path(tmp) / "pg", server.url("bench_get"), args)
        admin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
