"""store/connector_cache.py on a fresh in-memory database: specs by connector key, discovered
catalogs by (keyed digest of) configuration. The key is the caller's: the store never looks
inside it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlite_utils import Database

from server.protocol import ConnectorSpecification, ProtocolCatalog, ProtocolStream
from server.runner.base import ConnectorImage
from server.runner.cache_keys import spec_key
from server.store import connector_cache
from tests.support.store_errors import NOT_FOUND

KEY = "docker:airbyte/source-postgres:3.6.0"


def spec() -> ConnectorSpecification:
    return msgspec_spec({"type": "object", "properties": {"host": {"type": "string"}}})


def msgspec_spec(schema: dict[str, Any]) -> ConnectorSpecification:
    return ConnectorSpecification(connectionSpecification=schema)


def catalog(name: str) -> ProtocolCatalog:
    return ProtocolCatalog(
        streams=[ProtocolStream(name=name, json_schema={}, supported_sync_modes=["full_refresh"])]
    )


def test_specs_by_key(db: Database) -> None:
    assert connector_cache.get_spec(db, KEY) is None
    connector_cache.put_spec(db, KEY, spec())
    assert connector_cache.get_spec(db, KEY) == spec()
    connector_cache.put_spec(db, KEY, msgspec_spec({"type": "object"}))
    assert connector_cache.get_spec(db, KEY) == msgspec_spec({"type": "object"})
    connector_cache.delete_spec(db, KEY)
    assert connector_cache.get_spec(db, KEY) is None


def test_a_catalog_is_found_for_the_same_configuration_only(db: Database) -> None:
    config = {"host": "db", "password": "pw"}
    catalog_id = connector_cache.put_discovered_catalog(db, KEY, config, catalog("users"))
    assert connector_cache.find_discovered_catalog(db, KEY, config) == (
        catalog_id,
        catalog("users"),
    )
    assert connector_cache.find_discovered_catalog(db, KEY, {**config, "password": "x"}) is None
    assert connector_cache.find_discovered_catalog(db, "docker:other:1", config) is None
    assert connector_cache.get_discovered_catalog(db, catalog_id) == catalog("users")


def test_an_identical_catalog_keeps_its_id_and_a_new_one_replaces_the_entry(db: Database) -> None:
    config = {"host": "db"}
    first = connector_cache.put_discovered_catalog(db, KEY, config, catalog("users"))
    again = connector_cache.put_discovered_catalog(db, KEY, {"host": "other"}, catalog("users"))
    assert again == first
    newer = connector_cache.put_discovered_catalog(db, KEY, config, catalog("orders"))
    assert newer != first
    assert connector_cache.find_discovered_catalog(db, KEY, config) == (newer, catalog("orders"))
    assert connector_cache.get_discovered_catalog(db, first) == catalog("users")  # still there


def test_configuration_digests_are_keyed_not_plain_hashes(db: Database) -> None:
    digest = connector_cache.config_digest(db, KEY, {"password": "pw"})
    assert "pw" not in digest
    stored = db.execute("SELECT config_hash FROM discover_cache").fetchall()
    assert stored == []
    connector_cache.put_discovered_catalog(db, KEY, {"password": "pw"}, catalog("users"))
    assert db.execute("SELECT config_hash FROM discover_cache").fetchone()[0] == digest


def test_an_unknown_catalog_id_is_not_found(db: Database) -> None:
    with pytest.raises(NOT_FOUND, match="discovered catalog"):
        connector_cache.get_discovered_catalog(db, "nope")


def test_the_runner_names_the_key() -> None:
    docker = ConnectorImage(name="pg", runner="docker", docker_image="airbyte/source-postgres:3")
    process = ConnectorImage(
        name="e2e", runner="process", docker_image="sluice/e2e:1", command=("source-e2e-test",)
    )
    assert spec_key(docker) == "docker:airbyte/source-postgres:3"
    assert spec_key(process) == "process:sluice/e2e:1:source-e2e-test"


def test_the_cache_answers_only_a_discover_young_enough(db: Database) -> None:
    config = {"host": "db"}
    catalog_id = connector_cache.put_discovered_catalog(db, KEY, config, catalog("users"))
    assert connector_cache.find_discovered_catalog(db, KEY, config, 60) == (
        catalog_id,
        catalog("users"),
    )
    db.execute("UPDATE discover_cache SET created_at = created_at - 120")
    assert connector_cache.find_discovered_catalog(db, KEY, config, 60) is None
    assert connector_cache.find_discovered_catalog(db, KEY, config, 3600) is not None
    assert connector_cache.find_discovered_catalog(db, KEY, config) is not None  # any age
