"""The connections list of the web UI in one query per page: each connection's name, status,
ends' names and schedule, with its newest sync job (status, times, records and bytes committed)
and whether a job of it is active, filtered by name and status, in the order they were
created (rowid order, which a scan follows, so a page stops reading once it is full).

The name filter reads the `name` column (m017, written by `server.store.connections`) from the
`connections_name (name, status)` index alone, never the rows' documents: a substring test
cannot seek in an index, but scanning it is a few milliseconds for 10,000 connections where
reading the documents took a third of a second. The matches are gathered first (a
MATERIALIZED CTE, so the planner scans the index rather than the table in rowid order), then
sorted. It is a case-insensitive substring test: `lower(name) LIKE lower(?)` with `%` and `_`
(and the escape character) escaped, so they mean themselves; `lower` folds ASCII letters in
SQLite, as the `instr(lower(..), lower(?))` it replaces did.

JSON fields are read with `json_extract` (SQLite's; PostgreSQL's store spells it `->>`).
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
_ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """A LIKE pattern (with `ESCAPE '\\'`) matching any string that contains `text`."""
    for special in (_ESCAPE, "%", "_"):
        text = text.replace(special, _ESCAPE + special)
    return f"%{text}%"


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
        where.append(f"lower(name) LIKE lower(?) ESCAPE '{_ESCAPE}'")
        args.append(like_pattern(name))
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    # Without a name, a scan in rowid order stops once the page is full; with one, the
    # matches come from the name index (see the module's docstring).
    if name:
        page = (
            f"matched AS MATERIALIZED (SELECT rowid AS r FROM connections {clause}), "
            "page AS (SELECT r FROM matched ORDER BY r LIMIT ? OFFSET ?)"
        )
    else:
        page = (
            f"page AS (SELECT rowid AS r FROM connections {clause} ORDER BY rowid LIMIT ? OFFSET ?)"
        )
    sql = f"""
        WITH {page},
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
