"""What a Sluice process runs: `sluice serve` (API, worker and scheduler), `sluice serve
--no-worker` (the API only) and `sluice worker` (worker and scheduler candidate, no HTTP).

Several processes share the work through one PostgreSQL (SLUICE_DATABASE_URL): workers claim
jobs with row locks and hold leases on their attempts (`server.jobs.leases`); every worker runs
a scheduler, and the one holding the scheduler's advisory lock acts (`server.scheduling.loop`).
"""

from __future__ import annotations

import logging
import os
import signal

import anyio
import anyio.abc
import anyio.to_thread

from server.context import Context
from server.jobs.worker import Worker
from server.private import PRIVATE_UMASK
from server.runner.setup import remove_leftovers, runners_for
from server.scheduling.loop import Scheduler
from server.settings import Settings
from server.store.db import Store, open_db

log = logging.getLogger("sluice.worker")


async def start_worker(context: Context, tasks: anyio.abc.TaskGroup) -> tuple[Worker, Scheduler]:
    """Start the job worker (after its recovery) and the scheduler in `tasks`.

    The worker reads the context's clock at each use, so a test that replaces the clock moves
    it too."""
    worker = Worker(context.store, context.settings, context.runners, lambda: context.clock())
    context.worker = worker
    await tasks.start(worker.run)
    # The scheduler: starts the syncs of basic and cron schedules when due.
    scheduler = Scheduler(context)
    await tasks.start(scheduler.run)
    return worker, scheduler


def run_worker(settings: Settings) -> int:
    """`sluice worker`: run jobs and the scheduler until SIGTERM or SIGINT; then the running
    attempts stop and end as failed ("the server stopped"), to be retried by any worker."""
    anyio.run(_worker_main, settings)
    return 0


async def _worker_main(settings: Settings) -> None:
    umask = os.umask(PRIVATE_UMASK)
    store = Store(open_db(settings.database, settings.secret_key, settings.data_path))
    try:
        context = Context(settings=settings, store=store, runners=runners_for(settings))
        # Containers a killed run of this worker left behind (none without a Docker engine).
        await anyio.to_thread.run_sync(remove_leftovers, settings)
        async with anyio.create_task_group() as tasks:
            worker, _ = await start_worker(context, tasks)
            log.info("Sluice worker %s ready; data in %s", worker.worker_id, settings.data_path)
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for received in signals:
                    log.info("worker %s stopping (signal %s)", worker.worker_id, received)
                    break
            worker.stop_all()
            tasks.cancel_scope.cancel()
    finally:
        store.close()
        os.umask(umask)
