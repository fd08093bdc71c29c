"""store/definitions.py on a fresh in-memory database."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from sqlite_utils import Database

from server.store import definitions
from tests.support.store import DEV_NULL, E2E, add_connection
from tests.support.store_errors import NOT_FOUND


def test_the_seeded_definitions_keep_airbytes_ids(db: Database) -> None:
    source_ids = {d.source_definition_id for d in definitions.list_source_definitions(db)}
    destination_ids = {
        d.destination_definition_id for d in definitions.list_destination_definitions(db)
    }
    assert E2E in source_ids and DEV_NULL in destination_ids
    assert definitions.get_source_definition(db, str(E2E)).name == "E2E Testing"


def test_update_and_delete(db: Database) -> None:
    e2e = definitions.get_source_definition(db, str(E2E))
    definitions.update_source_definition(db, msgspec.structs.replace(e2e, name="Renamed"))
    assert definitions.get_source_definition(db, str(E2E)).name == "Renamed"
    definitions.delete_source_definition(db, str(E2E))
    with pytest.raises(NOT_FOUND, match="source definition"):
        definitions.get_source_definition(db, str(E2E))
    with pytest.raises(NOT_FOUND):
        definitions.get_destination_definition(db, str(uuid.uuid4()))


def test_a_copy_with_a_new_id_is_a_new_definition(db: Database) -> None:
    dev_null = definitions.get_destination_definition(db, str(DEV_NULL))
    copy = msgspec.structs.replace(dev_null, destination_definition_id=uuid.uuid4(), name="Mine")
    definitions.insert_destination_definition(db, copy)
    names = [d.name for d in definitions.list_destination_definitions(db)]
    assert "Mine" in names and dev_null.name in names


def test_deleting_a_definition_deletes_its_sources_and_their_connections(db: Database) -> None:
    add_connection(db)
    definitions.delete_destination_definition(db, str(DEV_NULL))
    assert db.execute("SELECT count(*) FROM destinations").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM connections").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 1
