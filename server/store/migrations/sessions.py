"""Web UI sessions."""

from __future__ import annotations

from sqlite_utils import Database


def m016_ui_sessions(db: Database) -> None:
    """Signed-in browser sessions."""
