"""Several workers on one PostgreSQL: who runs an attempt, and what becomes of an attempt
whose worker is gone (the rules; the rows are `server.store.leases`).

Each worker has an id (`worker_identity`). Its claim writes the id and a lease on the attempt
in the claim's transaction; it renews the lease while the attempt runs. An attempt whose lease
ran out is failed by whichever worker sees it first and its job retried (or failed when its
attempts are used up) by the usual retry rule, from the state last committed: at-least-once,
as any retry. A worker that comes back fails the attempts still recorded as its own, after
removing their connectors (they ran on its machine).
"""

from __future__ import annotations

import hashlib
import socket

from sqlite_utils import Database

from server.jobs.attempts import FailureReason, JobStatus, failure
from server.jobs.retry import fail_attempts
from server.settings import Settings
from server.store import jobs as store
from server.store import leases

LEASE_EXPIRED = "The worker running the attempt stopped answering (its lease expired)"


def worker_identity(settings: Settings) -> str:
    """SLUICE_WORKER_ID, else this host and a digest of the data directory: the same after a
    restart, so a worker that comes back knows its own leftovers."""
    if settings.worker_id:
        return settings.worker_id
    digest = hashlib.sha256(str(settings.data_path).encode()).hexdigest()[:8]
    return f"{socket.gethostname()}-{digest}"


def claim(db: Database, now: int, worker_id: str, lease_until: int | None) -> store.Claim | None:
    """Claim the oldest due job (`store.claim_job`) and record this worker on its attempt."""
    claimed = store.claim_job(db, now)
    if claimed is not None:
        leases.take_lease(db, claimed.job.id, claimed.attempt_number, worker_id, lease_until)
    return claimed


def standing(db: Database, job_id: int, attempt_number: int, worker_id: str) -> str:
    """ "held": the attempt still runs as this worker's; "lost": another worker failed it
    meanwhile (its lease ran out); "gone": its job was deleted (with its connection)."""
    row = db.execute(
        "SELECT 1 FROM attempts WHERE job_id = ? AND attempt_number = ? AND status = 'running' "
        "AND (worker_id = ? OR worker_id IS NULL)",
        [job_id, attempt_number, worker_id],
    ).fetchone()
    if row is not None:
        return "held"
    return "lost" if db.execute("SELECT 1 FROM jobs WHERE id = ?", [job_id]).fetchone() else "gone"


def fail_expired(
    db: Database, now: int, max_attempts: int, backoff_seconds: float
) -> list[tuple[int, int, JobStatus]]:
    """Fail every attempt whose lease ran out and move its job on; (job, attempt, status)."""
    lost = failure("airbyte_platform", "transient_error", LEASE_EXPIRED)
    return fail_attempts(db, leases.expired(db, now), lost, now, max_attempts, backoff_seconds)


def fail_held(
    db: Database,
    worker_id: str,
    reason: FailureReason,
    now: int,
    max_attempts: int,
    backoff_seconds: float,
) -> list[tuple[int, int, JobStatus]]:
    """At a worker's start: fail the attempts still recorded as its own."""
    held = leases.held_by(db, worker_id)
    return fail_attempts(db, held, reason, now, max_attempts, backoff_seconds)
