"""Sources in SQLite."""

from __future__ import annotations

from sqlite_utils import Database

from server.models.sources import SourceRead
from server.store import documents

TABLE = "sources"
KIND = "source"


def insert_source(db: Database, source: SourceRead) -> SourceRead:
    documents.insert_doc(
        db,
        TABLE,
        str(source.source_id),
        source,
        workspace_id=str(source.workspace_id),
        definition_id=str(source.source_definition_id),
        created_at=source.created_at,
    )
    return source


def get_source(db: Database, source_id: str) -> SourceRead:
    return documents.get_doc(db, TABLE, source_id, SourceRead, KIND)


def list_sources(db: Database, workspace_id: str, limit: int | None = None) -> list[SourceRead]:
    return documents.list_docs(db, TABLE, SourceRead, "workspace_id = ?", [workspace_id], limit)


def update_source(db: Database, source: SourceRead) -> SourceRead:
    documents.update_doc(db, TABLE, str(source.source_id), source, KIND)
    return source


def delete_source(db: Database, source_id: str) -> None:
    """Delete the source and (by foreign-key cascade) the connections that read from it."""
    documents.delete_doc(db, TABLE, source_id, KIND)
