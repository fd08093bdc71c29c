"""The stored catalog diffs (m015): one row per connection, replaced at each comparison,
gone with its connection."""

from __future__ import annotations

import msgspec
from sqlite_utils import Database

from server.models.connections import AirbyteCatalog
from server.models.discover import CatalogDiff, SchemaChange, StreamTransform
from server.models.jobs import StreamDescriptor
from server.store import catalog_diffs
from server.store.catalog_diffs import StoredDiff
from tests.support.jobs import add_connection

DISCOVERED = msgspec.convert(
    {"streams": [{"stream": {"name": "users", "jsonSchema": {"type": "object"}}}]},
    AirbyteCatalog,
)


def stored(connection_id: str, change: SchemaChange = "non_breaking", now: int = 100) -> StoredDiff:
    transforms = [
        StreamTransform(
            transform_type="add_stream", stream_descriptor=StreamDescriptor(name="users")
        )
    ]
    return StoredDiff(
        connection_id=connection_id,
        schema_change=change,
        action="ignored",
        catalog_hash="abc",
        detected_at=now,
        diff=CatalogDiff(transforms=transforms if change != "no_change" else []),
        reason=None,
        catalog_id="c1",
    )


def test_a_diff_is_kept_and_replaced_per_connection(db: Database) -> None:
    first, second = add_connection(db), add_connection(db)
    assert catalog_diffs.find_diff(db, first) is None
    assert catalog_diffs.get_discovered(db, first) is None
    catalog_diffs.put_diff(db, stored(first), DISCOVERED)
    assert catalog_diffs.find_diff(db, first) == stored(first)
    assert catalog_diffs.get_discovered(db, first) == DISCOVERED
    catalog_diffs.put_diff(db, stored(first, "no_change", now=200), DISCOVERED)
    found = catalog_diffs.find_diff(db, first)
    assert found is not None and (found.schema_change, found.detected_at) == ("no_change", 200)
    assert found.diff.transforms == []
    assert db.execute("SELECT count(*) FROM catalog_diffs").fetchone()[0] == 1
    catalog_diffs.put_diff(db, stored(second), DISCOVERED)
    assert set(catalog_diffs.find_diffs(db, [first, second, "other"])) == {first, second}
    assert catalog_diffs.find_diffs(db, []) == {}


def test_a_diff_goes_with_its_connection(db: Database) -> None:
    connection = add_connection(db)
    catalog_diffs.put_diff(db, stored(connection), DISCOVERED)
    db.execute("DELETE FROM connections WHERE id = ?", [connection])
    assert catalog_diffs.find_diff(db, connection) is None
