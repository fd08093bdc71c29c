"""Connections' `name` column (m017): written with every insert and update, filled by the
migration for rows written before it, and read by the web UI list's name filter (a
case-insensitive substring test where `%`, `_` and `\\` mean themselves) from its index."""

from __future__ import annotations

from pathlib import Path

import msgspec
from sqlite_utils import Database

from server.store import connections
from server.store.connection_list import list_connection_rows
from server.store.db import open_db, transaction
from server.store.migrations import m017_connection_names
from tests.support.postgres import sqlite_only
from tests.support.store import add_connection, add_old_connection, database_before


def _names(db: Database, name: str | None, status: str | None = None) -> list[str]:
    return [row.name for row in list_connection_rows(db, name, status, 50, 0)]


def _column(db: Database, connection_id: object) -> str | None:
    row = db.execute("SELECT name FROM connections WHERE id = ?", [str(connection_id)]).fetchone()
    return None if row is None else row[0]


def test_insert_and_rename_write_the_column(db: Database) -> None:
    with transaction(db):
        connection = add_connection(db, name="Orders to warehouse")
    assert _column(db, connection.connection_id) == "Orders to warehouse"
    renamed = msgspec.structs.replace(connection, name="Invoices to lake")
    with transaction(db):
        connections.update_connection(db, renamed)
    assert _column(db, connection.connection_id) == "Invoices to lake"
    assert _names(db, "invoices") == ["Invoices to lake"]
    assert _names(db, "orders") == []


def test_the_filter_is_a_case_insensitive_substring_test_in_creation_order(db: Database) -> None:
    with transaction(db):
        for i, name in enumerate(["Beta one", "alpha two", "ALPHA three", "gamma"]):
            add_connection(db, name=name, status="inactive" if i == 2 else "active")
    assert _names(db, "Alpha") == ["alpha two", "ALPHA three"]
    assert _names(db, "a t") == ["alpha two", "ALPHA three"]
    assert _names(db, "alpha", "inactive") == ["ALPHA three"]
    assert _names(db, "alpha", "deprecated") == []
    assert _names(db, None) == ["Beta one", "alpha two", "ALPHA three", "gamma"]
    # Past the matches, and a page of one.
    assert [r.name for r in list_connection_rows(db, "alpha", None, 1, 1)] == ["ALPHA three"]
    assert list_connection_rows(db, "alpha", None, 5, 2) == []


def test_like_wildcards_and_the_escape_character_match_themselves(db: Database) -> None:
    names = ["100% done", "100 done", "a_b", "axb", "back\\slash", "backslash"]
    with transaction(db):
        for name in names:
            add_connection(db, name=name)
    assert _names(db, "%") == ["100% done"]
    assert _names(db, "0% d") == ["100% done"]
    assert _names(db, "_") == ["a_b"]
    assert _names(db, "a_b") == ["a_b"]
    assert _names(db, "\\") == ["back\\slash"]
    assert _names(db, "k\\s") == ["back\\slash"]
    assert _names(db, "%%") == []


@sqlite_only  # SQLite's query plan
def test_the_name_filter_reads_the_index_not_the_documents(db: Database) -> None:
    # What keeps the filter fast: the matches come from the (name, status) index alone.
    plan = " ".join(
        str(row[3])
        for row in db.execute(
            "EXPLAIN QUERY PLAN WITH matched AS MATERIALIZED (SELECT rowid AS r FROM "
            "connections WHERE status = ? AND lower(name) LIKE lower(?) ESCAPE '\\') "
            "SELECT r FROM matched ORDER BY r",
            ["active", "%x%"],
        ).fetchall()
    )
    assert "COVERING INDEX connections_name" in plan


def test_the_migration_fills_the_column_for_rows_written_before_it(tmp_path: Path) -> None:
    path = tmp_path / "sluice.db"
    db = database_before(path, m017_connection_names)
    columns = {row[1] for row in db.execute("PRAGMA table_info(connections)").fetchall()}
    assert "name" not in columns
    with transaction(db):
        kept = [add_old_connection(db, f"Old {i}") for i in range(3)]
        # A row whose document has no name (written by hand): left NULL, matched by nothing.
        db.execute(
            "UPDATE connections SET data = json_remove(data, '$.name') WHERE id = ?",
            [str(kept[2].connection_id)],
        )
    db.conn.close()

    db = open_db(path, "")
    try:
        applied = db.execute("SELECT name FROM _migrations").fetchall()
        assert ("m017_connection_names",) in applied
        assert [_column(db, c.connection_id) for c in kept] == ["Old 0", "Old 1", None]
        indexes = {row[1] for row in db.execute("PRAGMA index_list(connections)").fetchall()}
        assert "connections_name" in indexes
        assert _names(db, "old") == ["Old 0", "Old 1"]
        # Rows written after it get the column from the store.
        with transaction(db):
            add_connection(db, name="New old-style")
        assert _names(db, "OLD") == ["Old 0", "Old 1", "New old-style"]
    finally:
        db.conn.close()
