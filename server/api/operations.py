"""Operation endpoints (tag: operation). Only `operations/list` for now: clients (Dagster)
call it for every connection and accept an empty list."""

from __future__ import annotations

from sqlite_utils import Database

from server.context import Context
from server.errors import InvalidInput
from server.models.operations import OperationListRequestBody, OperationRead, OperationReadList
from server.store import connections, workspaces
from server.store import operations as store


async def list_operations_for_connection(
    body: OperationListRequestBody, ctx: Context
) -> OperationReadList:
    def read(db: Database) -> list[OperationRead]:
        if body.connection_id is not None:
            connection = connections.get_connection(db, str(body.connection_id))
            return store.list_operations(db, map(str, connection.operation_ids))
        if body.workspace_id is not None:
            workspaces.get_workspace(db, str(body.workspace_id))
            return store.list_operations_for_workspace(db, str(body.workspace_id))
        raise InvalidInput(
            "connectionId (or workspaceId) is required", property_path="connectionId"
        )

    return OperationReadList(operations=await ctx.store.read(read))


handlers = [list_operations_for_connection]
