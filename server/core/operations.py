"""Operations (Airbyte's custom transformations): Sluice runs none, and lists those a
connection or a workspace names (clients such as Dagster ask for every connection)."""

from __future__ import annotations

import uuid

from sqlite_utils import Database

from server.context import Context
from server.core.errors import InvalidInput
from server.models.operations import OperationRead
from server.store import connections, workspaces
from server.store import operations as store


async def list_operations(
    ctx: Context, connection_id: uuid.UUID | None, workspace_id: uuid.UUID | None
) -> list[OperationRead]:
    """A connection's operations, else a workspace's; one of the two ids is required."""

    def read(db: Database) -> list[OperationRead]:
        if connection_id is not None:
            connection = connections.get_connection(db, str(connection_id))
            return store.list_operations(db, map(str, connection.operation_ids))
        if workspace_id is not None:
            workspaces.get_workspace(db, str(workspace_id))
            return store.list_operations_for_workspace(db, str(workspace_id))
        raise InvalidInput(
            "connectionId (or workspaceId) is required", property_path="connectionId"
        )

    return await ctx.store.read(read)
