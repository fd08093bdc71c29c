"""Operations (steps run after a sync) in SQLite. Nothing creates them yet; connections may
only name operations that exist, and `operations/list` reads them from here."""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from server.core.errors import NotFound
from server.models.operations import OperationRead
from server.store import documents

TABLE = "operations"
KIND = "operation"


def check_operations_exist(db: Database, operation_ids: Iterable[str]) -> None:
    """NotFound naming the first id that is not an operation."""
    for operation_id in operation_ids:
        if not documents.exists(db, TABLE, operation_id):
            raise NotFound(f"Could not find {KIND} with id: {operation_id}", id=operation_id)


def list_operations(db: Database, operation_ids: Iterable[str]) -> list[OperationRead]:
    ids = list(operation_ids)
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return documents.list_docs(db, TABLE, OperationRead, f"id IN ({marks})", ids)


def list_operations_for_workspace(db: Database, workspace_id: str) -> list[OperationRead]:
    return documents.list_docs(db, TABLE, OperationRead, "workspace_id = ?", [workspace_id])
