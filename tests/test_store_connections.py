"""store/connections.py on a fresh in-memory database."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from sqlite_utils import Database

from server.models.connections import ConnectionRead
from server.store import connections
from tests.support.store import add_connection, add_destination, add_source, default_workspace_id
from tests.support.store_errors import NOT_FOUND


def test_insert_get_and_the_stored_json(db: Database) -> None:
    connection = add_connection(db)
    cid = str(connection.connection_id)
    assert connections.get_connection(db, cid) == connection
    assert msgspec.json.decode(connections.get_connection_json(db, cid), type=ConnectionRead) == (
        connection
    )
    with pytest.raises(NOT_FOUND, match="Could not find connection"):
        connections.get_connection_json(db, str(uuid.uuid4()))


def test_pages_are_oldest_first(db: Database) -> None:
    source, destination = add_source(db), add_destination(db)
    for i in (4, 2, 3, 1, 5):
        add_connection(db, source, destination, name=f"c{i}", created_at=i)
    workspace = str(default_workspace_id(db))
    names = [c.name for c in connections.list_connections(db, workspace)]
    assert names == ["c1", "c2", "c3", "c4", "c5"]
    page = connections.list_connections(db, workspace, limit=2, offset=2)
    assert [c.name for c in page] == ["c3", "c4"]
    as_json = connections.list_connections_json(db, workspace, limit=2, offset=2)
    assert [msgspec.json.decode(b, type=ConnectionRead) for b in as_json] == page
    assert connections.list_connections(db, str(uuid.uuid4())) == []


def test_update_keeps_the_status_column_in_step(db: Database) -> None:
    connection = add_connection(db)
    cid = str(connection.connection_id)
    connections.update_connection(db, msgspec.structs.replace(connection, status="inactive"))
    assert connections.get_connection(db, cid).status == "inactive"
    assert db.execute("SELECT status FROM connections").fetchone()[0] == "inactive"
    assert db.execute("SELECT status FROM connection_schedules").fetchone()[0] == "inactive"


def test_delete(db: Database) -> None:
    connection = add_connection(db)
    connections.delete_connection(db, str(connection.connection_id))
    with pytest.raises(NOT_FOUND):
        connections.delete_connection(db, str(connection.connection_id))
    assert db.execute("SELECT count(*) FROM connection_schedules").fetchone()[0] == 0
