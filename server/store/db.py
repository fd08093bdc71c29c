"""The SQLite database: opening it, migrating it, and the one path every access takes.

Store functions elsewhere in this package are plain sync functions taking the sqlite-utils
`Database` first. Handlers reach them through `Store.read` / `Store.write`, which run them in
a worker thread. Writes share one connection under one lock; every write is one
`BEGIN IMMEDIATE` transaction, so a failed write leaves nothing behind. Reads of a database
file run on connections of their own (WAL lets readers go on beside the writer), each one read
transaction, so a read sees one snapshot and never waits for a write; an in-memory database
has one connection, so its reads take the writer's.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar, cast

import anyio.to_thread
import psycopg
from sqlite_utils import Database

from server.private import private_dir, private_file
from server.store import secret_box
from server.store.migrations import FOREIGN_KEYS_OFF, MIGRATIONS
from server.store.pg import PgDatabase, SessionLock, install_functions, is_postgres, is_url

P = ParamSpec("P")
T = TypeVar("T")


def open_db(
    path: Path | str | None, secret_key: str | None = None, key_dir: Path | None = None
) -> Database:
    """Open (creating if needed) and migrate the database; `None` means in-memory, and a
    `postgresql://` URL (SLUICE_DATABASE_URL) a PostgreSQL database (see `store/pg.py`).

    Secrets in it are sealed with `secret_key` (SLUICE_SECRET_KEY; "" for the key file beside
    the database). Given a key, it is checked now (SecretKeyError says what is wrong); without
    one (tools that touch no secret), the key file is used if and when a secret is. An
    in-memory database has a key of its own for the process. A PostgreSQL database has no
    directory of its own: its key file is in `key_dir` (the data directory)."""
    if is_url(path):
        return _open_postgres(str(path), secret_key, key_dir)
    if path is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        _connection_pragmas(conn)
    else:
        _private_database(Path(path))
        conn = _connect(str(path))
        conn.execute("PRAGMA journal_mode=WAL")
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


def _open_postgres(url: str, secret_key: str | None, key_dir: Path | None) -> Database:
    db = PgDatabase(url)
    try:
        migrate(db)
        if key_dir is not None and not secret_key:
            private_dir(key_dir)
        secret_box.bind(db, secret_key or "", key_dir)
        if secret_key is not None:
            secret_box.unlock(db)
    except BaseException:
        db.conn.close()
        raise
    return db


def _connect(path: str) -> sqlite3.Connection:
    """A connection to a database file, in autocommit mode (transactions are explicit)."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
    conn.execute("PRAGMA synchronous=NORMAL")
    _connection_pragmas(conn)
    return conn


def _connection_pragmas(conn: sqlite3.Connection) -> None:
    """What every connection sets (these are per connection, not stored in the file)."""
    conn.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten content is zeroed, not left in free space of the file.
    conn.execute("PRAGMA secure_delete=ON")


def _private_database(path: Path) -> None:
    """The database holds every secret: its directory 0700, the file and its -wal and -shm
    0600. The file is created 0600 before SQLite opens it, because SQLite creates the -wal
    and -shm files with the database file's mode."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        private_file(path.with_name(name))


def migrate(db: Database) -> list[str]:
    """Apply, in order, every named migration not yet recorded; return the names applied.

    On PostgreSQL, processes starting at once take turns (an advisory lock), and every
    migration is one plain transaction: its DDL is transactional, no table is rebuilt."""
    if not is_postgres(db):
        return _migrate(db)
    db.execute("SELECT pg_advisory_lock(?)", [MIGRATION_LOCK])
    try:
        with transaction(db):
            install_functions(cast(PgDatabase, db))
        return _migrate(db)
    finally:
        db.execute("SELECT pg_advisory_unlock(?)", [MIGRATION_LOCK])


# The advisory lock key migrations hold on PostgreSQL (any constant of our own).
MIGRATION_LOCK = 0x51C3_0001


def _migrate(db: Database) -> list[str]:
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at INTEGER)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for migration in MIGRATIONS:
        name = migration.__name__
        if name in done:
            continue
        if name in FOREIGN_KEYS_OFF and not is_postgres(db):
            _rebuild(db, migration)
        else:
            with transaction(db):
                migration(db)
                _record(db, name)
        applied.append(name)
    return applied


def _record(db: Database, name: str) -> None:
    db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [name, int(time.time())])


def _rebuild(db: Database, migration: Callable[[Database], None]) -> None:
    """Run a migration that rebuilds tables with foreign-key enforcement off (as SQLite's
    procedure for table changes says; the pragma is ignored inside a transaction), and refuse
    to commit it if a key that held before dangles after it."""
    enforced = db.execute("PRAGMA foreign_keys").fetchone()[0]
    db.execute("PRAGMA foreign_keys=OFF")
    try:
        with transaction(db):
            keys, before = _foreign_keys(db), _dangling(db)
            migration(db)
            broken = [k for k, n in _dangling(db).items() if k in keys and n > before[k]]
            if broken:
                raise sqlite3.IntegrityError(
                    f"{migration.__name__} would leave foreign keys dangling: {broken}"
                )
            _record(db, migration.__name__)
    finally:
        db.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")


def _foreign_keys(db: Database) -> set[tuple[str, str]]:
    """(table, referenced table) of every foreign key in the schema."""
    rows = db.execute(
        'SELECT m.name, f."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) f '
        "WHERE m.type = 'table'"
    ).fetchall()
    return {(str(table), str(parent)) for table, parent in rows}


def _dangling(db: Database) -> Counter[tuple[str, str]]:
    """How many rows of each (table, referenced table) name a row that does not exist."""
    rows = db.execute("PRAGMA foreign_key_check").fetchall()
    return Counter((str(row[0]), str(row[2])) for row in rows)


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


# Reader connections kept open between reads; more are opened while more reads run at once
# (anyio's thread limiter bounds that) and closed again when they end.
IDLE_READERS = 4
# PostgreSQL connections kept open (reads and writes share them).
IDLE_PG = 8
PG_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
# How often a reader that found the secret key cached checks it outside a read transaction:
# `secret_box.unlock` caches a key only outside a transaction, so after a `sluice secrets
# rotate` beside the server, this is what caches the new one.
KEY_RECHECK_SECONDS = 1.0


class Store:
    """The one way to the database. Async callers use `read`/`write`; code already in a
    worker thread (the sync relay) uses `read_sync`/`write_sync`. Each takes a store function
    and its arguments after the `Database`, so mypy checks every call against the function.

    Writes go through one connection under one lock. A read of a database file takes a
    reader connection of its own (from a small pool) and runs in one read transaction; an
    in-memory database cannot be opened twice, so there a read takes the writer's connection
    and lock."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        # PostgreSQL: reads and writes alike take a connection of the pool, and need no lock
        # here (the server locks rows; each write is one transaction).
        self._pg = isinstance(db, PgDatabase)
        self._path = None if self._pg else _file_of(db)
        self._pool_lock = threading.Lock()
        self._idle: list[Database] = []
        self._closed = False
        self._key_checked = 0.0

    @property
    def shared(self) -> bool:
        """Whether other processes may share this database (PostgreSQL): jobs then carry
        leases, and one scheduler acts at a time."""
        return self._pg

    def session_lock(self, key: int, name: str) -> SessionLock | None:
        """An advisory lock of a connection of its own (PostgreSQL; `name` its application
        name); None on SQLite, where one process has the database to itself."""
        if isinstance(self.db, PgDatabase):
            return SessionLock(self.db.url, key, name)
        return None

    def read_sync(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if self._path is None and not self._pg:
            with self._lock:
                return fn(self.db, *args, **kwargs)
        reader = self._take_reader()
        try:
            # PostgreSQL: one snapshot for the whole read, as a SQLite read transaction is.
            reader.conn.execute(PG_READ if self._pg else "BEGIN")
            try:
                result = fn(reader, *args, **kwargs)
            except BaseException:
                reader.conn.execute("ROLLBACK")
                raise
            reader.conn.execute("COMMIT")
            self._recheck_key(reader)
        except BaseException:
            self._discard(reader)
            raise
        self._give_back(reader)
        return result

    def write_sync(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if self._pg:
            return self._pg_write(fn, *args, **kwargs)
        with self._lock, transaction(self.db):
            return fn(self.db, *args, **kwargs)

    def _pg_write(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        conn = self._take_reader()
        try:
            with transaction(conn):
                result = fn(conn, *args, **kwargs)
        except BaseException:
            self._discard(conn)
            raise
        self._give_back(conn)
        return result

    async def read(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        call = functools.partial(self.read_sync, fn, *args, **kwargs)
        return await anyio.to_thread.run_sync(call)

    async def write(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        call = functools.partial(self.write_sync, fn, *args, **kwargs)
        return await anyio.to_thread.run_sync(call)

    def close(self) -> None:
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.conn.close()
        with self._lock:
            self.db.conn.close()

    # --- reader connections --------------------------------------------------------------

    def _take_reader(self) -> Database:
        with self._pool_lock:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            if self._idle:
                return self._idle.pop()
        if isinstance(self.db, PgDatabase):
            reader: Database = PgDatabase(self.db.url)
        else:
            assert self._path is not None
            reader = Database(_connect(self._path))
        _share_key(reader, self.db)
        return reader

    def _give_back(self, reader: Database) -> None:
        with self._pool_lock:
            if not self._closed and len(self._idle) < (IDLE_PG if self._pg else IDLE_READERS):
                self._idle.append(reader)
                return
        reader.conn.close()

    def _discard(self, reader: Database) -> None:
        """A read failed: keep the connection only if it is back out of its transaction."""
        if isinstance(reader, PgDatabase) and reader.pg.raw.broken:
            reader.conn.close()
            return
        if reader.conn.in_transaction:
            try:
                reader.conn.execute("ROLLBACK")
            except (sqlite3.Error, psycopg.Error):
                reader.conn.close()
                return
        self._give_back(reader)

    def _recheck_key(self, reader: Database) -> None:
        now = time.monotonic()
        if now - self._key_checked < KEY_RECHECK_SECONDS:
            return
        self._key_checked = now
        if _key_cached(self.db):
            secret_box.unlock(reader)


def _share_key(reader: Database, writer: Database) -> None:
    """Give a reader connection the writer's key ring (`secret_box` keys rings by Database):
    the same key, unlocked once. An in-memory database's key exists only in its ring, and a
    ring of its own would look the key up again inside every read transaction."""
    ring = secret_box._rings.get(writer)
    if ring is not None:
        secret_box._rings[reader] = ring


def _key_cached(db: Database) -> bool:
    ring = secret_box._rings.get(db)
    return ring is not None and ring.fernet is not None


def _file_of(db: Database) -> str | None:
    """The file of `db`'s main database; None when it is in memory (or a temporary one)."""
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file) or None
    return None
