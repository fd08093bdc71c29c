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

import dataclasses
import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import anyio.to_thread
import msgspec
from sqlite_utils import Database

from server.connector_processes import AttemptRunners, kill_process_groups, process_identity
from server.protocol import StreamDescriptor
from server.runner.base import ConnectorImage
from server.runner.images import connector_image
from server.secrets import secret_values
from server.store import connector_cache, jobs, recovery, state
from server.store.attempt_warnings import update_attempt_warnings
from server.store.connections import get_connection
from server.store.definitions import get_destination_definition, get_source_definition
from server.store.destinations import get_destination
from server.store.destinations import get_secret_paths as destination_secret_paths
from server.store.sources import get_secret_paths as source_secret_paths
from server.store.sources import get_source
from server.sync import AttemptPlan, AttemptProgress, AttemptResult, run_attempt

if TYPE_CHECKING:
    from server.context import Context

log = logging.getLogger("sluice.worker")

SERVER_STOPPED = "The server stopped during the attempt"
CANCELLED = "The job was cancelled"


def failure(
    message: str,
    *,
    origin: str = "airbyte_platform",
    kind: str = "system_error",
    retryable: bool | None = True,
    internal: str | None = None,
) -> dict[str, Any]:
    """An Airbyte FailureReason dict for a failure the platform itself observed."""
    reason: dict[str, Any] = {
        "failureOrigin": origin,
        "failureType": kind,
        "externalMessage": message,
        "timestamp": int(time.time() * 1000),
    }
    if retryable is not None:
        reason["retryable"] = retryable
    if internal:
        reason["internalMessage"] = internal
    return reason


def append_log(path: Path, message: str) -> None:
    """Add one platform line to an attempt's log (the relay and connectors append there too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    with path.open("a", encoding="utf-8") as file:
        file.write(f"{stamp} platform > {message}\n")


def _secrets(
    db: Database,
    definition: Any,
    configuration: dict[str, Any],
    paths: list[list[str | None]] | None = None,
) -> list[str]:
    """A configuration's secret values, kept out of the attempt log: by the connector's cached
    spec and the secret paths stored with the configuration (those of the spec it was
    validated with, kept also when the spec is not cached); by name with neither."""
    spec = connector_cache.get_spec(
        db, connector_cache.spec_key(connector_image(definition, "get_spec"))
    )
    schema = None if spec is None else spec.connectionSpecification
    return secret_values(configuration, schema, paths)


class PlanError(Exception):
    """The job cannot run as configured (a retry would not help); the message says why."""


def _stats(result: AttemptResult | AttemptProgress) -> jobs.Stats:
    return jobs.Stats(
        records_emitted=result.records_emitted,
        bytes_emitted=result.bytes_emitted,
        records_committed=result.records_committed,
        bytes_committed=result.bytes_committed,
        state_messages_emitted=result.state_messages_emitted,
        estimated_records=result.estimated_records,
        estimated_bytes=result.estimated_bytes,
        stream_stats=result.stream_stats,
    )


def _mentions(failures: list[dict[str, Any]], message: str) -> bool:
    return any(f.get("externalMessage") == message for f in failures)


def _failed(*failures: dict[str, Any]) -> AttemptResult:
    return AttemptResult(
        succeeded=False,
        cancelled=False,
        failures=list(failures),
        records_emitted=0,
        bytes_emitted=0,
        records_committed=0,
        bytes_committed=0,
        state_messages_emitted=0,
        stream_stats=[],
        estimated_records=None,
        estimated_bytes=None,
    )


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
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._wakeup: anyio.Event | None = None
        self._running: dict[int, _Running] = {}
        # Cancels asked for between a job's claim and its registration here.
        self._cancel_requests: set[int] = set()
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def settings(self) -> Any:
        return self.ctx.settings

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
            claim = await self.ctx.store.write(jobs.claim_job, self.ctx.now())
            if claim is None:
                return
            running = self._running[claim.job.id] = _Running(claim.job.id)
            if claim.job.id in self._cancel_requests:
                self._cancel_requests.discard(claim.job.id)
                running.stop("user")
            tasks.start_soon(self._run_job, claim, running)

    async def _idle_seconds(self) -> float:
        poll = max(0.05, float(self.settings.worker_poll_seconds))
        due = await self.ctx.store.read(jobs.next_due)
        if due is None or len(self._running) >= self.settings.max_concurrent_syncs:
            return poll
        return min(poll, max(0.0, due - self.ctx.clock()))

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
                plan = await self.ctx.store.read(self._plan, claim, job_dir, log_path)
            except PlanError as exc:
                retry = False
                outcome.append(_failed(failure(str(exc), kind="config_error", retryable=False)))
            else:
                await self._attempt(plan, running, outcome)
        except Exception as exc:  # a bug must fail the attempt, never leave it running
            log.exception("attempt %s of job %s failed unexpectedly", number, job.id)
            outcome.append(_failed(failure(f"Sluice failed to run the attempt: {exc!r}")))
        finally:
            # Shielded: at shut-down the task is cancelled, and the attempt must still end.
            with anyio.CancelScope(shield=True):
                try:
                    stopped = failure(SERVER_STOPPED, kind="transient_error")
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
        store, job_id, number = self.ctx.store, plan.job_id, plan.attempt_number

        def commit_state(new_state: list[dict[str, Any]]) -> None:
            if not store.write_sync(state.set_state, plan.connection_id, new_state, self.ctx.now()):
                running.stop("gone")

        def report_progress(progress: AttemptProgress) -> None:
            saved = store.write_sync(
                jobs.save_progress, job_id, number, _stats(progress), self.ctx.now()
            )
            if not saved:
                running.stop("gone")

        def started(pid: int) -> None:
            store.write_sync(jobs.add_process, job_id, number, process_identity(pid))

        def attempt() -> None:
            runners = AttemptRunners(self.ctx.runners, started)
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
                failures.insert(0, failure(CANCELLED, kind="manual_cancellation", retryable=False))
            elif running.reason == "shutdown" and not _mentions(failures, SERVER_STOPPED):
                failures.insert(0, failure(SERVER_STOPPED, kind="transient_error"))
            elif not failures:
                failures.append(failure("The attempt failed without saying why"))
            if any(f.get("failureType") == "config_error" for f in failures):
                retry = False
        settings = self.settings

        def finish(db: Database) -> str | None:
            status = jobs.end_attempt(
                db,
                job.id,
                number,
                succeeded=result.succeeded,
                cancelled=cancelled,
                stats=_stats(result),
                failures=failures,
                now=self.ctx.now(),
                max_attempts=settings.sync_max_attempts,
                backoff_seconds=settings.sync_retry_backoff_seconds,
                retry=retry,
            )
            if status == "succeeded" and job.config_type in jobs.RESET_TYPES:
                state.clear_streams(db, job.config_id, job.streams, self.ctx.now())
            if result.succeeded:
                update_attempt_warnings(db, job.id, number, result.warnings)
            return status

        status = await self.ctx.store.write(finish)
        if status is None:  # the connection, and so the job, was deleted meanwhile
            shutil.rmtree(self.settings.data_path / "jobs" / str(job.id), ignore_errors=True)
            log.info("job %s was deleted while attempt %s ran", job.id, number)
            return
        outcome = "succeeded" if result.succeeded else "cancelled" if cancelled else "failed"
        detail = "" if result.succeeded else f": {failures[0].get('externalMessage', '')}"
        if result.succeeded and result.warnings:
            outcome += " with a warning"
            detail = f": {result.warnings[0].get('externalMessage', '')}"
        append_log(log_path, f"Attempt {number + 1} {outcome}{detail}; job is now {status}")
        log.info("job %s attempt %s %s; job %s", job.id, number, outcome, status)

    def _plan(self, db: Database, claim: jobs.Claim, job_dir: Path, log_path: Path) -> AttemptPlan:
        """Everything one attempt needs, read in one go (configurations as stored: unmasked)."""
        job = claim.job
        try:
            connection = get_connection(db, job.config_id)
            destination = get_destination(db, str(connection.destination_id))
            destination_definition = get_destination_definition(
                db, str(destination.destination_definition_id)
            )
            source = source_definition = None
            if job.config_type == jobs.SYNC:
                source = get_source(db, str(connection.source_id))
                source_definition = get_source_definition(db, str(source.source_definition_id))
        except Exception as exc:
            raise PlanError(f"The connection cannot run: {getattr(exc, 'message', exc)}") from exc
        overrides = connection.resource_requirements

        def image(definition: Any) -> ConnectorImage:
            found = connector_image(definition, "sync")
            if overrides is not None:  # the connection's limits win over the definition's
                found = dataclasses.replace(
                    found,
                    memory_limit=overrides.memory_limit or found.memory_limit,
                    cpu_limit=overrides.cpu_limit or found.cpu_limit,
                )
            return found

        reset = job.config_type in jobs.RESET_TYPES
        streams = job.streams if reset else None
        document = msgspec.to_builtins(connection)
        return AttemptPlan(
            job_id=job.id,
            attempt_number=claim.attempt_number,
            connection_id=job.config_id,
            kind="reset" if reset else "sync",
            source=None if source_definition is None else image(source_definition),
            destination=image(destination_definition),
            source_config=None if source is None else source.connection_configuration,
            destination_config=destination.connection_configuration,
            sync_catalog=document.get("syncCatalog") or {"streams": []},
            connection=document,
            streams=None
            if streams is None
            else [StreamDescriptor(s["name"], s.get("namespace")) for s in streams],
            input_state=state.get_state(db, job.config_id),
            job_dir=job_dir,
            log_path=log_path,
            secrets=[
                *_secrets(
                    db,
                    destination_definition,
                    destination.connection_configuration,
                    destination_secret_paths(db, str(destination.destination_id)),
                ),
                *(
                    ()
                    if source is None
                    else _secrets(
                        db,
                        source_definition,
                        source.connection_configuration,
                        source_secret_paths(db, str(source.source_id)),
                    )
                ),
            ],
        )

    # --- start-up recovery ---------------------------------------------------------------

    async def recover(self) -> None:
        """Fail the attempts a killed server left running, after removing their connectors;
        drop the files of jobs that no longer exist (their connection was deleted)."""
        orphans = await self.ctx.store.read(recovery.orphaned_attempts)
        processes = [p for attempt in orphans for p in attempt.processes]
        # Their containers went already: the app removes leftover containers before this.
        killed = await anyio.to_thread.run_sync(kill_process_groups, processes)
        settings = self.settings
        ended = await self.ctx.store.write(
            recovery.fail_orphans,
            failure(SERVER_STOPPED, kind="transient_error"),
            self.ctx.now(),
            settings.sync_max_attempts,
            settings.sync_retry_backoff_seconds,
        )
        for attempt in orphans:
            append_log(
                settings.data_path / attempt.log_path,
                f"{SERVER_STOPPED}: attempt {attempt.attempt_number + 1} failed at start-up "
                f"({killed} leftover connector processes removed)",
            )
            job_dir = (
                settings.data_path / "jobs" / str(attempt.job_id) / str(attempt.attempt_number)
            )
            shutil.rmtree(job_dir, ignore_errors=True)  # its configuration files hold secrets
        if ended:
            log.warning("recovered %d interrupted jobs: %s", len(ended), ended)
        await self._prune_job_files()

    async def _prune_job_files(self) -> None:
        root = self.settings.data_path / "jobs"
        names = [p.name for p in root.iterdir() if p.name.isdigit()] if root.is_dir() else []
        if names:
            known = await self.ctx.store.read(jobs.existing_job_ids, [int(n) for n in names])
            for name in names:
                if int(name) not in known:
                    await anyio.to_thread.run_sync(shutil.rmtree, root / name, True)
