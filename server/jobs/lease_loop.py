"""The lease loop of a worker on a shared (PostgreSQL) database: see `server.jobs.leases`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio

from server.jobs import leases, recovery
from server.jobs.attempts import FailureReason
from server.settings import Settings
from server.store import leases as stored_leases
from server.store import recovery as stored_recovery
from server.store.jobs import Attempt

if TYPE_CHECKING:
    from server.jobs.worker import Worker

log = logging.getLogger("sluice.worker")


def lease_seconds(settings: Settings) -> int:
    return max(1, int(settings.lease_seconds))


async def leftovers(worker: Worker) -> list[Attempt]:
    """The running attempts a killed worker left: on a shared database, only this worker's
    (the others' run on, on their machines); else every one."""
    if worker.shared:
        return await worker.store.read(stored_leases.held_by, worker.worker_id)
    return await worker.store.read(stored_recovery.orphaned_attempts)


async def stale_processes(worker: Worker) -> list[dict[str, Any]]:
    """Connectors this worker started for attempts another worker failed while this one was
    away (killed, or cut off from the database): they ran here, so they are removed here."""
    if not worker.shared:
        return []
    return await worker.store.write(
        stored_leases.take_stale_processes, worker.worker_id, leases.LEASE_EXPIRED
    )


async def fail_leftovers(worker: Worker, stopped: FailureReason) -> Sequence[object]:
    """Fail them and move their jobs on (retry or fail), in one transaction."""
    settings = worker.settings
    limits = (worker.now(), settings.sync_max_attempts, settings.sync_retry_backoff_seconds)
    if worker.shared:
        return await worker.store.write(leases.fail_held, worker.worker_id, stopped, *limits)
    return await worker.store.write(recovery.fail_orphans, stopped, *limits)


async def keep_leases(worker: Worker) -> None:
    """Every second (or a third of the lease, if shorter): renew the leases of the running
    attempts, stop those asked to stop (jobs/cancel elsewhere) or no longer held, and fail
    the attempts of any worker whose lease ran out."""
    settings = worker.settings
    period = max(0.1, min(1.0, settings.lease_seconds / 3))
    while True:
        await anyio.sleep(period)
        try:
            until = worker.now() + lease_seconds(settings)
            renewal = await worker.store.write(
                stored_leases.renew, worker.worker_id, worker.running_ids(), until
            )
            for job_id in renewal.cancel:
                worker.stop_job(job_id, "user")
            for job_id in renewal.lost:  # failed by another worker: stop running it here
                worker.stop_job(job_id, "gone")
            ended = await worker.store.write(
                leases.fail_expired,
                worker.now(),
                settings.sync_max_attempts,
                settings.sync_retry_backoff_seconds,
            )
        except Exception:  # the database may be away for a moment: try again
            log.exception("could not renew the leases of worker %s", worker.worker_id)
            continue
        for job_id, number, status in ended:
            log.warning("job %s attempt %s: lease expired; job %s", job_id, number, status)
        if ended:
            worker.wake()
