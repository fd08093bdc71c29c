"""store/destinations.py on a fresh in-memory database: secrets sealed at rest, opened on read."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from sqlite_utils import Database

from server.store import destinations, secret_box
from tests.support.store import add_connection, add_destination, add_workspace, default_workspace_id
from tests.support.store_errors import NOT_FOUND


def test_insert_get_with_definition(db: Database) -> None:
    destination = add_destination(db)
    did = str(destination.destination_id)
    assert destinations.get_destination(db, did) == destination
    found, definition = destinations.get_destination_with_definition(db, did)
    assert found == destination
    assert definition.destination_definition_id == destination.destination_definition_id
    with pytest.raises(NOT_FOUND, match="Could not find destination"):
        destinations.get_destination(db, str(uuid.uuid4()))


def test_secrets_are_sealed_in_the_row_and_opened_on_read(db: Database) -> None:
    config = {"password": "s3cret", "host": "h"}
    destination = add_destination(db, config=config, secret_paths=[["password"]])
    row = db.execute("SELECT data FROM destinations").fetchone()[0]
    assert "s3cret" not in row and secret_box.PREFIX in row
    did = str(destination.destination_id)
    assert destinations.get_destination(db, did).connection_configuration == config
    assert destinations.get_secret_paths(db, did) == [["password"]]


def test_list_is_per_workspace_oldest_first_and_limited(db: Database) -> None:
    for i in (2, 1, 3):
        add_destination(db, name=f"d{i}", created_at=i)
    add_destination(db, add_workspace(db).workspace_id, name="elsewhere")
    workspace = str(default_workspace_id(db))
    assert [d.name for d in destinations.list_destinations(db, workspace)] == ["d1", "d2", "d3"]
    assert [d.name for d in destinations.list_destinations(db, workspace, limit=1)] == ["d1"]


def test_update_and_delete(db: Database) -> None:
    destination = add_destination(db)
    did = str(destination.destination_id)
    changed = msgspec.structs.replace(destination, name="New")
    destinations.update_destination(db, changed)
    assert destinations.get_destination(db, did).name == "New"
    add_connection(db, destination=destination)
    destinations.delete_destination(db, did)
    assert db.execute("SELECT count(*) FROM connections").fetchone()[0] == 0
    with pytest.raises(NOT_FOUND):
        destinations.get_destination(db, did)
