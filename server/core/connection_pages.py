"""Pages of connections across workspaces, for faces whose lists are not per workspace (the
public API's `GET /connections`): the named workspaces' connections (every workspace's when none
is named; a named workspace that does not exist has none), workspace by workspace in the order
the store lists workspaces, each workspace's oldest first.

Store round trips: one read per page, which decodes only the page's connections.
"""

from __future__ import annotations

import uuid

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.models.connections import ConnectionRead
from server.store import connections as store
from server.store import workspaces


class ConnectionPage(msgspec.Struct, frozen=True):
    connections: list[ConnectionRead]
    more: bool  # connections follow this page


def _page(db: Database, wanted: list[str], limit: int, offset: int) -> ConnectionPage:
    known = [str(w.workspace_id) for w in workspaces.list_workspaces(db)]
    order = [w for w in known if w in set(wanted)] if wanted else known
    enough = offset + limit + 1  # one more than the page tells whether another follows
    rows: list[bytes] = []
    for workspace_id in order:
        if len(rows) >= enough:
            break
        rows += store.list_connections_json(db, workspace_id, enough - len(rows), 0)
    page = rows[offset : offset + limit]
    decoded = [msgspec.json.decode(row, type=ConnectionRead) for row in page]
    return ConnectionPage(decoded, len(rows) > offset + limit)


async def list_connections_page(
    ctx: Context, workspace_ids: list[uuid.UUID], limit: int, offset: int
) -> ConnectionPage:
    return await ctx.store.read(_page, [str(w) for w in workspace_ids], limit, offset)
