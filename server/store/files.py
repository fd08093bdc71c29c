"""Uploaded files' records in SQLite (the bytes are on disk, see server.core.files)."""

from __future__ import annotations

from sqlite_utils import Database

from server.models.files import FileRead
from server.store import documents

TABLE = "files"
KIND = "file"


def insert_file(db: Database, file: FileRead) -> FileRead:
    documents.insert_doc(
        db,
        TABLE,
        str(file.file_id),
        file,
        workspace_id=str(file.workspace_id),
        created_at=file.created_at,
    )
    return file


def get_file(db: Database, file_id: str) -> FileRead:
    return documents.get_doc(db, TABLE, file_id, FileRead, KIND)


def list_files(db: Database, workspace_id: str, limit: int | None = None) -> list[FileRead]:
    """The workspace's files, oldest first."""
    return documents.list_docs(db, TABLE, FileRead, "workspace_id = ?", [workspace_id], limit)


def update_file(db: Database, file: FileRead) -> FileRead:
    documents.update_doc(db, TABLE, str(file.file_id), file, KIND)
    return file


def delete_file(db: Database, file_id: str) -> None:
    documents.delete_doc(db, TABLE, file_id, KIND)
