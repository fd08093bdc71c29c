"""The job worker: runs pending sync and reset jobs, a few at a time, in the server process.

One anyio task claims due jobs from SQLite (pending -> running, one transaction) whenever it
is woken (a job was created or ended) or its poll interval passes, up to
`max_concurrent_syncs` at once. Each claimed job runs one attempt: the relay
(`server.sync.run_attempt`) in a worker thread, committing state and progress through the
store as it goes. When the attempt ends, one transaction records it and moves the job on:
succeeded, cancelled, or failed -> `incomplete` and retried after a backoff from the last
committed state, or `failed` when its attempts are used up.

Start-up recovers from a crash first: attempts a killed server left running are failed (their
connector processes and containers removed) and their jobs retried or failed, so nothing stays
`running`. At shut-down the running attempts are stopped and end the same way ("the server
stopped"), to be retried at the next start.
"""

from __future__ import annotations

import logging
import shutil
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
from sqlite_utils import Database

from server.core import schema_checks
from server.core.notification_jobs import JobEnd, on_job_end
from server.jobs import lease_loop, leases, startup
from server.jobs.attempts import (
    RESET_TYPES,
    AttemptStats,
    FailureReason,
    cancelled_failure,
    failure,
    mentions,
)
from server.jobs.plan import PlanError, build_plan
from server.jobs.retry import end_attempt
from server.runner import Runners
from server.runner.processes import AttemptRunners, process_identity
from server.settings import Settings
from server.store import jobs, state
from server.store.attempt_warnings import update_attempt_warnings
from server.store.db import Store
from server.sync import AttemptPlan, AttemptResult, run_attempt
from server.sync.attempt_log import append_line
from server.sync.states import without_streams

log = logging.getLogger("sluice.worker")

SERVER_STOPPED = startup.SERVER_STOPPED
LOST = "lost"  # what `_end` finds when another worker failed the attempt (lease ran out)


def append_log(path: Path, message: str) -> None:
    """Add one platform line to an attempt's log (the relay and connectors append there too)."""
    append_line(path, "platform", "INFO", message)


def _failed(*failures: FailureReason) -> AttemptResult:
    return AttemptResult(succeeded=False, cancelled=False, failures=list(failures))


# --- the worker ------------------------------------------------------------------------------


@dataclass
class _Running:
    """A job whose attempt runs now."""

    job_id: int
    cancel: threading.Event = field(default_factory=threading.Event)
    # Why `cancel` was set: "user" (jobs/cancel), "shutdown", or "gone" (the job or its
    # connection was deleted).
    reason: str | None = None
    ended: anyio.Event = field(default_factory=anyio.Event)

    def stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self.cancel.set()


class Worker:
    """The loop: claims due jobs and runs their attempts. Built by the app's lifespan with
    what it needs; handlers reach it only through `JobControl` (wake, cancel, wait)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        runners: Runners,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.settings = settings
        self.runners = runners
        self.clock = clock
        self._wakeup: anyio.Event | None = None
        self._running: dict[int, _Running] = {}
        # Cancels asked for between a job's claim and its registration here.
        self._cancel_requests: set[int] = set()
        self._limiter: anyio.CapacityLimiter | None = None
        # Several workers on one PostgreSQL: attempts carry this worker's id and a lease.
        self.worker_id = leases.worker_identity(settings)
        self.shared = store.shared

    def now(self) -> int:
        return int(self.clock())

    # --- control, from request handlers and the scheduler (on the event loop) ---------------

    def wake(self) -> None:
        """Look for due jobs now (call after creating one). Call from the event loop."""
        if self._wakeup is not None:
            self._wakeup.set()

    def is_running(self, job_id: int) -> bool:
        return job_id in self._running

    def cancel(self, job_id: int) -> bool:
        """Stop the job's running attempt; False if this worker is not running it."""
        running = self._running.get(job_id)
        if running is None:
            self._cancel_requests.add(job_id)
            return False
        running.stop("user")
        return True

    async def wait_ended(self, job_id: int, timeout: float) -> None:
        """Return when the job's running attempt has ended, or after `timeout` seconds."""
        with anyio.move_on_after(timeout):
            while job_id in self._cancel_requests and job_id not in self._running:
                await anyio.sleep(0.05)  # claimed a moment ago; registering now
            running = self._running.get(job_id)
            if running is not None:
                await running.ended.wait()

    def running_ids(self) -> list[int]:
        return list(self._running)

    def stop_job(self, job_id: int, reason: str) -> None:
        running = self._running.get(job_id)
        if running is not None:
            running.stop(reason)

    def stop_all(self) -> None:
        """Stop every running attempt (shut-down); they end as failed, retried at next start."""
        for running in self._running.values():
            running.stop("shutdown")

    # --- the loop ------------------------------------------------------------------------

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Recover, then run jobs until cancelled (the app's shut-down)."""
        self._wakeup = anyio.Event()
        self._limiter = anyio.CapacityLimiter(max(1, self.settings.max_concurrent_syncs))
        await self.recover()
        task_status.started()
        try:
            async with anyio.create_task_group() as tasks:
                if self.shared:
                    tasks.start_soon(lease_loop.keep_leases, self)
                while True:
                    self._wakeup = anyio.Event()
                    await self._start_due(tasks)
                    with anyio.move_on_after(await self._idle_seconds()):
                        await self._wakeup.wait()
        finally:
            self._wakeup = None

    async def _start_due(self, tasks: anyio.abc.TaskGroup) -> None:
        # 0 runs none: jobs wait as pending (a server that only serves the API).
        while len(self._running) < self.settings.max_concurrent_syncs:
            until = self.now() + lease_loop.lease_seconds(self.settings) if self.shared else None
            claim = await self.store.write(leases.claim, self.now(), self.worker_id, until)
            if claim is None:
                return
            running = self._running[claim.job.id] = _Running(claim.job.id)
            if claim.job.id in self._cancel_requests:
                self._cancel_requests.discard(claim.job.id)
                running.stop("user")
            tasks.start_soon(self._run_job, claim, running)

    async def _idle_seconds(self) -> float:
        poll = max(0.05, float(self.settings.worker_poll_seconds))
        due = await self.store.read(jobs.next_due)
        if due is None or len(self._running) >= self.settings.max_concurrent_syncs:
            return poll
        return min(poll, max(0.0, due - self.clock()))

    async def _run_job(self, claim: jobs.Claim, running: _Running) -> None:
        job, number = claim.job, claim.attempt_number
        log_path = self.settings.data_path / claim.log_path
        job_dir = self.settings.data_path / "jobs" / str(job.id) / str(number)
        outcome: list[AttemptResult] = []  # filled by the attempt's thread, even at shut-down
        retry = True
        try:
            append_log(
                log_path,
                f"Starting attempt {number + 1} of at most {self.settings.sync_max_attempts} "
                f"of job {job.id} ({job.config_type}, connection {job.config_id})",
            )
            try:
                plan = await self.store.read(build_plan, claim, job_dir, log_path)
                if job.config_type not in RESET_TYPES:  # the source's schema changes
                    check = await schema_checks.before_sync(
                        self.store,
                        self.settings,
                        self.runners,
                        self.clock,
                        job.id,
                        job.config_id,
                        log_path,
                    )
                    if check.blocked is not None:
                        raise PlanError(check.blocked)
                    if check.replan:  # the connection's catalog took the changes
                        plan = await self.store.read(build_plan, claim, job_dir, log_path)
            except PlanError as exc:  # the user's configuration: a retry cannot help
                retry = False
                outcome.append(_failed(failure("airbyte_platform", "config_error", str(exc))))
            else:
                await self._attempt(plan, running, outcome)
        except Exception as exc:  # a bug must fail the attempt, never leave it running
            # A fault of the platform, not of the user's configuration: logged with its
            # traceback, and retried as any system error.
            log.exception("attempt %s of job %s failed unexpectedly", number, job.id)
            outcome.append(
                _failed(
                    failure(
                        "airbyte_platform",
                        "system_error",
                        f"Sluice failed to run the attempt: {exc!r}",
                        stacktrace=traceback.format_exc(),
                    )
                )
            )
        finally:
            # Shielded: at shut-down the task is cancelled, and the attempt must still end.
            with anyio.CancelScope(shield=True):
                try:
                    stopped = failure("airbyte_platform", "transient_error", SERVER_STOPPED)
                    result = outcome[0] if outcome else _failed(stopped)
                    await self._end(claim, running, result, retry, log_path)
                finally:
                    shutil.rmtree(job_dir, ignore_errors=True)  # configurations hold secrets
                    self._running.pop(job.id, None)
                    running.ended.set()
                    self.wake()

    async def _attempt(
        self, plan: AttemptPlan, running: _Running, outcome: list[AttemptResult]
    ) -> None:
        store, job_id, number = self.store, plan.job_id, plan.attempt_number

        def commit_state(new_state: list[dict[str, Any]]) -> None:
            if not store.write_sync(state.set_state, plan.connection_id, new_state, self.now()):
                running.stop("gone")

        def report_progress(progress: AttemptStats) -> None:
            saved = store.write_sync(jobs.save_progress, job_id, number, progress, self.now())
            if not saved:
                running.stop("gone")

        def started(pid: int) -> None:
            store.write_sync(jobs.add_process, job_id, number, process_identity(pid))

        def attempt() -> None:
            runners = AttemptRunners(self.runners, started)
            outcome.append(
                run_attempt(
                    plan, runners, self.settings, commit_state, report_progress, running.cancel
                )
            )

        await anyio.to_thread.run_sync(attempt, limiter=self._limiter)

    async def _end(
        self,
        claim: jobs.Claim,
        running: _Running,
        result: AttemptResult,
        retry: bool,
        log_path: Path,
    ) -> None:
        job, number = claim.job, claim.attempt_number
        failures = list(result.failures)
        cancelled = False
        if not result.succeeded:
            # The reason the attempt was stopped comes first: it explains what followed.
            if running.reason == "user":
                cancelled = True
                failures.insert(0, cancelled_failure())
            elif running.reason == "shutdown" and not mentions(failures, SERVER_STOPPED):
                failures.insert(0, failure("airbyte_platform", "transient_error", SERVER_STOPPED))
            elif not failures:
                failures.append(
                    failure(
                        "airbyte_platform", "system_error", "The attempt failed without saying why"
                    )
                )
            if any(f.failure_type == "config_error" for f in failures):
                retry = False
        settings = self.settings

        def finish(db: Database) -> str | None:
            if self.shared:
                standing = leases.standing(db, job.id, number, self.worker_id)
                if standing != "held":
                    return LOST if standing == "lost" else None
            status = end_attempt(
                db,
                job.id,
                number,
                succeeded=result.succeeded,
                cancelled=cancelled,
                stats=result.stats,
                failures=failures,
                now=self.now(),
                max_attempts=settings.sync_max_attempts,
                backoff_seconds=settings.sync_retry_backoff_seconds,
                retry=retry,
            )
            if status == "succeeded" and job.config_type in RESET_TYPES:
                kept = (
                    []
                    if job.streams is None
                    else without_streams(state.get_state(db, job.config_id), job.streams)
                )
                state.set_state(db, job.config_id, kept, self.now())
            if result.succeeded:
                update_attempt_warnings(db, job.id, number, result.warnings)
            if status in ("succeeded", "failed"):  # after its last attempt; not cancelled
                end = JobEnd(
                    job_id=job.id,
                    connection_id=job.config_id,
                    config_type=job.config_type,
                    status=status,
                    started_at=job.started_at or job.created_at,
                    stats=result.stats,
                    failure_reason=None if result.succeeded else failures[0].external_message,
                )
                notes.extend(on_job_end(db, end, settings, self.now()))
            return status

        notes: list[str] = []  # the job's notifications and auto-disable, for its log
        status = await self.store.write(finish)
        if status == LOST:
            append_log(log_path, f"Attempt {number + 1} lost its lease; its result is dropped")
            log.warning("job %s attempt %s lost its lease; result dropped", job.id, number)
            return
        if status is None:  # the connection, and so the job, was deleted meanwhile
            shutil.rmtree(self.settings.data_path / "jobs" / str(job.id), ignore_errors=True)
            log.info("job %s was deleted while attempt %s ran", job.id, number)
            return
        outcome = "succeeded" if result.succeeded else "cancelled" if cancelled else "failed"
        detail = "" if result.succeeded else f": {failures[0].external_message}"
        if result.succeeded and result.warnings:
            outcome += " with a warning"
            detail = f": {result.warnings[0].external_message}"
        append_log(log_path, f"Attempt {number + 1} {outcome}{detail}; job is now {status}")
        for note in notes:
            append_log(log_path, note)
        log.info("job %s attempt %s %s; job %s", job.id, number, outcome, status)

    # --- start-up recovery ---------------------------------------------------------------

    async def recover(self) -> None:
        """Fail the attempts a killed server left running (`server.jobs.startup`)."""
        await startup.recover(self)
