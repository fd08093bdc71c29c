"""The scheduler over a real SQLite file and the HTTP API, with a clock the tests move.

The app runs with its scheduler loop off and no job slots (`max_concurrent_syncs=0`), so jobs
stay where the scheduler puts them; each test calls `tick()` itself at the times it chooses and
moves jobs on with the same store functions the worker uses.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import httpx
import pytest
from sqlite_utils import Database

from server.app import create_app
from server.context import Context
from server.jobs.attempts import AttemptStats
from server.jobs.retry import end_attempt
from server.scheduling.loop import Scheduler
from server.settings import Settings
from server.store import jobs
from server.store.db import Store, open_db
from tests.conftest import post, running
from tests.support.postgres import current_database_url

E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"  # seeded "E2E Testing" source
SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"  # seeded "Local SQLite" destination
BERLIN = ZoneInfo("Europe/Berlin")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.timestamp()


@dataclass
class Env:
    client: httpx.AsyncClient
    ctx: Context
    clock: Clock
    scheduler: Scheduler

    async def tick_at(self, moment: datetime) -> list[int]:
        self.clock.set(moment)
        return await self.scheduler.tick()

    async def connection(self, **body: Any) -> str:
        workspaces = (await post(self.client, "workspaces/list")).json()["workspaces"]
        workspace_id = workspaces[0]["workspaceId"]
        source = await post(
            self.client,
            "sources/create",
            {
                "workspaceId": workspace_id,
                "sourceDefinitionId": E2E,
                "name": "Feed",
                "connectionConfiguration": {"max_messages": 10},
            },
        )
        destination = await post(
            self.client,
            "destinations/create",
            {
                "workspaceId": workspace_id,
                "destinationDefinitionId": SQLITE,
                "name": "Lake",
                "connectionConfiguration": {"destination_path": "/local/out.db"},
            },
        )
        r = await post(
            self.client,
            "connections/create",
            {
                "sourceId": source.json()["sourceId"],
                "destinationId": destination.json()["destinationId"],
                "status": "active",
                **body,
            },
        )
        assert r.status_code == 200, r.text
        return str(r.json()["connectionId"])

    async def update(self, connection_id: str, **body: Any) -> None:
        r = await post(self.client, "connections/update", {"connectionId": connection_id, **body})
        assert r.status_code == 200, r.text

    async def jobs_of(self, connection_id: str) -> list[dict[str, Any]]:
        """Sync jobs of the connection as `jobs/list` shows them, oldest first."""
        r = await post(
            self.client, "jobs/list", {"configTypes": ["sync"], "configId": connection_id}
        )
        assert r.status_code == 200, r.text
        return [item["job"] for item in reversed(r.json()["jobs"])]

    async def start_job(self, job_id: int) -> None:
        """Move the job to running, as the worker's claim does."""

        def claim(db: Database) -> None:
            found = jobs.claim_job(db, int(self.clock()))
            assert found is not None and found.job.id == job_id

        await self.ctx.store.write(claim)

    async def finish_job(self, job_id: int) -> None:
        """End the job's attempt as succeeded (claiming it first if it is still pending)."""
        job = await self.ctx.store.read(jobs.get_job, job_id)
        if job.status == "pending":
            await self.start_job(job_id)

        def end(db: Database) -> None:
            status = end_attempt(
                db,
                job_id,
                0,
                succeeded=True,
                cancelled=False,
                stats=AttemptStats(),
                failures=[],
                now=int(self.clock()),
                max_attempts=3,
                backoff_seconds=10,
            )
            assert status == "succeeded"

        await self.ctx.store.write(end)


def quiet_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=str(tmp_path / "data"),
        scheduler_tick_seconds=0,
        max_concurrent_syncs=0,
        database_url=current_database_url(),
    )


@contextlib.asynccontextmanager
async def environment(settings: Settings, start: datetime) -> AsyncIterator[Env]:
    """The app on `settings.data_dir`, with a movable clock; its database closed at the end."""
    clock = Clock(start)
    ctx = Context(
        settings=settings,
        store=Store(open_db(settings.database, key_dir=settings.data_path)),
        clock=clock,
    )
    try:
        async with running(create_app(settings, ctx)) as client:
            yield Env(client, ctx, clock, Scheduler(ctx))
    finally:
        ctx.store.close()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with environment(quiet_settings(tmp_path), datetime(2024, 5, 1, 10, tzinfo=UTC)) as e:
        yield e


def at(*args: int, tz: Any = UTC) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


def cron(expression: str, zone: str = "UTC") -> dict[str, Any]:
    return {
        "scheduleType": "cron",
        "scheduleData": {"cron": {"cronExpression": expression, "cronTimeZone": zone}},
    }


def basic(units: int, unit: str) -> dict[str, Any]:
    return {
        "scheduleType": "basic",
        "scheduleData": {"basicSchedule": {"units": units, "timeUnit": unit}},
    }


# ---- basic -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "unit", "seconds"), [(15, "minutes", 900), (2, "hours", 7200), (1, "days", 86400)]
)
async def test_basic_every_n_units(env: Env, units: int, unit: str, seconds: int) -> None:
    cid = await env.connection(**basic(units, unit))
    start = env.clock()
    # No job yet: the first sync is due at once, as Airbyte starts one on creation.
    [first] = await env.scheduler.tick()
    await env.finish_job(first)
    assert await env.tick_at(datetime.fromtimestamp(start + seconds - 1, UTC)) == []
    [second] = await env.tick_at(datetime.fromtimestamp(start + seconds, UTC))
    assert await env.scheduler.tick() == []  # the same moment again: nothing new
    listed = await env.jobs_of(cid)
    assert [j["id"] for j in listed] == [first, second]
    assert listed[1]["createdAt"] - listed[0]["createdAt"] == seconds


async def test_basic_counts_from_the_last_job_even_a_manual_one(env: Env) -> None:
    cid = await env.connection(**basic(1, "hours"))
    [first] = await env.tick_at(at(2024, 5, 1, 10))
    await env.finish_job(first)
    env.clock.set(at(2024, 5, 1, 10, 40))
    r = await post(env.client, "connections/sync", {"connectionId": cid})
    assert r.status_code == 200, r.text
    manual = r.json()["job"]["id"]
    await env.finish_job(manual)
    assert await env.tick_at(at(2024, 5, 1, 11, 0)) == []  # an hour after the first: not yet
    [third] = await env.tick_at(at(2024, 5, 1, 11, 40))
    assert [j["id"] for j in await env.jobs_of(cid)] == [first, manual, third]


async def test_early_schedule_field_is_a_basic_schedule(env: Env) -> None:
    cid = await env.connection(schedule={"units": 5, "timeUnit": "minutes"})
    [first] = await env.tick_at(at(2024, 5, 1, 10))
    await env.finish_job(first)
    assert await env.tick_at(at(2024, 5, 1, 10, 4, 59)) == []
    assert len(await env.tick_at(at(2024, 5, 1, 10, 5))) == 1
    assert len(await env.jobs_of(cid)) == 2


async def test_basic_waits_for_a_running_job_then_runs_once(env: Env) -> None:
    cid = await env.connection(**basic(5, "minutes"))
    [first] = await env.tick_at(at(2024, 5, 1, 10))
    await env.start_job(first)
    for minute in (5, 10, 15):  # overdue, but the job is still running
        assert await env.tick_at(at(2024, 5, 1, 10, minute)) == []
    await env.finish_job(first)
    [second] = await env.tick_at(at(2024, 5, 1, 10, 16))
    assert await env.tick_at(at(2024, 5, 1, 10, 17)) == []
    assert [j["id"] for j in await env.jobs_of(cid)] == [first, second]


# ---- cron ------------------------------------------------------------------------------------


async def test_cron_with_seconds(env: Env) -> None:
    cid = await env.connection(**cron("*/10 * * * * ?"))
    assert await env.tick_at(at(2024, 5, 1, 10, 0, 3)) == []  # starts counting now
    assert await env.tick_at(at(2024, 5, 1, 10, 0, 9)) == []
    [first] = await env.tick_at(at(2024, 5, 1, 10, 0, 10))
    assert await env.tick_at(at(2024, 5, 1, 10, 0, 10, 500000)) == []
    await env.finish_job(first)
    assert await env.tick_at(at(2024, 5, 1, 10, 0, 19)) == []
    [second] = await env.tick_at(at(2024, 5, 1, 10, 0, 21))  # a tick a second late still runs
    listed = await env.jobs_of(cid)
    assert [j["id"] for j in listed] == [first, second]
    assert [j["createdAt"] for j in listed] == [
        int(at(2024, 5, 1, 10, 0, 10).timestamp()),
        int(at(2024, 5, 1, 10, 0, 21).timestamp()),
    ]


async def test_cron_without_seconds_in_a_time_zone(env: Env) -> None:
    cid = await env.connection(**cron("0 12 * * *", "America/New_York"))
    assert await env.tick_at(at(2024, 5, 1, 10)) == []
    assert await env.tick_at(at(2024, 5, 1, 12)) == []  # noon UTC is 08:00 in New York
    [job] = await env.tick_at(at(2024, 5, 1, 16))  # noon EDT
    await env.finish_job(job)
    assert await env.tick_at(at(2024, 5, 2, 15, 59)) == []
    assert len(await env.tick_at(at(2024, 5, 2, 16))) == 1
    assert len(await env.jobs_of(cid)) == 2


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Spring: 02:30 does not exist on 31 March; that day's run comes at 03:00 CEST.
        (at(2024, 3, 30, 12), [at(2024, 3, 31, 1, 0), at(2024, 4, 1, 0, 30)]),
        # Autumn: 02:30 comes twice on 27 October; it runs once, at the first.
        (at(2024, 10, 26, 12), [at(2024, 10, 27, 0, 30), at(2024, 10, 28, 1, 30)]),
    ],
)
async def test_cron_across_a_dst_change_runs_once_a_day(
    tmp_path: Path, start: datetime, expected: list[datetime]
) -> None:
    async with environment(quiet_settings(tmp_path), start) as env:
        cid = await env.connection(**cron("0 30 2 * * ?", "Europe/Berlin"))
        moment = start.timestamp()
        end = start.timestamp() + 2 * 86400
        while moment < end:  # a tick every 5 minutes for two days
            for job_id in await env.tick_at(datetime.fromtimestamp(moment, UTC)):
                await env.finish_job(job_id)
            moment += 300
        created = [j["createdAt"] for j in await env.jobs_of(cid)]
        assert created == [int(e.timestamp()) for e in expected]


async def test_missed_runs_during_downtime_run_once(env: Env) -> None:
    cid = await env.connection(**cron("0 * * * * ?"))  # every minute
    assert await env.tick_at(at(2024, 5, 1, 10, 0, 30)) == []
    # No tick for 20 minutes (the server was down): 20 slots passed, one run.
    [job] = await env.tick_at(at(2024, 5, 1, 10, 20, 30))
    assert await env.tick_at(at(2024, 5, 1, 10, 20, 40)) == []
    await env.finish_job(job)
    assert await env.tick_at(at(2024, 5, 1, 10, 20, 59)) == []
    assert len(await env.tick_at(at(2024, 5, 1, 10, 21))) == 1
    assert len(await env.jobs_of(cid)) == 2


async def test_no_second_job_while_one_runs(env: Env) -> None:
    cid = await env.connection(**cron("0 * * * * ?"))
    await env.tick_at(at(2024, 5, 1, 10, 0, 30))
    [first] = await env.tick_at(at(2024, 5, 1, 10, 1))
    await env.start_job(first)
    for minute in (2, 3, 4):  # these slots come while the job runs: skipped
        assert await env.tick_at(at(2024, 5, 1, 10, minute)) == []
    await env.finish_job(first)
    assert await env.tick_at(at(2024, 5, 1, 10, 4, 30)) == []  # not replayed afterwards
    [second] = await env.tick_at(at(2024, 5, 1, 10, 5))
    # A manual sync is refused while the scheduled one waits to run, as any second sync is.
    r = await post(env.client, "connections/sync", {"connectionId": cid})
    assert r.status_code == 409 and "already running" in r.json()["message"]
    assert [j["id"] for j in await env.jobs_of(cid)] == [first, second]


async def test_pause_and_resume(env: Env) -> None:
    cid = await env.connection(**cron("0 0 * * * ?"))  # hourly
    await env.tick_at(at(2024, 5, 1, 10, 30))
    [first] = await env.tick_at(at(2024, 5, 1, 11))
    await env.finish_job(first)
    await env.update(cid, status="inactive")
    for hour in (12, 13, 14):
        assert await env.tick_at(at(2024, 5, 1, hour)) == []
    env.clock.set(at(2024, 5, 1, 14, 30))
    await env.update(cid, status="active")
    assert await env.tick_at(at(2024, 5, 1, 14, 30)) == []  # the pause is not replayed
    assert await env.tick_at(at(2024, 5, 1, 14, 59)) == []
    [second] = await env.tick_at(at(2024, 5, 1, 15))
    assert [j["id"] for j in await env.jobs_of(cid)] == [first, second]


async def test_paused_basic_schedule_runs_nothing(env: Env) -> None:
    cid = await env.connection(status="inactive", **basic(1, "minutes"))
    for minute in range(5):
        assert await env.tick_at(at(2024, 5, 1, 10, minute)) == []
    await env.update(cid, status="active")
    assert len(await env.tick_at(at(2024, 5, 1, 10, 5))) == 1


async def test_changing_the_schedule_takes_effect_at_once(env: Env) -> None:
    cid = await env.connection(**cron("0 0 12 * * ?"))
    await env.tick_at(at(2024, 5, 1, 10))
    env.clock.set(at(2024, 5, 1, 10, 2))
    await env.update(cid, **cron("0 */5 * * * ?"))
    assert await env.tick_at(at(2024, 5, 1, 10, 2)) == []
    [job] = await env.tick_at(at(2024, 5, 1, 10, 5))
    await env.finish_job(job)
    env.clock.set(at(2024, 5, 1, 10, 6))
    await env.update(cid, scheduleType="manual")
    for minute in (10, 15, 20):
        assert await env.tick_at(at(2024, 5, 1, 10, minute)) == []
    assert [j["id"] for j in await env.jobs_of(cid)] == [job]


async def test_each_connection_keeps_its_own_schedule(env: Env) -> None:
    every_minute = await env.connection(**cron("0 * * * * ?"))
    hourly = await env.connection(**cron("0 0 * * * ?", "Europe/Berlin"))
    await env.tick_at(at(2024, 5, 1, 10, 58, 30))
    [a] = await env.tick_at(at(2024, 5, 1, 10, 59))
    await env.finish_job(a)
    both = await env.tick_at(at(2024, 5, 1, 11))
    assert len(both) == 2
    assert len(await env.jobs_of(every_minute)) == 2
    assert len(await env.jobs_of(hourly)) == 1


async def test_a_restart_neither_loses_nor_doubles_a_run(tmp_path: Path) -> None:
    settings = quiet_settings(tmp_path)
    async with environment(settings, at(2024, 5, 1, 10, 0, 30)) as env:
        cid = await env.connection(**cron("0 * * * * ?"))
        await env.scheduler.tick()
        [first] = await env.tick_at(at(2024, 5, 1, 10, 1, 5))
        await env.finish_job(first)
    # Restarted within the same minute: that slot has run already.
    async with environment(settings, at(2024, 5, 1, 10, 1, 30)) as env:
        assert await env.scheduler.tick() == []
    # Restarted after a slot passed while the server was down: it runs, once.
    async with environment(settings, at(2024, 5, 1, 10, 2, 40)) as env:
        [second] = await env.scheduler.tick()
        assert await env.scheduler.tick() == []
    async with environment(settings, at(2024, 5, 1, 10, 2, 50)) as env:
        assert await env.scheduler.tick() == []
        assert [j["id"] for j in await env.jobs_of(cid)] == [first, second]


async def test_the_server_loop_ticks_by_itself(tmp_path: Path) -> None:
    """With the loop on (as by default), a due basic schedule gets its job with no call."""
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        scheduler_tick_seconds=0.05,
        max_concurrent_syncs=0,
        database_url=current_database_url(),
    )
    app = create_app(settings)
    async with running(app) as client:
        env = Env(client, app.state.ctx, Clock(datetime.now(UTC)), app.state.scheduler)
        cid = await env.connection(**basic(1, "hours"))
        with anyio.fail_after(10):
            while not await env.jobs_of(cid):
                await anyio.sleep(0.05)
        await anyio.sleep(0.3)  # several more ticks: still the one job
        assert len(await env.jobs_of(cid)) == 1
