"""Connection endpoints (tag: connection): wire model in, one core call, wire model out.

The rules (ends in one workspace, catalogs in either shape, schedules, operations) are the
core's, `server.core.connections`. Stored connections are complete replies, so get and list
send the stored JSON as it is.
"""

from __future__ import annotations

from typing import TypeVar, cast

import msgspec

from server.context import Context
from server.core import connections as core
from server.core.connections import finish  # noqa: F401  (scripts/bench_api.py builds rows)
from server.models.connections import (
    ConnectionCreate,
    ConnectionIdRequestBody,
    ConnectionListRequestBody,
    ConnectionRead,
    ConnectionReadList,
    ConnectionUpdate,
)

M = TypeVar("M", bound=msgspec.Struct)


def stored_reply(data: bytes, model: type[M]) -> M:
    """Stored connections are complete replies (see `core.connections.finish`): send their
    JSON as it is rather than decode and encode it again. `rpc` sends a `msgspec.Raw`
    unchanged."""
    return cast(M, msgspec.Raw(data))


async def create_connection(body: ConnectionCreate, ctx: Context) -> ConnectionRead:
    fields = core.fields_of(body)
    return await core.create_connection(ctx, body.source_id, body.destination_id, fields)


async def get_connection(body: ConnectionIdRequestBody, ctx: Context) -> ConnectionRead:
    return stored_reply(await core.get_connection_json(ctx, body.connection_id), ConnectionRead)


async def list_connections_for_workspace(
    body: ConnectionListRequestBody, ctx: Context
) -> ConnectionReadList:
    documents = await core.list_connections_json(
        ctx, body.workspace_id, body.page_size, body.row_offset
    )
    return stored_reply(b'{"connections":[' + b",".join(documents) + b"]}", ConnectionReadList)


async def update_connection(body: ConnectionUpdate, ctx: Context) -> ConnectionRead:
    return await core.update_connection(ctx, body.connection_id, core.fields_of(body))


async def delete_connection(body: ConnectionIdRequestBody, ctx: Context) -> None:
    await core.delete_connection(ctx, body.connection_id)


handlers = [
    create_connection,
    get_connection,
    list_connections_for_workspace,
    update_connection,
    delete_connection,
]
