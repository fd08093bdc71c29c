"""What a request handler or the scheduler may ask of the job worker, and no more."""

from __future__ import annotations

from typing import Protocol


class JobControl(Protocol):
    def wake(self) -> None:
        """Look for due jobs now (call after creating one). Call from the event loop."""

    def cancel(self, job_id: int) -> bool:
        """Stop the job's running attempt; False if the worker is not running it."""

    async def wait_ended(self, job_id: int, timeout: float) -> None:
        """Return when the job's running attempt has ended, or after `timeout` seconds."""


class NoWorker:
    """The control of a context whose app runs no worker (yet): jobs wait as pending."""

    def wake(self) -> None:
        return None

    def cancel(self, job_id: int) -> bool:
        return False

    async def wait_ended(self, job_id: int, timeout: float) -> None:
        return None
