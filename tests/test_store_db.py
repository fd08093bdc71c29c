"""The store's one path to SQLite (`store/db.py`): reads beside the writer, typed calls, and
the migrations that rebuild tables."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlite_utils import Database

from server.store import db as store_db
from server.store import secret_box, sources, workspaces
from server.store.db import Store, migrate, open_db, transaction
from server.store.migrations import m012_definition_foreign_keys
from tests.support.store import (
    E2E,
    add_connection,
    add_destination,
    add_old_connection,
    add_source,
    database_before,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(open_db(tmp_path / "data" / "sluice.db", ""))
    yield s
    s.close()


def test_a_read_does_not_wait_for_a_long_write_transaction(store: Store) -> None:
    """A sync's state commit, or any write, may hold the writer; a read on a database file
    goes on beside it (and sees what was committed before the write began)."""
    started, release = threading.Event(), threading.Event()

    def long_write(db: Database) -> None:
        add_source(db, name="in the write")
        started.set()
        assert release.wait(10)

    writer = threading.Thread(target=store.write_sync, args=(long_write,))
    writer.start()
    try:
        assert started.wait(10)
        t = time.monotonic()
        found = store.read_sync(workspaces.list_workspaces)
        assert time.monotonic() - t < 1.0
        assert [w.name for w in found] == ["Default Workspace"]
        # The write is not committed yet: the read does not see it.
        workspace = str(found[0].workspace_id)
        assert store.read_sync(sources.list_sources, workspace) == []
    finally:
        release.set()
        writer.join(10)
    assert [s.name for s in store.read_sync(sources.list_sources, workspace)] == ["in the write"]


async def test_reads_run_at_once_beside_a_write(store: Store) -> None:
    release = threading.Event()

    def slow_write(db: Database) -> None:
        assert release.wait(10)

    async with anyio.create_task_group() as tg:
        tg.start_soon(store.write, slow_write)
        await anyio.sleep(0.05)
        with anyio.fail_after(2):
            for _ in range(20):
                assert len(await store.read(workspaces.list_workspaces)) == 1
        release.set()


def test_a_read_is_one_snapshot(store: Store) -> None:
    """Everything one store function reads comes from the same committed state, even when a
    write commits between its statements."""
    workspace = str(store.read_sync(workspaces.list_workspaces)[0].workspace_id)

    def two_reads(db: Database) -> tuple[int, int]:
        first = len(sources.list_sources(db, workspace))
        writer = threading.Thread(target=store.write_sync, args=(add_source,))
        writer.start()
        writer.join(10)
        return first, len(sources.list_sources(db, workspace))

    assert store.read_sync(two_reads) == (0, 0)
    assert len(store.read_sync(sources.list_sources, workspace)) == 1


def test_readers_open_the_secrets_with_the_writers_key(store: Store) -> None:
    source = store.write_sync(
        add_source, config={"password": "hunter2"}, secret_paths=[["password"]]
    )
    stored = store.db.execute("SELECT data FROM sources").fetchone()[0]
    assert "hunter2" not in stored and secret_box.PREFIX in stored
    found = store.read_sync(sources.get_source, str(source.source_id))
    assert found.connection_configuration == {"password": "hunter2"}


def test_an_in_memory_database_reads_on_the_writers_connection() -> None:
    """`:memory:` cannot be opened twice: reads there share the writer (and its key)."""
    store = Store(open_db(None))
    source = store.write_sync(add_source, config={"token": "t0"})
    found = store.read_sync(sources.get_source, str(source.source_id))
    assert found.connection_configuration == {"token": "t0"}
    store.close()


async def test_keyword_arguments_reach_the_store_function(store: Store) -> None:
    workspace = str((await store.read(workspaces.list_workspaces))[0].workspace_id)
    for i in range(3):
        await store.write(add_source, name=f"s{i}", created_at=i)
    found = await store.read(sources.list_sources, workspace, limit=2)
    assert [s.name for s in found] == ["s0", "s1"]


def test_a_failed_read_leaves_the_reader_usable(store: Store) -> None:
    def boom(db: Database) -> None:
        db.execute("SELECT 1")
        raise RuntimeError("boom")

    for _ in range(store_db.IDLE_READERS + 2):
        with pytest.raises(RuntimeError):
            store.read_sync(boom)
    assert len(store.read_sync(workspaces.list_workspaces)) == 1


def test_reader_connections_are_pooled_and_closed(store: Store) -> None:
    for _ in range(5):
        store.read_sync(workspaces.list_workspaces)
    assert len(store._idle) == 1  # one at a time: one reader, reused
    reader = store._idle[0]
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        reader.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):
        store.read_sync(workspaces.list_workspaces)


def test_reader_connections_enforce_foreign_keys_and_secure_delete(store: Store) -> None:
    def pragmas(db: Database) -> tuple[int, int]:
        keys = db.execute("PRAGMA foreign_keys").fetchone()[0]
        return keys, db.execute("PRAGMA secure_delete").fetchone()[0]

    assert store.read_sync(pragmas) == (1, 1)
    assert pragmas(store.db) == (1, 1)


def test_a_write_rolls_back_whole(store: Store) -> None:
    def half(db: Database) -> None:
        add_source(db)
        raise RuntimeError("half way")

    with pytest.raises(RuntimeError):
        store.write_sync(half)
    assert store.db.execute("SELECT count(*) FROM sources").fetchone()[0] == 0


# --- m012: sources and destinations reference their definitions ------------------------------


def test_a_source_must_name_a_definition_that_exists(db: Database) -> None:
    source = add_source(db)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO sources (id, workspace_id, definition_id, created_at, data) "
            "VALUES (?, ?, ?, 0, '{}')",
            [str(uuid.uuid4()), str(source.workspace_id), str(uuid.uuid4())],
        )
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO destinations (id, workspace_id, definition_id, created_at, data) "
            "VALUES (?, ?, ?, 0, '{}')",
            [str(uuid.uuid4()), str(source.workspace_id), str(E2E)],  # a source definition
        )


def test_deleting_a_definition_deletes_what_is_built_on_it(db: Database) -> None:
    connection = add_connection(db)
    with transaction(db):
        db.execute("DELETE FROM source_definitions WHERE id = ?", [str(E2E)])
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM connections").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM destinations").fetchone()[0] == 1
    assert connection.connection_id  # (its destination stays)


def test_m012_keeps_every_row_and_what_references_them(tmp_path: Path) -> None:
    path = tmp_path / "sluice.db"
    db = database_before(path, m012_definition_foreign_keys)
    with transaction(db):
        connection = add_old_connection(db, "kept")
        source, destination = str(connection.source_id), str(connection.destination_id)
        db.execute(
            "INSERT INTO jobs (config_type, config_id, status, created_at, updated_at) "
            "VALUES ('sync', ?, 'succeeded', 0, 0)",
            [str(connection.connection_id)],
        )
        db.execute(
            "INSERT INTO connection_state (connection_id, state, updated_at) VALUES (?, '{}', 0)",
            [str(connection.connection_id)],
        )
        # A row whose definition is gone (no FK yet): kept, with its connection.
        orphan = add_source(db, name="orphan")
        db.execute(
            "UPDATE sources SET definition_id = 'gone' WHERE id = ?", [str(orphan.source_id)]
        )
        add_old_connection(db, "orphan's", source=orphan)
        extra = add_destination(db, name="unused", secret_paths=[["x"]], config={"x": "y"})
    tables = ("sources", "destinations", "connections", "jobs", "connection_state")
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    rows = db.execute("SELECT * FROM sources ORDER BY id").fetchall()
    db.conn.close()

    db = open_db(path, "")
    assert {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables} == counts
    assert db.execute("SELECT * FROM sources ORDER BY id").fetchall() == rows
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    keys = {(r[2], r[3]) for r in db.execute("PRAGMA foreign_key_list(sources)").fetchall()}
    assert ("source_definitions", "definition_id") in keys
    indexes = {r[1] for r in db.execute("PRAGMA index_list(sources)").fetchall()}
    assert {"sources_workspace", "sources_definition"} <= indexes
    # What references the rebuilt tables still does (connections cascade from them).
    assert (
        db.execute(
            "SELECT source_id FROM connections WHERE json_extract(data, '$.name') = 'kept'"
        ).fetchone()[0]
        == source
    )
    assert sources.get_source(db, source).name == "Source"
    from server.store import destinations

    assert destinations.get_destination(db, str(extra.destination_id)).connection_configuration == {
        "x": "y"
    }
    with transaction(db):
        db.execute("DELETE FROM destinations WHERE id = ?", [destination])
    assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0  # cascaded
    assert (
        db.execute("SELECT count(*) FROM sources WHERE id = ?", [str(orphan.source_id)]).fetchone()[
            0
        ]
        == 1
    )
    db.conn.close()


def test_a_rebuild_that_would_leave_keys_dangling_is_refused(db: Database) -> None:
    add_connection(db)

    def m999_bad_rebuild(db: Database) -> None:
        db.execute("DELETE FROM sources")  # with enforcement off: nothing cascades

    original = list(store_db.MIGRATIONS)
    store_db.MIGRATIONS.append(m999_bad_rebuild)
    store_db.FOREIGN_KEYS_OFF.add("m999_bad_rebuild")
    try:
        with pytest.raises(sqlite3.IntegrityError, match="dangling"):
            migrate(db)
    finally:
        store_db.MIGRATIONS[:] = original
        store_db.FOREIGN_KEYS_OFF.discard("m999_bad_rebuild")
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 1  # rolled back
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
