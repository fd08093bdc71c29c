"""The latest catalog diff of each connection (table `catalog_diffs`, migration m015).

One row per connection, replaced at each comparison; it goes with its connection.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlite_utils import Database

from server.models.connections import AirbyteCatalog
from server.models.discover import CatalogDiff, SchemaChange
from server.store import documents

TABLE = "catalog_diffs"
_COLUMNS = (
    "connection_id, schema_change, action, reason, catalog_id, catalog_hash, detected_at, diff"
)
_CHANGES: dict[str, SchemaChange] = {
    "no_change": "no_change",
    "non_breaking": "non_breaking",
    "breaking": "breaking",
}


class StoredDiff(msgspec.Struct, frozen=True, kw_only=True):
    """A connection's catalog against the one its source discovered at `detected_at`: `diff`
    and `schema_change` are what is left once the change was handled (after a propagation,
    what the preference did not apply).

    `action` says what was done: `none` (no change), `ignored`, `disabled`, `propagated`,
    `paused` (breaking), or `detected` (a discover outside a sync, which applies nothing).
    `reason` is why the connection was stopped, when it was. `catalog_hash` fingerprints the
    connection's catalog the diff was taken against (see `server.core.schema_changes`); the
    discovered catalog itself is read apart (`get_discovered`): lists do not need it."""

    connection_id: str
    schema_change: SchemaChange
    action: str
    catalog_hash: str
    detected_at: int
    diff: CatalogDiff
    reason: str | None = None
    catalog_id: str | None = None


def put_diff(db: Database, found: StoredDiff, discovered: AirbyteCatalog) -> None:
    db.execute(
        f"INSERT INTO {TABLE} ({_COLUMNS}, discovered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (connection_id) DO UPDATE SET schema_change = excluded.schema_change, "
        "action = excluded.action, reason = excluded.reason, catalog_id = excluded.catalog_id, "
        "catalog_hash = excluded.catalog_hash, detected_at = excluded.detected_at, "
        "diff = excluded.diff, discovered = excluded.discovered",
        [
            found.connection_id,
            found.schema_change,
            found.action,
            found.reason,
            found.catalog_id,
            found.catalog_hash,
            found.detected_at,
            documents.encode(found.diff),
            documents.encode(discovered),
        ],
    )


def _stored(row: Sequence[object]) -> StoredDiff:
    return StoredDiff(
        connection_id=str(row[0]),
        schema_change=_CHANGES[str(row[1])],
        action=str(row[2]),
        reason=None if row[3] is None else str(row[3]),
        catalog_id=None if row[4] is None else str(row[4]),
        catalog_hash=str(row[5]),
        detected_at=int(str(row[6])),
        diff=documents.decode(str(row[7]), CatalogDiff),
    )


def find_diff(db: Database, connection_id: str) -> StoredDiff | None:
    """The connection's latest diff; None when its catalog was never compared."""
    row = db.execute(
        f"SELECT {_COLUMNS} FROM {TABLE} WHERE connection_id = ?", [connection_id]
    ).fetchone()
    return None if row is None else _stored(row)


def find_diffs(db: Database, connection_ids: Sequence[str]) -> dict[str, StoredDiff]:
    """The latest diff of each of these connections that has one (one query)."""
    if not connection_ids:
        return {}
    marks = ", ".join("?" for _ in connection_ids)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM {TABLE} WHERE connection_id IN ({marks})", list(connection_ids)
    ).fetchall()
    return {str(row[0]): _stored(row) for row in rows}


def get_discovered(db: Database, connection_id: str) -> AirbyteCatalog | None:
    """The discovered catalog the connection's latest diff was taken against."""
    row = db.execute(
        f"SELECT discovered FROM {TABLE} WHERE connection_id = ?", [connection_id]
    ).fetchone()
    return None if row is None else documents.decode(str(row[0]), AirbyteCatalog)
