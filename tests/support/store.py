"""Objects for store tests on a fresh in-memory database: a workspace, a source, a destination
and a connection between them, each built as the API stores it (the seeded definitions)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from server.models.connections import (
    AirbyteCatalog,
    AirbyteStream,
    AirbyteStreamAndConfiguration,
    AirbyteStreamConfiguration,
    ConnectionRead,
    SourceSchema,
)
from server.models.destinations import DestinationRead
from server.models.sources import SourceRead
from server.models.workspaces import DEFAULT_ORGANIZATION_ID, WorkspaceRead
from server.store import connections, destinations, documents, secret_box, sources, workspaces
from server.store import db as store_db
from server.store.migrations import MIGRATIONS

E2E = uuid.UUID("d53f9084-fa6b-4a5a-976c-5b8392f4ad8a")  # seeded: source-e2e-test
DEV_NULL = uuid.UUID("a7bcc9d8-13b3-4e49-b80d-d020b90045e3")  # seeded: destination-dev-null
NOW = 1_700_000_000


def default_workspace_id(db: Database) -> uuid.UUID:
    return uuid.UUID(db.execute("SELECT id FROM workspaces WHERE slug = 'default'").fetchone()[0])


def add_workspace(db: Database, name: str = "Team") -> WorkspaceRead:
    return workspaces.insert_workspace(
        db,
        WorkspaceRead(
            workspace_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            name=name,
            slug=workspaces.unique_slug(db, name),
            initial_setup_complete=True,
            onboarding_complete=True,
            organization_id=DEFAULT_ORGANIZATION_ID,
        ),
    )


def add_source(
    db: Database,
    workspace_id: uuid.UUID | None = None,
    config: dict[str, Any] | None = None,
    name: str = "Source",
    secret_paths: list[list[str | None]] | None = None,
    created_at: int = NOW,
) -> SourceRead:
    return sources.insert_source(
        db,
        SourceRead(
            source_definition_id=E2E,
            source_id=uuid.uuid4(),
            workspace_id=workspace_id or default_workspace_id(db),
            connection_configuration=config if config is not None else {"max_messages": 10},
            name=name,
            source_name="E2E Testing",
            created_at=created_at,
        ),
        secret_paths,
    )


def add_destination(
    db: Database,
    workspace_id: uuid.UUID | None = None,
    config: dict[str, Any] | None = None,
    name: str = "Destination",
    secret_paths: list[list[str | None]] | None = None,
    created_at: int = NOW,
) -> DestinationRead:
    silent = {"test_destination": {"test_destination_type": "SILENT"}}
    return destinations.insert_destination(
        db,
        DestinationRead(
            destination_definition_id=DEV_NULL,
            destination_id=uuid.uuid4(),
            workspace_id=workspace_id or default_workspace_id(db),
            connection_configuration=config if config is not None else silent,
            name=name,
            destination_name="End-to-End Testing (/dev/null)",
            created_at=created_at,
        ),
        secret_paths,
    )


def catalog(*names: str) -> AirbyteCatalog:
    return AirbyteCatalog(
        streams=[
            AirbyteStreamAndConfiguration(
                stream=AirbyteStream(
                    name=name,
                    json_schema={"type": "object", "properties": {"id": {"type": "integer"}}},
                    supported_sync_modes=["full_refresh"],
                ),
                config=AirbyteStreamConfiguration(
                    sync_mode="full_refresh", destination_sync_mode="append", selected=True
                ),
            )
            for name in names
        ]
    )


def add_connection(
    db: Database,
    source: SourceRead | None = None,
    destination: DestinationRead | None = None,
    name: str = "Connection",
    status: str = "active",
    created_at: int = NOW,
    **fields: Any,
) -> ConnectionRead:
    """A connection (with a new source and destination unless given) syncing `users`."""
    model = connection_model(db, source, destination, name, status, created_at, **fields)
    return connections.insert_connection(db, model)


def connection_model(
    db: Database,
    source: SourceRead | None = None,
    destination: DestinationRead | None = None,
    name: str = "Connection",
    status: str = "active",
    created_at: int = NOW,
    **fields: Any,
) -> ConnectionRead:
    """What `add_connection` stores, not stored (its source and destination are)."""
    source = source or add_source(db)
    destination = destination or add_destination(db, source.workspace_id)
    values: dict[str, Any] = {
        "connection_id": uuid.uuid4(),
        "name": name,
        "source_id": source.source_id,
        "destination_id": destination.destination_id,
        "workspace_id": source.workspace_id,
        "status": status,
        "sync_catalog": catalog("users"),
        "sync_schema": SourceSchema(streams=[]),
        "schedule_type": "manual",
        "namespace_definition": "source",
        "operation_ids": [],
        "breaking_change": False,
        "created_at": created_at,
        "schedule": None,
        "sync_mode": "full_refresh",
        **fields,
    }
    return ConnectionRead(**values)


def add_old_connection(db: Database, name: str, source: SourceRead | None = None) -> ConnectionRead:
    """A connection row as versions before m017 wrote it (no `name` column), for tests of
    databases migrated only that far."""
    model = connection_model(db, name=name, source=source)
    documents.insert_doc(
        db,
        "connections",
        str(model.connection_id),
        model,
        workspace_id=str(model.workspace_id),
        source_id=str(model.source_id),
        destination_id=str(model.destination_id),
        status=model.status,
        created_at=model.created_at,
    )
    return model


def database_before(path: Path, migration: Callable[[Database], None]) -> Database:
    """A database file as the versions before `migration` left it (the migrations before it
    applied), with its secret key unlocked."""
    before = MIGRATIONS[: MIGRATIONS.index(migration)]
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    db = Database(conn)
    original = list(store_db.MIGRATIONS)
    store_db.MIGRATIONS[:] = before
    try:
        store_db.migrate(db)
    finally:
        store_db.MIGRATIONS[:] = original
    secret_box.bind(db, "", path.parent)
    secret_box.unlock(db)
    return db
