"""The request context: what a handler may use. Nothing else is global."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from server.jobs.control import JobControl, NoWorker
from server.runner import Runners
from server.runner.process import ProcessRunner
from server.settings import Settings
from server.store.db import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    # Wall clock in epoch seconds; tests replace it to move time without sleeping.
    clock: Callable[[], float] = field(default=time.time)
    runners: Runners = field(default_factory=lambda: Runners(ProcessRunner()))
    # The job worker as handlers see it (wake after creating a job, cancel, wait): the app's
    # lifespan builds the worker and sets it here.
    worker: JobControl = field(default_factory=NoWorker, repr=False)

    def now(self) -> int:
        return int(self.clock())
