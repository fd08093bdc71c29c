"""Rewrites of stored documents: secret paths (m007), always-sent fields (m008),
credentials (m009), the secret key check (m010), unusable resource quantities (m011)."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlite_utils import Database

from server.store.migrations.base import log, run_script
from server.store.pg import is_postgres


def m007_secret_paths(db: Database) -> None:
    """Each source's and destination's secret paths (JSON list of key lists, null for any key
    or array item), as named by the spec its configuration was validated with: replies are
    masked by them even when that spec can no longer be fetched. NULL: not known (rows older
    than this migration), and then every leaf value is masked."""
    db.execute("ALTER TABLE sources ADD COLUMN secret_paths TEXT")
    db.execute("ALTER TABLE destinations ADD COLUMN secret_paths TEXT")


def m008_always_sent_fields(db: Database) -> None:
    """Fields replies now always carry, filled in for rows stored before: a workspace's
    `organizationId` (Airbyte's default organization) and `onboardingComplete` (done where
    setup was), and a connection's 2020 `schedule` (null when not set) and `syncMode` (the
    stored JSON is sent as it is).

    Not on PostgreSQL: it is supported from a later version, so no document there predates
    these fields (and the rewrite is SQLite's JSON functions)."""
    if is_postgres(db):
        return
    db.execute(
        """UPDATE workspaces SET data = json_set(data,
            '$.organizationId', coalesce(json_extract(data, '$.organizationId'),
                '00000000-0000-0000-0000-000000000000'),
            '$.onboardingComplete', json(CASE WHEN coalesce(
                json_extract(data, '$.onboardingComplete'),
                json_extract(data, '$.initialSetupComplete')) THEN 'true' ELSE 'false' END))"""
    )
    db.execute(
        "UPDATE connections SET data = json_set(data, '$.schedule', json('null')) "
        "WHERE json_type(data, '$.schedule') IS NULL"
    )
    db.execute(
        "UPDATE connections SET data = json_set(data, '$.syncMode', 'full_refresh') "
        "WHERE json_type(data, '$.syncMode') IS NULL"
    )


def m009_credentials(db: Database) -> None:
    """Applications (client id + scrypt hash of the secret) and API keys (SHA-256 of the key).

    A workspace-scoped credential goes with its workspace (foreign-key cascade).
    """
    run_script(
        db,
        """
        CREATE TABLE applications (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            client_id TEXT NOT NULL UNIQUE,
            secret_hash TEXT NOT NULL,
            workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            digest TEXT NOT NULL UNIQUE,
            workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            last_used_at INTEGER,
            revoked_at INTEGER
        )
        """,
    )


def m010_secret_key_check(db: Database) -> None:
    """A token of a known text, sealed with the secret key (see `store/secret_box.py`): a key
    that does not open it is refused at start-up. The secrets already stored in clear are
    sealed at start-up, not here: a migration does not know the key."""
    db.execute(
        "CREATE TABLE secret_key_check ("
        "id INTEGER PRIMARY KEY CHECK (id = 1), token TEXT NOT NULL, created_at INTEGER NOT NULL)"
    )


# The quantity rule as this migration shipped (a migration never changes with the rule it
# applies; the live rule is server/quantities.py).
_POSITIVE = r"(0*[1-9][0-9]*(\.[0-9]+)?|[0-9]*\.[0-9]*[1-9][0-9]*)"
CPU_PATTERN = rf"^{_POSITIVE}m?$"
MEMORY_PATTERN = rf"^{_POSITIVE}(Ki|Mi|Gi|Ti|Pi|kb|mb|gb|K|M|G|T|P|b|k|m|g|t)?$"
_QUANTITIES = {
    "cpu_request": CPU_PATTERN,
    "cpu_limit": CPU_PATTERN,
    "memory_request": MEMORY_PATTERN,
    "memory_limit": MEMORY_PATTERN,
}


def _drop_bad_quantities(requirements: Any, where: str) -> bool:
    """Remove the values of one `resourceRequirements` object that are not quantities."""
    changed = False
    if isinstance(requirements, dict):
        for name, pattern in _QUANTITIES.items():
            value = requirements.get(name)
            if value is not None and not (isinstance(value, str) and re.match(pattern, value)):
                log.warning("Dropped %s %s=%r: not a resource quantity", where, name, value)
                del requirements[name]
                changed = True
    return changed


def m011_drop_bad_quantities(db: Database) -> None:
    """Resource quantities are validated since this version (`512Mi`, `0.5`); a value stored
    before (`"lots"`) would make the row fail to decode on every read. Such values are dropped
    (the connector then runs with the engine's defaults), each with a warning in the log."""
    for table in ("connections", "source_definitions", "destination_definitions"):
        for key, data in db.execute(f"SELECT rowid, data FROM {table}").fetchall():
            doc = json.loads(data)
            requirements = doc.get("resourceRequirements")
            where = f"{table} row {key}:"
            if table == "connections":
                changed = _drop_bad_quantities(requirements, where)
            else:
                requirements = requirements if isinstance(requirements, dict) else {}
                changed = _drop_bad_quantities(requirements.get("default"), where)
                for job in requirements.get("jobSpecific") or []:
                    if isinstance(job, dict):
                        job_where = f"{where} {job.get('jobType')}"
                        changed |= _drop_bad_quantities(job.get("resourceRequirements"), job_where)
            if changed:
                db.execute(f"UPDATE {table} SET data = ? WHERE rowid = ?", [json.dumps(doc), key])
