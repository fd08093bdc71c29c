"""Attempt leases, for several workers on one PostgreSQL (the store's part; the rules are
`server.jobs.leases`).

A worker claims a job with `SELECT ... FOR UPDATE SKIP LOCKED` (`jobs.claim_job`) and writes
its id and a lease's end on the attempt. It renews the lease of each attempt it runs; one whose
lease ran out (its worker died or lost the database) is failed by any worker and its job
retried. A cancel of a running job is a flag on the job the worker reads at each renewal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from server.store.job_rows import load_json
from server.store.jobs import ATTEMPT_COLUMNS, Attempt, attempt_from_row
from server.store.pg import is_postgres

_ATTEMPT = ", ".join("a." + c.strip() for c in ATTEMPT_COLUMNS.split(","))


@dataclass(frozen=True)
class Renewal:
    """What a renewal found: attempts this worker no longer holds (failed by another after
    its lease ran out, or ended), and jobs asked to stop (jobs/cancel)."""

    lost: set[int]
    cancel: set[int]


def take_lease(
    db: Database, job_id: int, attempt_number: int, worker_id: str, until: int | None
) -> None:
    """Record who runs the attempt, and until when (None: no lease, one process runs all)."""
    db.execute(
        "UPDATE attempts SET worker_id = ?, lease_expires_at = ? WHERE job_id = ? "
        "AND attempt_number = ?",
        [worker_id, until, job_id, attempt_number],
    )


def renew(db: Database, worker_id: str, job_ids: Sequence[int], until: int) -> Renewal:
    """Extend the leases of the attempts this worker runs for these jobs."""
    if not job_ids:
        return Renewal(set(), set())
    marks = ", ".join("?" for _ in job_ids)
    held = db.execute(
        f"UPDATE attempts SET lease_expires_at = ? WHERE worker_id = ? AND status = 'running' "
        f"AND job_id IN ({marks}) RETURNING job_id",
        [until, worker_id, *job_ids],
    ).fetchall()
    cancel = db.execute(
        f"SELECT id FROM jobs WHERE cancel_requested = 1 AND id IN ({marks})", list(job_ids)
    ).fetchall()
    return Renewal(set(job_ids) - {int(r[0]) for r in held}, {int(r[0]) for r in cancel})


def expired(db: Database, now: int) -> list[Attempt]:
    """Running attempts of running jobs whose lease ran out, locked for this transaction
    (PostgreSQL: rows another worker is failing right now are skipped, not waited for)."""
    lock = " FOR UPDATE OF a SKIP LOCKED" if is_postgres(db) else ""
    rows = db.execute(
        f"SELECT {_ATTEMPT} FROM attempts a JOIN jobs j ON j.id = a.job_id "
        "WHERE a.status = 'running' AND a.lease_expires_at < ? AND j.status = 'running'" + lock,
        [now],
    ).fetchall()
    return [attempt_from_row(row) for row in rows]


def held_by(db: Database, worker_id: str) -> list[Attempt]:
    """Running attempts of running jobs recorded as this worker's: after a restart, what it
    left behind (its leftover connectors are on this machine)."""
    rows = db.execute(
        f"SELECT {_ATTEMPT} FROM attempts a JOIN jobs j ON j.id = a.job_id "
        "WHERE a.status = 'running' AND j.status = 'running' AND a.worker_id = ?",
        [worker_id],
    ).fetchall()
    return [attempt_from_row(row) for row in rows]


def take_stale_processes(db: Database, worker_id: str, marker: str) -> list[dict[str, Any]]:
    """The connector processes recorded on this worker's attempts that another worker failed
    (their failure mentions `marker`), forgotten here as they are handed over to be killed."""
    where = (
        "WHERE worker_id = ? AND status = 'failed' AND processes != '[]' AND failure_summary LIKE ?"
    )
    args = [worker_id, f"%{marker}%"]
    rows = db.execute(f"SELECT processes FROM attempts {where}", args).fetchall()
    db.execute(f"UPDATE attempts SET processes = '[]' {where}", args)
    return [p for row in rows for p in (load_json(row[0]) or [])]


def request_cancel(db: Database, job_id: int) -> None:
    db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", [job_id])


def clear_cancel(db: Database, job_id: int) -> None:
    db.execute("UPDATE jobs SET cancel_requested = 0 WHERE id = ?", [job_id])


def worker_of(db: Database, job_id: int) -> list[tuple[int, str | None]]:
    """(attempt number, worker id) of each attempt of the job (tests and the report)."""
    rows = db.execute(
        "SELECT attempt_number, worker_id FROM attempts WHERE job_id = ? ORDER BY attempt_number",
        [job_id],
    ).fetchall()
    return [(int(n), w) for n, w in rows]
