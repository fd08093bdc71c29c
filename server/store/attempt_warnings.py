"""Warnings of an attempt that succeeded (for example a destination that confirmed no state).

Airbyte's AttemptRead has one place for what went wrong, `failureSummary`; a succeeded
attempt carries its warnings there, as failure reasons, and its job stays `succeeded`.
"""

from __future__ import annotations

import msgspec
from sqlite_utils import Database

from server.jobs.attempts import FailureReason, FailureSummary


def update_attempt_warnings(
    db: Database, job_id: int, attempt_number: int, warnings: list[FailureReason]
) -> None:
    """Record a succeeded attempt's warnings as its failure summary (in the caller's
    transaction, with the attempt's end)."""
    if not warnings:
        return
    summary = msgspec.json.encode(FailureSummary(failures=warnings)).decode()
    db.execute(
        "UPDATE attempts SET failure_summary = ? "
        "WHERE job_id = ? AND attempt_number = ? AND status = 'succeeded'",
        [summary, job_id, attempt_number],
    )
