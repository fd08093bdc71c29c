"""Whether the server can serve: its database answers. Both APIs' health checks ask this."""

from __future__ import annotations

from sqlite_utils import Database

from server.context import Context


def _ping(db: Database) -> bool:
    return bool(db.execute("SELECT 1").fetchone() == (1,))


async def database_answers(ctx: Context) -> bool:
    try:
        return await ctx.store.read(_ping)
    except Exception:
        # Any failure to read is the answer "no", which the health reply reports.
        return False
