"""A connection's stored schema change as a page shows it: the diff against the catalog its
source last discovered, each stream's change in words, and what Sluice did about it.

The rule is `server.core.schema_changes.current_changes`'s: the stored diff while the
connection's catalog is the one it was taken against, else the diff of its catalog now against
the same discovered catalog (no connector runs).
"""

from __future__ import annotations

import uuid

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.core import catalog_diff
from server.core.schema_changes import catalog_hash
from server.models.discover import SchemaChange, StreamTransform
from server.store import catalog_diffs
from server.store import connections as connection_store


class ChangeLine(msgspec.Struct, frozen=True, kw_only=True):
    text: str  # "Modified stream 'users': added fields ['email']"
    breaking: bool


class StoredChange(msgspec.Struct, frozen=True, kw_only=True):
    schema_change: SchemaChange
    lines: list[ChangeLine]
    detected_at: int
    action: str  # none, ignored, disabled, propagated, paused, detected
    reason: str | None = None


def _breaking(transform: StreamTransform) -> bool:
    update = transform.update_stream
    if update is None:
        return False
    return any(f.breaking for f in update.field_transforms) or any(
        a.breaking for a in update.stream_attribute_transforms
    )


def _read(db: Database, connection_id: str) -> StoredChange | None:
    stored = catalog_diffs.find_diff(db, connection_id)
    if stored is None:
        return None
    diff = stored.diff
    connection = connection_store.get_connection(db, connection_id)
    if stored.catalog_hash != catalog_hash(connection.sync_catalog):
        discovered = catalog_diffs.get_discovered(db, connection_id)
        if discovered is not None:
            diff = catalog_diff.catalog_diff(connection.sync_catalog, discovered)
    return StoredChange(
        schema_change=catalog_diff.schema_change(diff),
        lines=[
            ChangeLine(text=catalog_diff.describe(t), breaking=_breaking(t))
            for t in diff.transforms
        ],
        detected_at=stored.detected_at,
        action=stored.action,
        reason=stored.reason,
    )


async def stored_change(ctx: Context, connection_id: uuid.UUID) -> StoredChange | None:
    """The connection's schema change now; None when its catalog was never compared."""
    return await ctx.store.read(_read, str(connection_id))
