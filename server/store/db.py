"""The SQLite database: opening it, migrating it, and the one path every access takes.

Store functions elsewhere in this package are plain sync functions taking the sqlite-utils
`Database` first. Handlers reach them through `Store.read` / `Store.write`, which run them in
a worker thread under one lock; every write is one `BEGIN IMMEDIATE` transaction, so a failed
write leaves nothing behind.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlite_utils import Database

from server.private import private_dir, private_file
from server.store import secret_box
from server.store.migrations import MIGRATIONS

P = ParamSpec("P")
T = TypeVar("T")


def open_db(path: Path | str | None, secret_key: str | None = None) -> Database:
    """Open (creating if needed) and migrate the database; `None` means in-memory.

    Secrets in it are sealed with `secret_key` (SLUICE_SECRET_KEY; "" for the key file beside
    the database). Given a key, it is checked now (SecretKeyError says what is wrong); without
    one (tools that touch no secret), the key file is used if and when a secret is. An
    in-memory database has a key of its own for the process."""
    if path is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    else:
        _private_database(Path(path))
        conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=5.0
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten content is zeroed, not left in free space of the file.
    conn.execute("PRAGMA secure_delete=ON")
    db = Database(conn)
    migrate(db)
    secret_box.bind(db, secret_key or "", None if path is None else Path(path).parent)
    if path is None or secret_key is not None:
        try:
            secret_box.unlock(db)
        except BaseException:
            conn.close()
            raise
    return db


def _private_database(path: Path) -> None:
    """The database holds every secret: its directory 0700, the file and its -wal and -shm
    0600. The file is created 0600 before SQLite opens it, because SQLite creates the -wal
    and -shm files with the database file's mode."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        private_file(path.with_name(name))


def migrate(db: Database) -> list[str]:
    """Apply, in order, every named migration not yet recorded; return the names applied."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at INTEGER)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for migration in MIGRATIONS:
        name = migration.__name__
        if name in done:
            continue
        with transaction(db):
            migration(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [name, int(time.time())],
            )
        applied.append(name)
    return applied


class transaction:
    """`with transaction(db):` one BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""

    def __init__(self, db: Database) -> None:
        self.conn = db.conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


class Store:
    """Serialises access to one connection. Async callers use `read`/`write`; code already in
    a worker thread (the sync relay) uses `read_sync`/`write_sync`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()

    def read_sync(self, fn: Callable[..., T], *args: object) -> T:
        with self._lock:
            return fn(self.db, *args)

    def write_sync(self, fn: Callable[..., T], *args: object) -> T:
        with self._lock, transaction(self.db):
            return fn(self.db, *args)

    async def read(self, fn: Callable[..., T], *args: object) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, fn, *args)

    async def write(self, fn: Callable[..., T], *args: object) -> T:
        return await anyio.to_thread.run_sync(self.write_sync, fn, *args)

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()
