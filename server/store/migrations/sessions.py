"""Web UI sessions."""

from __future__ import annotations

from sqlite_utils import Database

from server.store.migrations.base import run_script


def m016_ui_sessions(db: Database) -> None:
    """Signed-in browser sessions: the SHA-256 of each session token (never the token), when
    it was made, when it ends and when it was last used (for the idle limit)."""
    run_script(
        db,
        """
        CREATE TABLE ui_sessions (
            digest TEXT PRIMARY KEY,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            last_used_at INTEGER NOT NULL
        );
        CREATE INDEX ui_sessions_expires ON ui_sessions(expires_at)
        """,
    )
