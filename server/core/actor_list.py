"""The sources and destinations lists as the web UI shows them: a page of names, connectors
and creation times, and the total, in one store read (`server.store.actor_list`): a list page
opens no configuration, so it costs the same with 10 actors as with 10,000."""

from __future__ import annotations

import uuid

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.store import workspaces
from server.store.actor_list import ActorKind, list_actor_rows

MAX_PAGE = 200


class ActorSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    connector: str
    created_at: int


class ActorPage(msgspec.Struct, frozen=True, kw_only=True):
    rows: list[ActorSummary]
    total: int


async def list_actor_summaries(
    ctx: Context,
    kind: ActorKind,
    workspace_id: uuid.UUID,
    name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ActorPage:
    """A page of the workspace's sources or destinations (404 for an unknown workspace)."""
    limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)

    def read(db: Database) -> ActorPage:
        workspaces.get_workspace(db, str(workspace_id))
        rows, total = list_actor_rows(db, kind, str(workspace_id), name, limit, offset)
        return ActorPage(rows=[ActorSummary(**row._asdict()) for row in rows], total=total)

    return await ctx.store.read(read)
