"""Numbered schema migrations, applied in list order at start-up (see `db.migrate`).

Each resource table keeps the columns that are looked up or joined on, and the rest of the
object as one JSON document in `data`, decoded straight into its msgspec model. Append new
migrations at the end; never edit one that has shipped.

One module per group (tables, seeds, rewrites of stored documents, foreign keys); MIGRATIONS
below is the order they run in.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

from server.store.migrations.base import run_script
from server.store.migrations.cluster import m018_worker_leases
from server.store.migrations.connection_names import m017_connection_names
from server.store.migrations.documents import (
    m007_secret_paths,
    m008_always_sent_fields,
    m009_credentials,
    m010_secret_key_check,
    m011_drop_bad_quantities,
)
from server.store.migrations.files import m013_files
from server.store.migrations.foreign_keys import m012_definition_foreign_keys
from server.store.migrations.notifications import m014_notifications, m015_catalog_diffs
from server.store.migrations.seeds import m002_default_workspace, m003_seed_definitions
from server.store.migrations.sessions import m016_ui_sessions
from server.store.migrations.tables import (
    m001_configuration,
    m004_jobs,
    m005_connector_cache,
    m006_schedules,
)

__all__ = [
    "FOREIGN_KEYS_OFF",
    "MIGRATIONS",
    "m001_configuration",
    "m002_default_workspace",
    "m003_seed_definitions",
    "m004_jobs",
    "m005_connector_cache",
    "m006_schedules",
    "m007_secret_paths",
    "m008_always_sent_fields",
    "m009_credentials",
    "m010_secret_key_check",
    "m011_drop_bad_quantities",
    "m012_definition_foreign_keys",
    "m013_files",
    "m014_notifications",
    "m015_catalog_diffs",
    "m016_ui_sessions",
    "m017_connection_names",
    "m018_worker_leases",
    "run_script",
]

FOREIGN_KEYS_OFF = {"m012_definition_foreign_keys"}


MIGRATIONS: list[Callable[[Database], None]] = [
    m001_configuration,
    m002_default_workspace,
    m003_seed_definitions,
    m004_jobs,
    m005_connector_cache,
    m006_schedules,
    m007_secret_paths,
    m008_always_sent_fields,
    m009_credentials,
    m010_secret_key_check,
    m011_drop_bad_quantities,
    m012_definition_foreign_keys,
    m013_files,
    m014_notifications,
    m015_catalog_diffs,
    m016_ui_sessions,
    m017_connection_names,
    m018_worker_leases,
]
