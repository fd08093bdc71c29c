"""Uploaded files: one row per file a workspace uploaded (issue: files in)."""

from __future__ import annotations

from sqlite_utils import Database


def m013_files(db: Database) -> None:
    """Uploaded files and their metadata."""
