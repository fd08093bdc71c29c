"""store/sources.py on a fresh in-memory database: secrets sealed at rest, opened on read."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from sqlite_utils import Database

from server.store import secret_box, sources
from tests.support.store import add_connection, add_source, add_workspace, default_workspace_id
from tests.support.store_errors import NOT_FOUND


def test_insert_get_with_definition(db: Database) -> None:
    source = add_source(db, config={"max_messages": 5})
    assert sources.get_source(db, str(source.source_id)) == source
    found, definition = sources.get_source_with_definition(db, str(source.source_id))
    assert found == source and definition.source_definition_id == source.source_definition_id
    with pytest.raises(NOT_FOUND, match="Could not find source"):
        sources.get_source(db, str(uuid.uuid4()))


def test_secrets_are_sealed_in_the_row_and_opened_on_read(db: Database) -> None:
    source = add_source(db, config={"password": "s3cret", "host": "h"}, secret_paths=[["password"]])
    row = db.execute("SELECT data FROM sources").fetchone()[0]
    assert "s3cret" not in row and secret_box.PREFIX in row and '"h"' in row
    assert sources.get_source(db, str(source.source_id)).connection_configuration == {
        "password": "s3cret",
        "host": "h",
    }
    assert sources.get_secret_paths(db, str(source.source_id)) == [["password"]]


def test_without_secret_paths_every_leaf_is_sealed(db: Database) -> None:
    source = add_source(db, config={"host": "plain"})
    assert "plain" not in db.execute("SELECT data FROM sources").fetchone()[0]
    assert sources.get_secret_paths(db, str(source.source_id)) is None
    assert sources.get_source(db, str(source.source_id)).connection_configuration == {
        "host": "plain"
    }


def test_list_is_per_workspace_oldest_first_and_limited(db: Database) -> None:
    for i in (3, 1, 2):
        add_source(db, name=f"s{i}", created_at=i)
    add_source(db, add_workspace(db).workspace_id, name="elsewhere")
    workspace = str(default_workspace_id(db))
    assert [s.name for s in sources.list_sources(db, workspace)] == ["s1", "s2", "s3"]
    assert [s.name for s in sources.list_sources(db, workspace, limit=2)] == ["s1", "s2"]


def test_update_and_delete(db: Database) -> None:
    source = add_source(db)
    changed = msgspec.structs.replace(source, name="New", connection_configuration={"a": 1})
    sources.update_source(db, changed, [["a"]])
    assert sources.get_source(db, str(source.source_id)) == changed
    assert sources.get_secret_paths(db, str(source.source_id)) == [["a"]]
    add_connection(db, source)
    sources.delete_source(db, str(source.source_id))
    assert db.execute("SELECT count(*) FROM connections").fetchone()[0] == 0
    with pytest.raises(NOT_FOUND):
        sources.delete_source(db, str(source.source_id))
