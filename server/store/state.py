"""Each connection's committed state: the list of AirbyteStateMessage dicts a source gets as
`--state` on its next read.

Only states the destination has echoed (so its data is durable) are stored here; the relay
hands over the whole new list each time, and it replaces the old one in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def _key(descriptor: dict[str, Any] | None) -> tuple[str, str | None]:
    descriptor = descriptor or {}
    return descriptor.get("name", ""), descriptor.get("namespace") or None


def without_streams(state: StateList, streams: Iterable[dict[str, Any]]) -> StateList:
    """The state with these streams forgotten (a reset of them).

    Per-stream states of those streams go; a global state keeps its shared part and the other
    streams' states unless none is left; a legacy state cannot be split, so it goes whole.
    """
    drop = {_key(s) for s in streams}
    kept: StateList = []
    for message in state:
        kind = message.get("type") or "LEGACY"
        if kind == "STREAM":
            if _key((message.get("stream") or {}).get("stream_descriptor")) not in drop:
                kept.append(message)
        elif kind == "GLOBAL":
            shared = dict(message.get("global") or {})
            streams_left = [
                s
                for s in shared.get("stream_states") or []
                if _key(s.get("stream_descriptor")) not in drop
            ]
            if streams_left:
                shared["stream_states"] = streams_left
                kept.append({**message, "global": shared})
    return kept


def clear_streams(
    db: Database, connection_id: str, streams: Iterable[dict[str, Any]] | None, now: int
) -> None:
    """Forget the state of these streams (all of them if None)."""
    if streams is None:
        set_state(db, connection_id, [], now)
        return
    set_state(db, connection_id, without_streams(get_state(db, connection_id), streams), now)
