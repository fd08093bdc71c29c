"""Numbered schema migrations, applied in list order at start-up (see `db.migrate`).

Each resource table keeps the columns that are looked up or joined on, and the rest of the
object as one JSON document in `data`, decoded straight into its msgspec model. Append new
migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

log = logging.getLogger("sluice.store")


def run_script(db: Database, script: str) -> None:
    """Run `;`-separated DDL inside the caller's transaction (`executescript` would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def m001_configuration(db: Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE workspaces (
            id TEXT PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE source_definitions (
            id TEXT PRIMARY KEY,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE destination_definitions (
            id TEXT PRIMARY KEY,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
            definition_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX sources_workspace ON sources(workspace_id, created_at);
        CREATE TABLE destinations (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
            definition_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX destinations_workspace ON destinations(workspace_id, created_at);
        CREATE TABLE connections (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
            source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            destination_id TEXT NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX connections_workspace ON connections(workspace_id, created_at);
        CREATE INDEX connections_source ON connections(source_id);
        CREATE INDEX connections_destination ON connections(destination_id);
        CREATE TABLE operations (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        """,
    )


def m002_default_workspace(db: Database) -> None:
    """A fresh install has exactly one workspace, as Airbyte's has (clients look it up)."""
    from server.models.workspaces import DEFAULT_ORGANIZATION_ID, WorkspaceRead
    from server.store.workspaces import insert_workspace

    insert_workspace(
        db,
        WorkspaceRead(
            workspace_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            name="Default Workspace",
            slug="default",
            initial_setup_complete=True,
            onboarding_complete=True,
            organization_id=DEFAULT_ORGANIZATION_ID,
            display_setup_wizard=False,
            anonymous_data_collection=False,
            news=False,
            security_updates=False,
            notifications=[],
        ),
    )


def m003_seed_definitions(db: Database) -> None:
    """The connector definitions a fresh install offers (see `store.definitions`)."""
    from server.store.definitions import seed_definitions

    seed_definitions(db)


def m004_jobs(db: Database) -> None:
    """Sync jobs, their attempts, and each connection's committed state.

    Jobs belong to a connection (`config_id`) and go with it. At most one job per connection is
    pending, running or incomplete; the partial unique index makes that a database rule, so two
    requests racing to start a sync cannot both win.
    """
    run_script(
        db,
        """
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            config_type TEXT NOT NULL,
            config_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN
                ('pending', 'running', 'incomplete', 'failed', 'succeeded', 'cancelled')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            started_at INTEGER,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            streams TEXT,
            enabled_streams TEXT
        );
        CREATE INDEX jobs_config ON jobs(config_id, id);
        CREATE INDEX jobs_due ON jobs(status, next_attempt_at);
        CREATE UNIQUE INDEX jobs_one_active ON jobs(config_id)
            WHERE status IN ('pending', 'running', 'incomplete');
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            attempt_number INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'failed', 'succeeded')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            ended_at INTEGER,
            records_emitted INTEGER NOT NULL DEFAULT 0,
            bytes_emitted INTEGER NOT NULL DEFAULT 0,
            records_committed INTEGER NOT NULL DEFAULT 0,
            bytes_committed INTEGER NOT NULL DEFAULT 0,
            state_messages_emitted INTEGER NOT NULL DEFAULT 0,
            estimated_records INTEGER,
            estimated_bytes INTEGER,
            stream_stats TEXT NOT NULL DEFAULT '[]',
            failure_summary TEXT,
            log_path TEXT NOT NULL,
            processes TEXT NOT NULL DEFAULT '[]',
            UNIQUE (job_id, attempt_number)
        );
        CREATE TABLE connection_state (
            connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
            state TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );
        """,
    )


def m005_connector_cache(db: Database) -> None:
    """Specs per connector version, and discovered catalogs per source configuration.

    `discovered_catalogs` holds each distinct catalog once (its id is a connection's
    `sourceCatalogId`); `discover_cache` maps a configuration's hash to its latest catalog.
    """
    run_script(
        db,
        """
        CREATE TABLE connector_specs (
            key TEXT PRIMARY KEY,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE discovered_catalogs (
            id TEXT PRIMARY KEY,
            catalog_hash TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE discover_cache (
            config_hash TEXT PRIMARY KEY,
            catalog_id TEXT NOT NULL REFERENCES discovered_catalogs(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL
        );
        """,
    )


def m006_schedules(db: Database) -> None:
    """What the scheduler needs: each connection's schedule fields, and its last cron slot.

    `connection_schedules` mirrors `status`, `scheduleType`, `scheduleData` and `schedule` of
    every connection; triggers keep it in step within the writing transaction, so the
    scheduler's one-second tick reads these small rows instead of every connection document.
    `schedule_runs` is the scheduler's own record (see `store.schedules`).
    """
    run_script(
        db,
        """
        CREATE TABLE connection_schedules (
            connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
            status TEXT NOT NULL,
            schedule_type TEXT,
            schedule_data TEXT,
            schedule TEXT
        );
        CREATE TABLE schedule_runs (
            connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
            schedule_key TEXT NOT NULL,
            last_slot INTEGER NOT NULL,
            job_id INTEGER,
            updated_at INTEGER NOT NULL
        );
        INSERT INTO connection_schedules
            SELECT id, status, json_extract(data, '$.scheduleType'),
                json_extract(data, '$.scheduleData'), json_extract(data, '$.schedule')
            FROM connections
        """,
    )
    # Trigger bodies hold `;`, so they are not split by run_script.
    mirror = """
        INSERT OR REPLACE INTO connection_schedules VALUES (NEW.id, NEW.status,
            json_extract(NEW.data, '$.scheduleType'), json_extract(NEW.data, '$.scheduleData'),
            json_extract(NEW.data, '$.schedule'));
    """
    db.execute(
        f"CREATE TRIGGER connections_schedule_insert AFTER INSERT ON connections BEGIN {mirror} END"
    )
    db.execute(
        f"CREATE TRIGGER connections_schedule_update AFTER UPDATE OF status, data "
        f"ON connections BEGIN {mirror} END"
    )


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
    stored JSON is sent as it is)."""
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


def m012_definition_foreign_keys(db: Database) -> None:
    """Sources and destinations reference their definitions: a row cannot name a definition
    that does not exist, and deleting a definition deletes what is built on it (ON DELETE
    CASCADE, as `delete_*_definition` already did by hand), through a new index.

    SQLite adds a foreign key only by rebuilding the table (create, copy, drop, rename). It
    runs with foreign-key enforcement off (see `FOREIGN_KEYS_OFF`): dropping the old table
    with it on would cascade into connections and their jobs. Every row is copied as it is; a
    row whose definition is already gone (none should be: deleting a definition deleted them)
    is kept, with a warning, rather than taking its connections and history with it."""
    for table, parent in (
        ("sources", "source_definitions"),
        ("destinations", "destination_definitions"),
    ):
        orphans = db.execute(
            f"SELECT count(*) FROM {table} WHERE definition_id NOT IN (SELECT id FROM {parent})"
        ).fetchone()[0]
        if orphans:
            log.warning("%d %s name a definition that does not exist; kept", orphans, table)
        columns = "id, workspace_id, definition_id, created_at, data, secret_paths"
        run_script(
            db,
            f"""
            CREATE TABLE {table}_rebuilt (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                definition_id TEXT NOT NULL REFERENCES {parent}(id) ON DELETE CASCADE,
                created_at INTEGER NOT NULL,
                data TEXT NOT NULL,
                secret_paths TEXT
            );
            INSERT INTO {table}_rebuilt ({columns}) SELECT {columns} FROM {table} ORDER BY rowid;
            DROP TABLE {table};
            ALTER TABLE {table}_rebuilt RENAME TO {table};
            CREATE INDEX {table}_workspace ON {table}(workspace_id, created_at);
            CREATE INDEX {table}_definition ON {table}(definition_id)
            """,
        )


# Migrations that rebuild a table others reference: `db.migrate` runs them with foreign-key
# enforcement off (a DROP TABLE would cascade otherwise) and checks the keys before commit.
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
]
