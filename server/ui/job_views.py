"""Jobs and attempts as the pages show them (plain values for the templates)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.core import job_history as history

ACTIVE = frozenset({"pending", "running", "incomplete"})
ENDED = frozenset({"succeeded", "failed", "cancelled"})
KINDS = {"sync": "Sync", "reset_connection": "Reset", "clear": "Clear", "refresh": "Refresh"}


def attempt_row(attempt: history.Attempt, now: int | None = None) -> dict[str, Any]:
    stats = attempt.stats
    end = attempt.ended_at if attempt.ended_at is not None else now
    failures = attempt.failure_summary.failures if attempt.failure_summary else []
    return {
        "number": attempt.attempt_number + 1,
        "index": attempt.attempt_number,
        "status": attempt.status,
        "created_at": attempt.created_at,
        "ended_at": attempt.ended_at,
        "duration": None if end is None else max(0, end - attempt.created_at),
        "records": stats.records_committed,
        "bytes": stats.bytes_committed,
        "records_emitted": stats.records_emitted,
        "failures": [
            {
                "origin": f.failure_origin,
                "type": f.failure_type,
                "message": f.external_message or f.internal_message or "",
            }
            for f in failures
        ],
    }


def job_row(
    job: history.Job, attempts: Sequence[history.Attempt], now: int | None = None
) -> dict[str, Any]:
    shown = [attempt_row(a, now) for a in attempts]
    end = job.updated_at if job.status in ENDED else now
    return {
        "id": job.id,
        "kind": KINDS.get(job.config_type, job.config_type),
        "config_id": job.config_id,
        "status": job.status,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "duration": None if end is None else max(0, end - (job.started_at or job.created_at)),
        "records": sum(a["records"] for a in shown),
        "bytes": sum(a["bytes"] for a in shown),
        "attempts": shown,
        "failures": [f for a in shown for f in a["failures"]],
    }


def job_rows(
    jobs: Sequence[history.Job],
    attempts: dict[int, list[history.Attempt]],
    now: int | None = None,
) -> list[dict[str, Any]]:
    return [job_row(job, attempts.get(job.id, []), now) for job in jobs]
