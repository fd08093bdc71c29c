"""What connectors told us, kept so they need not run again: each connector version's spec,
and discovered catalogs with the source configurations they were discovered for.

Entries are keyed by a connector key the caller computes (`server.runner.cache_keys.spec_key`):
how a connector runs is the runner's business, and the store never imports the runner."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import msgspec
from sqlite_utils import Database

from server.core.errors import NotFound
from server.protocol import ConnectorSpecification, ProtocolCatalog
from server.store import secret_box

_encoder = msgspec.json.Encoder(order="sorted")


def config_digest(db: Database, connector_key: str, configuration: dict[str, Any]) -> str:
    """The discover cache's key for a configuration run by a connector: keyed by the database's
    secret key (the configuration holds secrets), stable (keys sorted)."""
    value = {"connector": connector_key, "config": configuration}
    return secret_box.keyed_digest(db, _encoder.encode(value))


def get_spec(db: Database, key: str) -> ConnectorSpecification | None:
    row = db.execute("SELECT data FROM connector_specs WHERE key = ?", [key]).fetchone()
    return None if row is None else msgspec.json.decode(row[0], type=ConnectorSpecification)


def put_spec(db: Database, key: str, spec: ConnectorSpecification) -> None:
    db.execute(
        "INSERT INTO connector_specs (key, created_at, data) VALUES (?, ?, ?) ON CONFLICT (key) "
        "DO UPDATE SET created_at = excluded.created_at, data = excluded.data",
        [key, int(time.time()), msgspec.json.encode(spec).decode()],
    )


def delete_spec(db: Database, key: str) -> None:
    db.execute("DELETE FROM connector_specs WHERE key = ?", [key])


def put_discovered_catalog(
    db: Database, connector_key: str, configuration: dict[str, Any], catalog: ProtocolCatalog
) -> str:
    """Store a discovered catalog (an identical one keeps its id) and remember it as the
    catalog of this configuration; the catalog's id."""
    config_hash = config_digest(db, connector_key, configuration)
    data = msgspec.json.encode(catalog)
    catalog_hash = hashlib.sha256(data).hexdigest()
    row = db.execute(
        "SELECT id FROM discovered_catalogs WHERE catalog_hash = ?", [catalog_hash]
    ).fetchone()
    now = int(time.time())
    if row is None:
        catalog_id = str(uuid.uuid4())
        db.execute(
            "INSERT INTO discovered_catalogs (id, catalog_hash, created_at, data) "
            "VALUES (?, ?, ?, ?)",
            [catalog_id, catalog_hash, now, data.decode()],
        )
    else:
        catalog_id = row[0]
    db.execute(
        "INSERT INTO discover_cache (config_hash, catalog_id, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (config_hash) DO UPDATE SET catalog_id = excluded.catalog_id, "
        "created_at = excluded.created_at",
        [config_hash, catalog_id, now],
    )
    return catalog_id


def find_discovered_catalog(
    db: Database,
    connector_key: str,
    configuration: dict[str, Any],
    max_age: int | None = None,
) -> tuple[str, ProtocolCatalog] | None:
    """The catalog last discovered for this configuration, with its id; with `max_age`, only
    one discovered at most that many seconds ago (on the clock `put_discovered_catalog` uses)."""
    config_hash = config_digest(db, connector_key, configuration)
    since = 0 if max_age is None else int(time.time()) - max_age
    row = db.execute(
        "SELECT c.id, c.data FROM discover_cache d JOIN discovered_catalogs c "
        "ON c.id = d.catalog_id WHERE d.config_hash = ? AND d.created_at >= ?",
        [config_hash, since],
    ).fetchone()
    if row is None:
        return None
    return row[0], msgspec.json.decode(row[1], type=ProtocolCatalog)


def get_discovered_catalog(db: Database, catalog_id: str) -> ProtocolCatalog:
    """A stored catalog (protocol shape) by id, e.g. a connection's `sourceCatalogId`."""
    row = db.execute("SELECT data FROM discovered_catalogs WHERE id = ?", [catalog_id]).fetchone()
    if row is None:
        raise NotFound(f"Could not find discovered catalog with id: {catalog_id}", id=catalog_id)
    return msgspec.json.decode(row[0], type=ProtocolCatalog)
