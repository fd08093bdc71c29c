"""Which workspace an object belongs to: what workspace-scoped credentials are checked by."""

from __future__ import annotations

from sqlite_utils import Database

# Kind of object -> the query for its workspace (one indexed read each).
_QUERIES = {
    "workspace": "SELECT id FROM workspaces WHERE id = ?",
    "source": "SELECT workspace_id FROM sources WHERE id = ?",
    "destination": "SELECT workspace_id FROM destinations WHERE id = ?",
    "connection": "SELECT workspace_id FROM connections WHERE id = ?",
    "operation": "SELECT workspace_id FROM operations WHERE id = ?",
    "job": (
        "SELECT c.workspace_id FROM jobs j JOIN connections c ON c.id = j.config_id WHERE j.id = ?"
    ),
}

KINDS = tuple(_QUERIES)


def workspace_of(db: Database, kind: str, object_id: str | int) -> str | None:
    """The workspace holding the object, or None when there is no such object."""
    if kind == "job" and not (isinstance(object_id, int) and -(2**63) <= object_id < 2**63):
        return None  # not a job id SQLite can hold: there is no such job
    row = db.execute(_QUERIES[kind], [object_id]).fetchone()
    return None if row is None else str(row[0])
