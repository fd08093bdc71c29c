"""Uploaded files: one row per file a workspace uploaded (issue: files in)."""

from __future__ import annotations

from sqlite_utils import Database

from server.store.migrations.base import run_script


def m013_files(db: Database) -> None:
    """Uploaded files and their metadata (the bytes live under <data_dir>/files/)."""
    run_script(
        db,
        """
        CREATE TABLE files (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX files_workspace ON files(workspace_id, created_at)
        """,
    )
