"""The scheduler: one loop in the server that starts the syncs of scheduled connections.

Every tick (at least every `scheduler_tick_seconds`, 1 s by default, and right at the next
known slot) it looks at each active connection with a basic or cron schedule, decides from
stored facts whether a sync is due, and if so creates the sync job and records the slot in one
transaction, then wakes the worker. Nothing is kept only
in memory (the in-memory cache merely saves recomputing), so a restart neither loses nor
doubles a run.

- basic (`scheduleData.basicSchedule` or the 2020 `schedule`): due when the interval has passed
  since the connection's newest sync job (scheduled or manual) was created; with no job yet, at
  once. While a job is pending, running or waiting to retry, the run waits for it to end (as
  Airbyte's does: the interval counts from the previous job).
- cron: due when a slot of the expression (in its time zone) has come since the last slot
  handled. Slots missed while the server was down run once at start-up, not once each. A slot
  that comes while a job of the connection is still pending or running is skipped, as in
  Airbyte, where the next cron run is computed after the previous sync ends.
- Pausing (`status: inactive`) forgets the cron count: resuming counts from then, so the pause
  is not replayed. A changed schedule counts from the moment the change is seen. A basic
  schedule resumes by the rule above: one sync at once if the interval has passed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import anyio
import anyio.abc
import msgspec
from sqlite_utils import Database

from server.core.jobs import create_sync_job
from server.jobs.leases import worker_identity
from server.models.connections import ConnectionSchedule, ConnectionScheduleData
from server.scheduling.schedules import (
    BasicInterval,
    CronError,
    CronSpec,
    Schedule,
    epoch,
    latest_slot,
    next_fires,
    schedule_of,
)
from server.store import schedules as store
from server.store.pg import SessionLock

if TYPE_CHECKING:
    from server.context import Context

log = logging.getLogger("sluice.scheduler")

# The advisory lock key of the one acting scheduler (any constant of our own).
SCHEDULER_LOCK = 0x51C3_0002

_data_decoder = msgspec.json.Decoder(ConnectionScheduleData | None)
_legacy_decoder = msgspec.json.Decoder(ConnectionSchedule | None)


@dataclass(frozen=True)
class Decision:
    """What a tick does for one connection.

    wait: nothing until `next_due` (None: never). start: count from `slot` (first sight of a
    cron schedule). run: enqueue a sync for `slot`. skip: mark `slot` handled without a sync.
    """

    action: Literal["wait", "start", "run", "skip"]
    slot: int | None = None
    next_due: float | None = None


def decide(schedule: Schedule, facts: store.ScheduleFacts, now: float) -> Decision:
    """Whether the connection's sync is due at `now`, from stored facts only."""
    if isinstance(schedule, BasicInterval):
        if facts.last_job_created_at is None:
            due = int(now)
        else:
            due = facts.last_job_created_at + schedule.seconds
        if due > now:
            return Decision("wait", next_due=due)
        # Deferred, not skipped: due again when the job ends (which changes the facts).
        return Decision("wait") if facts.busy else Decision("run", slot=due)
    if facts.run_key != schedule.key or facts.last_slot is None:
        return Decision("start", slot=int(now))
    at = datetime.fromtimestamp(now, UTC)
    slot = latest_slot(schedule, at)
    if slot is None or epoch(slot) <= facts.last_slot:
        after = datetime.fromtimestamp(max(facts.last_slot, now), UTC)
        upcoming = next_fires(schedule, after, 1)
        return Decision("wait", next_due=upcoming[0].timestamp() if upcoming else None)
    return Decision("skip" if facts.busy else "run", slot=epoch(slot))


class Scheduler:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # Parsed schedules by their stored JSON (None: manual, or one that cannot run).
        self._parsed: dict[tuple[str | None, str | None, str | None], Schedule | None] = {}
        # Per connection: the facts last seen and the time they make the next run due.
        self._waiting: dict[str, tuple[store.ScheduleFacts, float | None]] = {}

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Tick until cancelled (the app's shut-down); a tick's error is logged, not fatal."""
        interval = float(self.ctx.settings.scheduler_tick_seconds)
        task_status.started()
        if interval <= 0:
            return  # turned off
        # Several processes on one PostgreSQL: only the holder of this lock schedules.
        name = f"sluice scheduler {worker_identity(self.ctx.settings)}"
        leader = self.ctx.store.session_lock(SCHEDULER_LOCK, name)
        try:
            await self._ticks(interval, leader)
        finally:
            if leader is not None:
                leader.release()

    async def _ticks(self, interval: float, leader: SessionLock | None) -> None:
        while True:
            if leader is not None and not await anyio.to_thread.run_sync(leader.hold):
                self._waiting.clear()  # another scheduler acts; look afresh when it is ours
                await anyio.sleep(interval)
                continue
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed; trying again in %s s", interval)
            # Wake for the next known slot on time; look again at least every `interval`.
            soonest = self.soonest()
            delay = interval if soonest is None else soonest - self.ctx.clock()
            await anyio.sleep(min(interval, max(0.001, delay)))

    def soonest(self) -> float | None:
        """The earliest time a connection seen waiting becomes due, if any."""
        times = [due for _, due in self._waiting.values() if due is not None]
        return min(times, default=None)

    async def tick(self, now: float | None = None) -> list[int]:
        """One pass over the scheduled connections at `now` (default: the context's clock).
        Returns the ids of the sync jobs it created."""
        now = self.ctx.clock() if now is None else now
        created: list[int] = []
        forget: list[str] = []
        listed = await self.ctx.store.read(store.list_schedule_facts)
        for gone in self._waiting.keys() - {facts.connection_id for facts in listed}:
            del self._waiting[gone]  # deleted or no longer scheduled
        for facts in listed:
            schedule = self.schedule(facts) if facts.status == "active" else None
            if not isinstance(schedule, CronSpec) and facts.run_key is not None:
                forget.append(facts.connection_id)  # paused, manual, basic: count anew later
            if schedule is None:
                self._waiting.pop(facts.connection_id, None)
                continue
            seen = self._waiting.get(facts.connection_id)
            if seen is not None and seen[0] == facts and (seen[1] is None or seen[1] > now):
                continue  # nothing changed and not yet due
            decision = decide(schedule, facts, now)
            if decision.action == "wait":
                self._waiting[facts.connection_id] = (facts, decision.next_due)
                continue
            try:
                job_id = await self.ctx.store.write(self._act, facts.connection_id, now)
            except Exception:  # one connection's trouble must not stop the others' schedules
                log.exception("could not schedule a sync of connection %s", facts.connection_id)
                continue
            if job_id is not None:
                created.append(job_id)
        if forget:
            await self.ctx.store.write(store.forget_runs, forget)
        if created:
            self.ctx.worker.wake()
        return created

    def schedule(self, facts: store.ScheduleFacts) -> Schedule | None:
        """The connection's schedule, parsed once per distinct stored value."""
        key = (facts.schedule_type, facts.schedule_data, facts.schedule)
        if key in self._parsed:
            return self._parsed[key]
        if len(self._parsed) > 10_000:
            self._parsed.clear()
        try:
            data = _data_decoder.decode(facts.schedule_data or "null")
            legacy = _legacy_decoder.decode(facts.schedule or "null")
            parsed = schedule_of(facts.schedule_type, data, legacy)
        except (CronError, msgspec.ValidationError, msgspec.DecodeError) as exc:
            # Stored before a rule changed (or a zone left the tz database): log it once.
            log.warning(
                "connection %s has a schedule that cannot run: %s", facts.connection_id, exc
            )
            parsed = None
        self._parsed[key] = parsed
        return parsed

    def _act(self, db: Database, connection_id: str, now: float) -> int | None:
        """In one write transaction: decide again on fresh facts (another tick or a manual sync
        may have come first), then enqueue and/or record the slot. Returns a new job's id."""
        store.lock_connection_schedule(db, connection_id)
        facts = store.get_schedule_facts(db, connection_id)
        schedule = None if facts is None or facts.status != "active" else self.schedule(facts)
        if facts is None or schedule is None:
            return None
        decision = decide(schedule, facts, now)
        key, slot, stamp = schedule.key, decision.slot, int(now)
        if decision.action == "start" and slot is not None:
            store.set_last_slot(db, connection_id, key, slot, stamp)
            log.info("connection %s: schedule %s counts from %s", connection_id, key, slot)
        elif decision.action == "skip" and slot is not None:
            store.set_last_slot(db, connection_id, key, slot, stamp)
            log.info(
                "connection %s: skipped the %s run, a job of it is still running",
                connection_id,
                _show(slot),
            )
        elif decision.action == "run" and slot is not None:
            job_id = create_sync_job(db, connection_id, stamp)
            if isinstance(schedule, CronSpec):
                store.set_last_slot(db, connection_id, key, slot, stamp, job_id)
            log.info(
                "connection %s: scheduled sync job %s for the %s run",
                connection_id,
                job_id,
                _show(slot),
            )
            return job_id
        return None


def _show(slot: int) -> str:
    return datetime.fromtimestamp(slot, UTC).isoformat()
