"""Jobs on a bare database: a connection row with just what the job rules read, and the end
of an attempt as the worker records it."""

from __future__ import annotations

import json
import uuid

from sqlite_utils import Database

from server.jobs.attempts import AttemptStats, JobStatus, failure
from server.jobs.retry import end_attempt
from server.store import jobs

NOW = 1_700_000_000


def add_connection(db: Database, streams: tuple[str, ...] = ("users",)) -> str:
    """A connection row with just what the job store reads (its status and syncCatalog)."""
    workspace = db.execute("SELECT id FROM workspaces").fetchone()[0]
    source, destination, connection = (str(uuid.uuid4()) for _ in range(3))
    for table, id, definitions in (
        ("sources", source, "source_definitions"),
        ("destinations", destination, "destination_definitions"),
    ):
        definition = db.execute(f"SELECT id FROM {definitions} LIMIT 1").fetchone()[0]
        db.execute(
            f"INSERT INTO {table} (id, workspace_id, definition_id, created_at, data) "
            "VALUES (?, ?, ?, 0, '{}')",
            [id, workspace, definition],
        )
    catalog = {"streams": [{"stream": {"name": s}, "config": {"selected": True}} for s in streams]}
    db.execute(
        "INSERT INTO connections (id, workspace_id, source_id, destination_id, status, "
        "created_at, data) VALUES (?, ?, ?, ?, 'active', 0, ?)",
        [connection, workspace, source, destination, json.dumps({"syncCatalog": catalog})],
    )
    return connection


def fail(db: Database, claim: jobs.Claim, committed: int = 0, now: int = NOW) -> JobStatus | None:
    """End the claimed attempt as failed (3 attempts at most, a 10 s backoff)."""
    return end_attempt(
        db,
        claim.job.id,
        claim.attempt_number,
        succeeded=False,
        cancelled=False,
        stats=AttemptStats(records_emitted=committed, records_committed=committed),
        failures=[failure("source", "system_error", "boom")],
        now=now,
        max_attempts=3,
        backoff_seconds=10,
    )
