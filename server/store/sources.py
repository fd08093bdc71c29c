"""Sources in SQLite."""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from server.models.definitions import SourceDefinitionRead
from server.models.sources import SourceRead
from server.store import documents, secret_box
from server.store.definitions import get_source_definition

TABLE = "sources"
KIND = "source"


def insert_source(
    db: Database, source: SourceRead, secret_paths: Sequence[Sequence[str | None]] | None = None
) -> SourceRead:
    """Store the source with the secret paths its configuration was validated with."""
    documents.insert_doc(
        db,
        TABLE,
        str(source.source_id),
        secret_box.seal_model(db, source, secret_paths),
        secret_paths=documents.encode_paths(secret_paths),
        workspace_id=str(source.workspace_id),
        definition_id=str(source.source_definition_id),
        created_at=source.created_at,
    )
    return source


def get_source(db: Database, source_id: str) -> SourceRead:
    """The source with its configuration's secrets opened (replies mask them)."""
    return secret_box.open_model(db, documents.get_doc(db, TABLE, source_id, SourceRead, KIND))


def get_source_with_definition(
    db: Database, source_id: str
) -> tuple[SourceRead, SourceDefinitionRead]:
    """The source and its definition, in one read (most connector calls need both)."""
    source = get_source(db, source_id)
    return source, get_source_definition(db, str(source.source_definition_id))


def list_sources(db: Database, workspace_id: str, limit: int | None = None) -> list[SourceRead]:
    """The workspace's sources, oldest first, at most `limit` of them."""
    found = documents.list_docs(db, TABLE, SourceRead, "workspace_id = ?", [workspace_id], limit)
    return [secret_box.open_model(db, source) for source in found]


def list_sources_with_paths(
    db: Database, workspace_id: str, limit: int | None = None
) -> list[tuple[SourceRead, list[list[str | None]] | None]]:
    """As `list_sources`, with each one's stored secret paths, in one query."""
    found = documents.list_docs_with_paths(
        db, TABLE, SourceRead, "workspace_id = ?", [workspace_id], limit
    )
    return [(secret_box.open_model(db, source), paths) for source, paths in found]


def update_source(
    db: Database, source: SourceRead, secret_paths: Sequence[Sequence[str | None]] | None = None
) -> SourceRead:
    documents.update_doc(
        db,
        TABLE,
        str(source.source_id),
        secret_box.seal_model(db, source, secret_paths),
        KIND,
        secret_paths=documents.encode_paths(secret_paths),
    )
    return source


def get_secret_paths(db: Database, source_id: str) -> list[list[str | None]] | None:
    """The secret paths stored with the source's configuration (None: not known)."""
    return documents.get_secret_paths(db, TABLE, source_id)


def delete_source(db: Database, source_id: str) -> None:
    """Delete the source and (by foreign-key cascade) the connections that read from it."""
    documents.delete_doc(db, TABLE, source_id, KIND)
