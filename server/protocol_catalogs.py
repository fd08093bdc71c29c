"""Moved to `server.core.catalogs`; this name stays until its last importers move."""

from server.core.catalogs import configured_catalog

__all__ = ["configured_catalog"]
