"""Connections in SQLite.

Each row's `data` is the complete ConnectionRead reply (core/connections.py derives every field
before writing), so reads can hand the stored JSON to the client without decoding it.
"""

from __future__ import annotations

from sqlite_utils import Database

from server.core.errors import NotFound
from server.models.connections import ConnectionRead
from server.protocol import ProtocolCatalog as AirbyteCatalog
from server.store import connector_cache, documents

TABLE = "connections"
KIND = "connection"
# Oldest first; the `connections_workspace (workspace_id, created_at)` index holds this order,
# so neither a page nor a whole workspace needs a sort.
_ORDER = "ORDER BY created_at, rowid"


def insert_connection(db: Database, connection: ConnectionRead) -> ConnectionRead:
    documents.insert_doc(
        db,
        TABLE,
        str(connection.connection_id),
        connection,
        workspace_id=str(connection.workspace_id),
        source_id=str(connection.source_id),
        destination_id=str(connection.destination_id),
        status=connection.status,
        created_at=connection.created_at,
    )
    return connection


def get_connection(db: Database, connection_id: str) -> ConnectionRead:
    return documents.get_doc(db, TABLE, connection_id, ConnectionRead, KIND)


def get_connection_json(db: Database, connection_id: str) -> bytes:
    """The stored ConnectionRead as JSON bytes."""
    row = db.execute(f"SELECT data FROM {TABLE} WHERE id = ?", [connection_id]).fetchone()
    if row is None:
        raise NotFound(f"Could not find {KIND} with id: {connection_id}", id=connection_id)
    return str(row[0]).encode()


def find_source_catalog(db: Database, catalog_id: str) -> AirbyteCatalog | None:
    """The discovered catalog a connection names as its `sourceCatalogId`, if it is still
    cached (protocol shape)."""
    try:
        return connector_cache.get_discovered_catalog(db, catalog_id)
    except NotFound:
        return None


def _page_sql(limit: int | None) -> str:
    if limit is None:
        return f"SELECT data FROM {TABLE} WHERE workspace_id = ? {_ORDER}"
    # Skip the offset in the index alone, then read only the page's documents.
    return (
        f"SELECT data FROM {TABLE} WHERE rowid IN (SELECT rowid FROM {TABLE} "
        f"WHERE workspace_id = ? {_ORDER} LIMIT ? OFFSET ?) {_ORDER}"
    )


def _page_args(workspace_id: str, limit: int | None, offset: int) -> list[object]:
    return [workspace_id] if limit is None else [workspace_id, limit, offset]


def list_connections(
    db: Database, workspace_id: str, limit: int | None = None, offset: int = 0
) -> list[ConnectionRead]:
    """The workspace's connections, oldest first, optionally one page of them."""
    rows = db.execute(_page_sql(limit), _page_args(workspace_id, limit, offset)).fetchall()
    return [documents.decode(row[0], ConnectionRead) for row in rows]


def list_connections_json(
    db: Database, workspace_id: str, limit: int | None = None, offset: int = 0
) -> list[bytes]:
    """As `list_connections`, each as its stored JSON bytes."""
    rows = db.execute(_page_sql(limit), _page_args(workspace_id, limit, offset)).fetchall()
    return [str(row[0]).encode() for row in rows]


def update_connection(db: Database, connection: ConnectionRead) -> ConnectionRead:
    documents.update_doc(
        db, TABLE, str(connection.connection_id), connection, KIND, status=connection.status
    )
    return connection


def delete_connection(db: Database, connection_id: str) -> None:
    documents.delete_doc(db, TABLE, connection_id, KIND)
