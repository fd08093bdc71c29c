"""Each connection's committed state: the list of AirbyteStateMessage dicts a source gets as
`--state` on its next read.

Only states the destination has echoed (so its data is durable) are stored here; the relay
hands over the whole new list each time, and it replaces the old one in one transaction.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlite_utils import Database

StateList = list[dict[str, Any]]


def get_state(db: Database, connection_id: str) -> StateList:
    row = db.execute(
        "SELECT state FROM connection_state WHERE connection_id = ?", [connection_id]
    ).fetchone()
    return [] if row is None else list(msgspec.json.decode(row[0]))


def set_state(db: Database, connection_id: str, state: StateList, now: int) -> bool:
    """Replace the connection's state; False (nothing stored) if the connection is gone."""
    if db.execute("SELECT 1 FROM connections WHERE id = ?", [connection_id]).fetchone() is None:
        return False
    if not state:
        db.execute("DELETE FROM connection_state WHERE connection_id = ?", [connection_id])
        return True
    db.execute(
        "INSERT INTO connection_state (connection_id, state, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (connection_id) DO UPDATE SET state = excluded.state, "
        "updated_at = excluded.updated_at",
        [connection_id, msgspec.json.encode(state).decode(), now],
    )
    return True
