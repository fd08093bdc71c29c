"""Workspaces in SQLite."""

from __future__ import annotations

import re
import time

from sqlite_utils import Database

from server.core.errors import NotFound
from server.models.workspaces import WorkspaceRead
from server.store import documents

TABLE = "workspaces"
KIND = "workspace"


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workspace"


def unique_slug(db: Database, name: str) -> str:
    base = slugify(name)
    slug, n = base, 1
    while db.execute("SELECT 1 FROM workspaces WHERE slug = ?", [slug]).fetchone():
        n += 1
        slug = f"{base}-{n}"
    return slug


def insert_workspace(db: Database, workspace: WorkspaceRead) -> WorkspaceRead:
    documents.insert_doc(
        db,
        TABLE,
        str(workspace.workspace_id),
        workspace,
        slug=workspace.slug,
        created_at=int(time.time()),
    )
    return workspace


def get_workspace(db: Database, workspace_id: str) -> WorkspaceRead:
    return documents.get_doc(db, TABLE, workspace_id, WorkspaceRead, KIND)


def get_workspace_by_slug(db: Database, slug: str) -> WorkspaceRead:
    row = db.execute("SELECT data FROM workspaces WHERE slug = ?", [slug]).fetchone()
    if row is None:
        raise NotFound(f"Could not find workspace with slug: {slug}", id=slug)
    return documents.decode(row[0], WorkspaceRead)


def list_workspaces(db: Database) -> list[WorkspaceRead]:
    return documents.list_docs(db, TABLE, WorkspaceRead)


def update_workspace(db: Database, workspace: WorkspaceRead) -> WorkspaceRead:
    documents.update_doc(db, TABLE, str(workspace.workspace_id), workspace, KIND)
    return workspace


def delete_workspace(db: Database, workspace_id: str) -> None:
    """Delete the workspace and (by foreign-key cascade) everything it holds."""
    documents.delete_doc(db, TABLE, workspace_id, KIND)
