"""The delivery loop: sends the outbox's due rows, records each answer, retries with backoff.

One anyio task beside the job worker and the scheduler. It never runs inside a sync: an event
is queued in the job's own transaction and this loop sends it later, so a slow or dead
receiver costs a sync nothing. A row queued before a crash is still pending at the next start
and is sent then. Each batch is claimed in a write (put off while it is sent), so several
servers on one database never send a row twice. A failed delivery is retried after
`notification_retry_backoff_seconds`, doubled after each failure (at most an hour), until
`notification_max_attempts`.
"""

from __future__ import annotations

import logging
import math

import anyio
import anyio.abc
import httpx

from server.context import Context
from server.notify.send import Answer, deliver
from server.store import notifications as outbox

log = logging.getLogger("sluice.notifications")

BATCH = 20
MAX_BACKOFF_SECONDS = 3600
# How long past a send's timeout a claimed row stays put off (a process that died mid-send
# leaves it to be sent again after that).
CLAIM_MARGIN_SECONDS = 30


def retry_delay(attempts: int, base_seconds: float) -> int:
    """Seconds before the next try after `attempts` failed ones (1, 2, ...)."""
    return int(min(MAX_BACKOFF_SECONDS, base_seconds * 2 ** max(0, attempts - 1)))


class Deliveries:
    """Sends due notifications until cancelled (the app's shut-down)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        poll = max(0.05, float(self.ctx.settings.notification_poll_seconds))
        async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
            while True:
                try:
                    sent = await self.send_due(client)
                except Exception:  # a fault here must not end the loop (nor the server)
                    log.exception("notification delivery failed unexpectedly")
                    sent = 0
                if sent < BATCH:
                    await anyio.sleep(poll)

    async def send_due(self, client: httpx.AsyncClient) -> int:
        """Send one batch of due deliveries (at the same time); returns how many."""
        # Claimed for longer than a send can take, so no other server sends them meanwhile.
        hold = math.ceil(self.ctx.settings.notification_timeout_seconds) + CLAIM_MARGIN_SECONDS
        due = await self.ctx.store.write(outbox.claim_deliveries, self.ctx.now(), BATCH, hold)
        async with anyio.create_task_group() as tasks:
            for delivery in due:
                tasks.start_soon(self._send, client, delivery)
        return len(due)

    async def _send(self, client: httpx.AsyncClient, delivery: outbox.Delivery) -> None:
        settings = self.ctx.settings
        answer = await deliver(
            client,
            delivery.url,
            delivery.body.encode(),
            delivery.signature,
            settings.notification_timeout_seconds,
            settings.notification_allowed_hosts,
        )
        await self._record(delivery, answer)

    async def _record(self, delivery: outbox.Delivery, answer: Answer) -> None:
        settings, now = self.ctx.settings, self.ctx.now()
        tried = delivery.attempts + 1
        if answer.ok:
            status, next_at = outbox.SUCCEEDED, None
        elif tried >= settings.notification_max_attempts:
            status, next_at = outbox.FAILED, None
        else:
            delay = retry_delay(tried, settings.notification_retry_backoff_seconds)
            status, next_at = outbox.PENDING, now + delay
        error = answer.error
        if error is None and not answer.ok:
            error = f"the receiver answered {answer.status_code}"
        await self.ctx.store.write(
            outbox.record_answer,
            delivery.id,
            status=status,
            now=now,
            next_attempt_at=next_at,
            answer_status=answer.status_code,
            answer_excerpt=answer.excerpt,
            error=None if answer.ok else error,
        )
        if status != outbox.SUCCEEDED:
            log.warning(
                "notification %s (%s) attempt %s: %s; now %s",
                delivery.id,
                delivery.event,
                tried,
                error,
                status,
            )
