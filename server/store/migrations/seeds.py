"""The rows every database starts with: the default workspace (m002), the connector
definitions (m003)."""

from __future__ import annotations

import uuid

from sqlite_utils import Database


def m002_default_workspace(db: Database) -> None:
    """A fresh install has exactly one workspace, as Airbyte's has (clients look it up)."""
    from server.models.workspaces import DEFAULT_ORGANIZATION_ID, WorkspaceRead
    from server.store.workspaces import insert_workspace

    insert_workspace(
        db,
        WorkspaceRead(
            workspace_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            name="Default Workspace",
            slug="default",
            initial_setup_complete=True,
            onboarding_complete=True,
            organization_id=DEFAULT_ORGANIZATION_ID,
            display_setup_wizard=False,
            anonymous_data_collection=False,
            news=False,
            security_updates=False,
            notifications=[],
        ),
    )


def m003_seed_definitions(db: Database) -> None:
    """The connector definitions a fresh install offers (see `store.definitions`)."""
    from server.store.definitions import seed_definitions

    seed_definitions(db)
