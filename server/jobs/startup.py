"""A worker's start-up: the attempts a killed run of it left `running` are failed (their
connector processes removed) and their jobs retried or failed; files of deleted jobs go."""

from __future__ import annotations

import logging
import shutil
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from server.jobs import lease_loop
from server.jobs.attempts import failure
from server.runner.processes import kill_process_groups
from server.store import jobs
from server.sync.attempt_log import append_line

if TYPE_CHECKING:
    from server.jobs.worker import Worker

log = logging.getLogger("sluice.worker")

SERVER_STOPPED = "The server stopped during the attempt"


async def recover(worker: Worker) -> None:
    """Fail the attempts a killed server left running, after removing their connectors;
    drop the files of jobs that no longer exist (their connection was deleted)."""
    settings = worker.settings
    stopped = failure("airbyte_platform", "transient_error", SERVER_STOPPED)
    orphans = await lease_loop.leftovers(worker)
    processes = [p for attempt in orphans for p in attempt.processes]
    processes += await lease_loop.stale_processes(worker)
    # Their containers went already: the app removes leftover containers before this.
    killed = await anyio.to_thread.run_sync(kill_process_groups, processes)
    ended = await lease_loop.fail_leftovers(worker, stopped)
    for attempt in orphans:
        append_line(
            settings.data_path / attempt.log_path,
            "platform",
            "INFO",
            f"{SERVER_STOPPED}: attempt {attempt.attempt_number + 1} failed at start-up "
            f"({killed} leftover connector processes removed)",
        )
        job_dir = settings.data_path / "jobs" / str(attempt.job_id) / str(attempt.attempt_number)
        shutil.rmtree(job_dir, ignore_errors=True)  # its configuration files hold secrets
    if ended:
        log.warning("recovered %d interrupted jobs: %s", len(ended), ended)
    await _prune_job_files(worker)


async def _prune_job_files(worker: Worker) -> None:
    """Drop the files of jobs that no longer exist (their connection was deleted)."""
    root = worker.settings.data_path / "jobs"
    names = [p.name for p in root.iterdir() if p.name.isdigit()] if root.is_dir() else []
    if names:
        known = await worker.store.read(jobs.existing_job_ids, [int(n) for n in names])
        for name in names:
            if int(name) not in known:
                await anyio.to_thread.run_sync(shutil.rmtree, root / name, True)
