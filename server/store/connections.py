"""Connections in SQLite."""

from __future__ import annotations

from sqlite_utils import Database

from server.models.connections import ConnectionRead
from server.store import documents

TABLE = "connections"
KIND = "connection"


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


def list_connections(
    db: Database, workspace_id: str, limit: int | None = None, offset: int = 0
) -> list[ConnectionRead]:
    """The workspace's connections, oldest first, optionally one page of them."""
    return documents.list_docs(
        db, TABLE, ConnectionRead, "workspace_id = ?", [workspace_id], limit, offset
    )


def update_connection(db: Database, connection: ConnectionRead) -> ConnectionRead:
    documents.update_doc(
        db, TABLE, str(connection.connection_id), connection, KIND, status=connection.status
    )
    return connection


def delete_connection(db: Database, connection_id: str) -> None:
    documents.delete_doc(db, TABLE, connection_id, KIND)
