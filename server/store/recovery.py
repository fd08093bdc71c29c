"""Crash recovery of jobs, the store's part: which attempts a killed server left `running`,
which jobs it left running without one, and closing attempts of ended jobs. What becomes of
them (retried or failed) is `server.jobs.recovery`'s rule.
"""

from __future__ import annotations

from sqlite_utils import Database

from server.store.jobs import ATTEMPT_COLUMNS, Attempt, attempt_from_row


def orphaned_attempts(db: Database) -> list[Attempt]:
    """Attempts a previous server process was running when it stopped.

    Only jobs in `running` run an attempt; the first attempt of a pending job is waiting, not
    orphaned.
    """
    rows = db.execute(
        f"SELECT {', '.join('a.' + c.strip() for c in ATTEMPT_COLUMNS.split(','))} "
        "FROM attempts a JOIN jobs j ON j.id = a.job_id "
        "WHERE a.status = 'running' AND j.status = 'running'"
    ).fetchall()
    return [attempt_from_row(row) for row in rows]


def running_jobs(db: Database) -> list[tuple[int, int]]:
    """(job id, attempts it has) of every job still `running`."""
    rows = db.execute(
        "SELECT j.id, COUNT(a.attempt_number) FROM jobs j LEFT JOIN attempts a "
        "ON a.job_id = j.id WHERE j.status = 'running' GROUP BY j.id"
    ).fetchall()
    return [(int(job_id), int(tried)) for job_id, tried in rows]


def close_attempts_of_ended_jobs(db: Database, now: int) -> None:
    """An ended job keeps no running attempt (nothing should leave one; be sure)."""
    db.execute(
        "UPDATE attempts SET status = 'failed', ended_at = ?, updated_at = ? WHERE status = "
        "'running' AND job_id IN (SELECT id FROM jobs WHERE status IN "
        "('failed', 'succeeded', 'cancelled'))",
        [now, now],
    )
