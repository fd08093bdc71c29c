"""Destinations in SQLite."""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from server.models.definitions import DestinationDefinitionRead
from server.models.destinations import DestinationRead
from server.store import documents, secret_box
from server.store.definitions import get_destination_definition

TABLE = "destinations"
KIND = "destination"


def insert_destination(
    db: Database,
    destination: DestinationRead,
    secret_paths: Sequence[Sequence[str | None]] | None = None,
) -> DestinationRead:
    """Store the destination with the secret paths its configuration was validated with."""
    documents.insert_doc(
        db,
        TABLE,
        str(destination.destination_id),
        secret_box.seal_model(db, destination, secret_paths),
        secret_paths=documents.encode_paths(secret_paths),
        workspace_id=str(destination.workspace_id),
        definition_id=str(destination.destination_definition_id),
        created_at=destination.created_at,
    )
    return destination


def get_destination(db: Database, destination_id: str) -> DestinationRead:
    """The destination with its configuration's secrets opened (replies mask them)."""
    found = documents.get_doc(db, TABLE, destination_id, DestinationRead, KIND)
    return secret_box.open_model(db, found)


def get_destination_with_definition(
    db: Database, destination_id: str
) -> tuple[DestinationRead, DestinationDefinitionRead]:
    """The destination and its definition, in one read (most connector calls need both)."""
    destination = get_destination(db, destination_id)
    return destination, get_destination_definition(db, str(destination.destination_definition_id))


def list_destinations(
    db: Database, workspace_id: str, limit: int | None = None
) -> list[DestinationRead]:
    """The workspace's destinations, oldest first, at most `limit` of them."""
    found = documents.list_docs(
        db, TABLE, DestinationRead, "workspace_id = ?", [workspace_id], limit
    )
    return [secret_box.open_model(db, destination) for destination in found]


def list_destinations_with_paths(
    db: Database, workspace_id: str, limit: int | None = None
) -> list[tuple[DestinationRead, list[list[str | None]] | None]]:
    """As `list_destinations`, with each one's stored secret paths, in one query."""
    found = documents.list_docs_with_paths(
        db, TABLE, DestinationRead, "workspace_id = ?", [workspace_id], limit
    )
    return [(secret_box.open_model(db, destination), paths) for destination, paths in found]


def update_destination(
    db: Database,
    destination: DestinationRead,
    secret_paths: Sequence[Sequence[str | None]] | None = None,
) -> DestinationRead:
    documents.update_doc(
        db,
        TABLE,
        str(destination.destination_id),
        secret_box.seal_model(db, destination, secret_paths),
        KIND,
        secret_paths=documents.encode_paths(secret_paths),
    )
    return destination


def get_secret_paths(db: Database, destination_id: str) -> list[list[str | None]] | None:
    """The secret paths stored with the destination's configuration (None: not known)."""
    return documents.get_secret_paths(db, TABLE, destination_id)


def delete_destination(db: Database, destination_id: str) -> None:
    """Delete the destination and (by foreign-key cascade) the connections that write to it."""
    documents.delete_doc(db, TABLE, destination_id, KIND)
