"""The public API's stream modes <-> the config API's (syncMode, destinationSyncMode) pairs.

One table, read both ways. The config API can hold three pairs the public enum has no name
for; each is shown as the public mode nearest to it (same read, nearest write), never as an
unknown value, which the clients' enums would refuse. Sending that name back selects the named
pair, so such a connection changes only when a client changes its streams.
"""

from __future__ import annotations

from typing import get_args

from server.core.public_catalog import Mode
from server.models.public.connections import PublicSyncMode

PAIRS: dict[PublicSyncMode, Mode] = {
    "full_refresh_overwrite": ("full_refresh", "overwrite"),
    "full_refresh_overwrite_deduped": ("full_refresh", "overwrite_dedup"),
    "full_refresh_append": ("full_refresh", "append"),
    "full_refresh_update": ("full_refresh", "update"),
    "full_refresh_soft_delete": ("full_refresh", "soft_delete"),
    "incremental_append": ("incremental", "append"),
    "incremental_deduped_history": ("incremental", "append_dedup"),
    "incremental_update": ("incremental", "update"),
    "incremental_soft_delete": ("incremental", "soft_delete"),
}
_NAMES: dict[Mode, PublicSyncMode] = {pair: name for name, pair in PAIRS.items()}
_NEAREST: dict[Mode, PublicSyncMode] = {
    # A full refresh deduplicated into the kept table ends like a deduplicated overwrite.
    ("full_refresh", "append_dedup"): "full_refresh_overwrite_deduped",
    ("incremental", "overwrite"): "incremental_append",
    ("incremental", "overwrite_dedup"): "incremental_deduped_history",
}
assert set(PAIRS) == set(get_args(PublicSyncMode))


def pair_of(name: PublicSyncMode) -> Mode:
    return PAIRS[name]


def name_of(pair: Mode) -> PublicSyncMode:
    """The public name of a config-API pair: its own, else the nearest."""
    return _NAMES.get(pair) or _NEAREST.get(pair) or "full_refresh_overwrite"


def names_of(pairs: list[Mode]) -> list[PublicSyncMode]:
    """The public names of `pairs`, each once, in the public enum's order; only pairs with a
    name of their own (a nearest name is a stand-in, not something to offer)."""
    offered = {p for p in pairs if p in _NAMES}
    return [name for name, pair in PAIRS.items() if pair in offered]
