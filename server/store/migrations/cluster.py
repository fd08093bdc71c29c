"""Several Sluice processes sharing one PostgreSQL: leases and cancel requests (m018)."""

from __future__ import annotations

from sqlite_utils import Database

from server.store.migrations.base import run_script


def m018_worker_leases(db: Database) -> None:
    """Which worker runs an attempt (`worker_id`), and until when its lease holds
    (`lease_expires_at`, renewed by that worker; NULL on SQLite, where one process runs every
    job). `cancel_requested`: jobs/cancel asked to stop a running job, for the worker running
    it, wherever it is, to see at its next renewal."""
    run_script(
        db,
        """
        ALTER TABLE attempts ADD COLUMN worker_id TEXT;
        ALTER TABLE attempts ADD COLUMN lease_expires_at INTEGER;
        ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX attempts_lease ON attempts(status, lease_expires_at)
        """,
    )
