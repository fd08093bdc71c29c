"""What the scheduler reads and writes: each connection's schedule and its last handled slot.

`connection_schedules` mirrors the schedule fields of every connection (kept by triggers on
`connections`, see migration m006), so a tick reads a few small columns instead of parsing
every connection document each second. `schedule_runs` holds, for each connection on a cron
schedule, the last slot it handled (enqueued or skipped) or the moment it started counting
(created, resumed or changed): the next due time is derived from these stored facts, so a
restart neither loses nor doubles a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from server.store.jobs import ACTIVE, SYNC
from server.store.pg import is_postgres


@dataclass(frozen=True)
class ScheduleFacts:
    """What decides whether a connection's sync is due."""

    connection_id: str
    status: str
    schedule_type: str | None
    schedule_data: str | None  # JSON of scheduleData
    schedule: str | None  # JSON of the 2020 `schedule`
    run_key: str | None  # the schedule `last_slot` was counted for
    last_slot: int | None
    last_job_created_at: int | None  # the newest sync job, scheduled or manual
    busy: bool  # a job of the connection is pending, running or incomplete


_ACTIVE_MARKS = ", ".join(f"'{status}'" for status in ACTIVE)

_FACTS = f"""
    SELECT s.connection_id, s.status, s.schedule_type, s.schedule_data, s.schedule,
        r.schedule_key, r.last_slot,
        (SELECT j.created_at FROM jobs j WHERE j.config_id = s.connection_id
            AND j.config_type = '{SYNC}' ORDER BY j.id DESC LIMIT 1),
        EXISTS (SELECT 1 FROM jobs j WHERE j.config_id = s.connection_id
            AND j.status IN ({_ACTIVE_MARKS}))
    FROM connection_schedules s LEFT JOIN schedule_runs r ON r.connection_id = s.connection_id
"""


def _facts(row: Sequence[object]) -> ScheduleFacts:
    return ScheduleFacts(
        connection_id=str(row[0]),
        status=str(row[1]),
        schedule_type=None if row[2] is None else str(row[2]),
        schedule_data=None if row[3] is None else str(row[3]),
        schedule=None if row[4] is None else str(row[4]),
        run_key=None if row[5] is None else str(row[5]),
        last_slot=None if row[6] is None else int(str(row[6])),
        last_job_created_at=None if row[7] is None else int(str(row[7])),
        busy=bool(row[8]),
    )


def list_schedule_facts(db: Database) -> list[ScheduleFacts]:
    """Connections that may be scheduled (active, not manual), and those with a stored slot
    (which is forgotten once they are paused or no longer on cron)."""
    rows = db.execute(
        _FACTS + " WHERE (s.status = 'active' AND COALESCE(s.schedule_type, '') != 'manual') "
        "OR r.connection_id IS NOT NULL"
    ).fetchall()
    return [_facts(row) for row in rows]


def get_schedule_facts(db: Database, connection_id: str) -> ScheduleFacts | None:
    row = db.execute(_FACTS + " WHERE s.connection_id = ?", [connection_id]).fetchone()
    return None if row is None else _facts(row)


def lock_connection_schedule(db: Database, connection_id: str) -> None:
    """Hold the connection's schedule row until the transaction ends (PostgreSQL): a second
    scheduler deciding the same slot at the same moment waits, then sees it handled. SQLite
    writes one transaction at a time already."""
    if is_postgres(db):
        db.execute(
            "SELECT 1 FROM connection_schedules WHERE connection_id = ? FOR UPDATE",
            [connection_id],
        )


def set_last_slot(
    db: Database, connection_id: str, key: str, slot: int, now: int, job_id: int | None = None
) -> None:
    """Record the slot handled (or the moment counting starts) for the schedule `key`."""
    db.execute(
        "INSERT INTO schedule_runs (connection_id, schedule_key, last_slot, job_id, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (connection_id) DO UPDATE SET "
        "schedule_key = excluded.schedule_key, last_slot = excluded.last_slot, "
        "job_id = COALESCE(excluded.job_id, schedule_runs.job_id), "
        "updated_at = excluded.updated_at",
        [connection_id, key, slot, job_id, now],
    )


def forget_runs(db: Database, connection_ids: Sequence[str]) -> None:
    """Drop the stored slots of these connections: when they resume, they count from then."""
    for connection_id in connection_ids:
        db.execute("DELETE FROM schedule_runs WHERE connection_id = ?", [connection_id])
