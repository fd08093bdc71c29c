"""Keys under which the store caches what a connector told us (its spec, its catalogs).

The key names a connector version and the way it runs, which only the runner knows; the store
takes it as an opaque string (`store/connector_cache.py`), so it never imports the runner.
"""

from __future__ import annotations

from server.runner.base import ConnectorImage


def spec_key(connector: ConnectorImage) -> str:
    """One cache entry per connector version and way of running it."""
    if connector.runner == "process":
        return f"process:{connector.docker_image}:{' '.join(connector.command)}"
    return f"docker:{connector.docker_image}"
