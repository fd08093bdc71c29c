#!/usr/bin/env python3
"""How long one scheduler tick takes with many scheduled connections.

    python scripts/bench_scheduler.py [--connections 2000]

Builds a throw-away database with that many active connections (half on cron schedules in
assorted zones, half on basic intervals), then times: the first tick (every cron schedule
starts counting, every basic one gets its first job), an idle tick (nothing due: the
common case, once a second), and a tick where every cron connection is due.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import anyio
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.context import Context
from server.scheduling.loop import Scheduler
from server.settings import Settings
from server.store.db import Store, open_db, transaction

E2E_TEST = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]


def populate(store: Store, count: int) -> None:
    db = store.db
    workspace = db.execute("SELECT id FROM workspaces LIMIT 1").fetchone()[0]
    source, destination = str(uuid.uuid4()), str(uuid.uuid4())
    catalog = {"streams": [{"stream": {"name": f"s{i}"}, "config": {}} for i in range(20)]}
    with transaction(db):
        # Seeded definitions: sources and destinations reference theirs (a foreign key).
        for table, id, definition in (
            ("sources", source, E2E_TEST),
            ("destinations", destination, DEV_NULL),
        ):
            db.execute(
                f"INSERT INTO {table} (id, workspace_id, definition_id, created_at, data) "
                "VALUES (?, ?, ?, 0, '{}')",
                [id, workspace, definition],
            )
        for i in range(count):
            if i % 2:
                schedule = {
                    "scheduleType": "cron",
                    "scheduleData": {
                        "cron": {
                            "cronExpression": f"0 {i % 60} * * * ?",
                            "cronTimeZone": ZONES[i % len(ZONES)],
                        }
                    },
                }
            else:
                schedule = {
                    "scheduleType": "basic",
                    "scheduleData": {"basicSchedule": {"units": 1 + i % 24, "timeUnit": "hours"}},
                }
            doc = {"status": "active", "syncCatalog": catalog, **schedule}
            db.execute(
                "INSERT INTO connections (id, workspace_id, source_id, destination_id, status, "
                "created_at, data) VALUES (?, ?, ?, ?, 'active', 0, ?)",
                [str(uuid.uuid4()), workspace, source, destination, msgspec.json.encode(doc)],
            )


async def timed(scheduler: Scheduler, now: float) -> tuple[float, int]:
    start = time.perf_counter()
    created = await scheduler.tick(now)
    return (time.perf_counter() - start) * 1000, len(created)


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp, max_concurrent_syncs=0)
        store = Store(open_db(settings.db_path))
        populate(store, count)
        start = datetime(2024, 5, 1, 10, 0, 30, tzinfo=UTC).timestamp()
        scheduler = Scheduler(Context(settings=settings, store=store, clock=lambda: start))
        ms, jobs = await timed(scheduler, start)
        print(f"{count} connections: first tick {ms:.0f} ms ({jobs} basic jobs created)")
        samples = [(await timed(scheduler, start + 1 + i))[0] for i in range(20)]
        print(f"idle tick: median {sorted(samples)[10]:.1f} ms (nothing due)")
        ms, jobs = await timed(scheduler, start + 4 * 3600)
        print(f"tick with every cron connection due: {ms:.0f} ms ({jobs} jobs created)")
        store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=2000)
    anyio.run(main, parser.parse_args().connections)
