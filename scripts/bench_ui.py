#!/usr/bin/env python3
"""Time the web UI's pages with 10,000 connections (the issue's goal: every page under 200 ms
of server time).

Fills a throwaway data directory as scripts/bench_api.py does (10,000 sources, destinations and
connections with a three-stream catalog), gives every connection a finished sync job (and
every tenth a failed one before it), then runs the app in-process (its lifespan, the whole
middleware stack, no network), signs in through the form and requests each page `--runs`
times, printing the median and the slowest. In-process, the figures are the server's time
plus the in-process client's (small).

    python scripts/bench_ui.py                     # 10,000 connections, 20 runs per page
    python scripts/bench_ui.py --connections 2000 --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import httpx  # noqa: E402
from bench_api import fill  # noqa: E402

from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.store.db import open_db, transaction  # noqa: E402

GOAL_MS = 200.0


def add_jobs(data_dir: Path, connection_ids: list[str]) -> int:
    """A succeeded sync job (one attempt) for every connection, a failed one before it for
    every tenth; the id of the last job."""
    db = open_db(data_dir / "sluice.db", "")
    now = int(time.time()) - 3600
    job_id = 0
    with transaction(db):
        for i, cid in enumerate(connection_ids):
            outcomes = ["failed", "succeeded"] if i % 10 == 0 else ["succeeded"]
            for status in outcomes:
                cursor = db.execute(
                    "INSERT INTO jobs (config_type, config_id, status, created_at, updated_at, "
                    "started_at) VALUES ('sync', ?, ?, ?, ?, ?)",
                    [cid, status, now, now + 60, now],
                )
                job_id = int(cursor.lastrowid or 0)
                db.execute(
                    "INSERT INTO attempts (job_id, attempt_number, status, created_at, "
                    "updated_at, ended_at, records_emitted, bytes_emitted, records_committed, "
                    "bytes_committed, log_path) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        job_id,
                        status,
                        now,
                        now + 60,
                        now + 60,
                        1000,
                        50_000,
                        1000,
                        50_000,
                        f"jobs/{job_id}/0/logs.log",
                    ],
                )
    db.conn.close()
    return job_id


async def measure(data_dir: Path, connection_ids: list[str], last_job: int, runs: int) -> bool:
    settings = Settings(
        data_dir=str(data_dir),
        scheduler_tick_seconds=0,
        max_concurrent_syncs=0,
        rate_limit=0,
    )
    app = create_app(settings)
    middle = connection_ids[len(connection_ids) // 2]
    pages = {
        "connections, first page": "/connections",
        "connections, last page": f"/connections?offset={max(0, len(connection_ids) - 50)}",
        "connections, name filter": "/connections?name=source%209999",
        "connections, status filter": "/connections?status=inactive&offset=5000",
        "connections, no match": "/connections?name=nothing-like-this",
        "new connection form": "/connections/new",
        "a connection": f"/connections/{middle}",
        "its job history": f"/connections/{middle}/jobs",
        "a job's log": f"/jobs/{last_job}",
    }
    ok = True
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            form = await c.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            r = await c.post(
                "/login",
                data={"csrf_token": token.group(1), "username": "airbyte", "password": "password"},
            )
            assert r.status_code == 303, r.text
            print(f"{'page':<30} {'median ms':>10} {'max ms':>8} {'KB':>6}")
            for label, path in pages.items():
                times = []
                size = 0
                for _ in range(runs + 1):  # the first run warms caches; not counted
                    start = time.perf_counter()
                    r = await c.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert r.status_code == 200, (path, r.status_code, r.text[:300])
                    size = len(r.content)
                times = times[1:]
                median, worst = statistics.median(times), max(times)
                ok = ok and median < GOAL_MS
                print(f"{label:<30} {median:>10.1f} {worst:>8.1f} {size / 1024:>6.1f}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sluice-bench-ui-") as tmp:
        data_dir = Path(tmp)
        start = time.perf_counter()
        _, ids = fill(data_dir, args.connections)
        last_job = add_jobs(data_dir, ids)
        print(f"seeded {len(ids)} connections in {time.perf_counter() - start:.1f} s")
        ok = asyncio.run(measure(data_dir, ids, last_job, args.runs))
    print(f"every median under {GOAL_MS:.0f} ms: {'yes' if ok else 'NO'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
