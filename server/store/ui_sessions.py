"""Web UI sessions in SQLite: keyed by the SHA-256 digest of the session token, never the token
(a copy of the database signs no one in)."""

from __future__ import annotations

from typing import NamedTuple

from sqlite_utils import Database


class SessionRow(NamedTuple):
    digest: str
    created_at: int
    expires_at: int
    last_used_at: int


_COLUMNS = "digest, created_at, expires_at, last_used_at"


def insert_session(db: Database, row: SessionRow) -> None:
    db.execute(f"INSERT INTO ui_sessions ({_COLUMNS}) VALUES (?, ?, ?, ?)", list(row))


def find_session(db: Database, digest: str) -> SessionRow | None:
    found = db.execute(f"SELECT {_COLUMNS} FROM ui_sessions WHERE digest = ?", [digest]).fetchone()
    return SessionRow(*found) if found else None


def touch_session(db: Database, digest: str, now: int) -> None:
    db.execute("UPDATE ui_sessions SET last_used_at = ? WHERE digest = ?", [now, digest])


def delete_session(db: Database, digest: str) -> None:
    db.execute("DELETE FROM ui_sessions WHERE digest = ?", [digest])


def delete_ended_sessions(db: Database, now: int, idle_before: int) -> int:
    """Remove sessions past their end or idle since before `idle_before`; how many went."""
    cursor = db.execute(
        "DELETE FROM ui_sessions WHERE expires_at <= ? OR last_used_at < ?", [now, idle_before]
    )
    return int(cursor.rowcount)
