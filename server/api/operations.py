"""Operation endpoints (tag: operation). Only `operations/list` for now: clients (Dagster)
call it for every connection and accept an empty list. Wire model in, one core call
(`server.core.operations`), wire model out."""

from __future__ import annotations

from server.context import Context
from server.core import operations as core
from server.models.operations import OperationListRequestBody, OperationReadList


async def list_operations_for_connection(
    body: OperationListRequestBody, ctx: Context
) -> OperationReadList:
    operations = await core.list_operations(ctx, body.connection_id, body.workspace_id)
    return OperationReadList(operations=operations)


handlers = [list_operations_for_connection]
