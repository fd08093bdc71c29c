"""Debug endpoints (tag: debug): the 2020 `debug/info`, and `GET debug` for people with curl."""

from __future__ import annotations

import platform
import sqlite3
from typing import Any

from sqlite_utils import Database

import server
from server.context import Context
from server.models.debug import DebugRead


def _counts(db: Database) -> dict[str, int]:
    tables = ["workspaces", "sources", "destinations", "connections"]
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


async def _info(ctx: Context) -> DebugRead:
    info: dict[str, Any] = {
        "version": server.__version__,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(terse=True),
        "objects": await ctx.store.read(_counts),
    }
    return DebugRead(info=info)


async def get_debug_info(ctx: Context) -> DebugRead:
    return await _info(ctx)


async def get_debug(ctx: Context) -> DebugRead:
    return await _info(ctx)


handlers = [get_debug_info, get_debug]
