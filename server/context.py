"""The request context: what a handler may use. Nothing else is global."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from server.runner import Runners
from server.runner.process import ProcessRunner
from server.settings import Settings
from server.store.db import Store

if TYPE_CHECKING:
    from server.worker import Worker


@dataclass
class Context:
    settings: Settings
    store: Store
    # Wall clock in epoch seconds; tests replace it to move time without sleeping.
    clock: Callable[[], float] = field(default=time.time)
    runners: Runners = field(default_factory=lambda: Runners(ProcessRunner()))
    # Runs sync jobs; started by the app's lifespan (`wake()` after creating a job).
    worker: Worker = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from server.worker import Worker

        self.worker = Worker(self)

    def now(self) -> int:
        return int(self.clock())
