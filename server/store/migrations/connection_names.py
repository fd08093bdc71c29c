"""Connections' names as a column (m017), for the web UI's name filter."""

from __future__ import annotations

import json

from sqlite_utils import Database

from server.store.migrations.base import run_script

_BATCH = 500  # rows read per round, so a large table is not held in memory at once


def m017_connection_names(db: Database) -> None:
    """A `name` column on connections, a copy of the document's `name` that
    `server.store.connections` writes with every insert and update. The list's name filter
    (a substring test) reads it from the `(name, status)` index alone instead of every row's
    document (about 4.6 KB each, past the column in the row).

    The fill decodes each document in Python rather than with an engine's JSON functions,
    so that it runs as it is on PostgreSQL too."""
    run_script(
        db,
        """
        ALTER TABLE connections ADD COLUMN name TEXT;
        CREATE INDEX connections_name ON connections(name, status)
        """,
    )
    last = ""
    while True:
        rows = db.execute(
            "SELECT id, data FROM connections WHERE id > ? ORDER BY id LIMIT ?", [last, _BATCH]
        ).fetchall()
        if not rows:
            return
        for key, data in rows:
            doc = json.loads(data)
            name = doc.get("name") if isinstance(doc, dict) else None
            if isinstance(name, str):
                db.execute("UPDATE connections SET name = ? WHERE id = ?", [name, key])
        last = rows[-1][0]
