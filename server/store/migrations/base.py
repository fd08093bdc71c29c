"""What the migrations share: the log and running a DDL script in the caller's transaction."""

from __future__ import annotations

import logging

from sqlite_utils import Database

log = logging.getLogger("sluice.store")


def run_script(db: Database, script: str) -> None:
    """Run `;`-separated DDL inside the caller's transaction (`executescript` would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
