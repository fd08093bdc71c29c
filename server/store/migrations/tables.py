"""The tables: configuration (m001), jobs (m004), the connector cache (m005), schedules
(m006)."""

from __future__ import annotations

from sqlite_utils import Database

from server.store.migrations.base import run_script
from server.store.pg import is_postgres


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
    if is_postgres(db):
        _pg_schedule_triggers(db)
        return
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


def _pg_schedule_triggers(db: Database) -> None:
    """m006's triggers on PostgreSQL, where a trigger runs a function."""
    db.execute(
        """
        CREATE FUNCTION connections_schedule_mirror() RETURNS trigger AS $$
        BEGIN
            INSERT INTO connection_schedules
                (connection_id, status, schedule_type, schedule_data, schedule)
            VALUES (NEW.id, NEW.status, json_extract(NEW.data, '$.scheduleType'),
                json_extract(NEW.data, '$.scheduleData'), json_extract(NEW.data, '$.schedule'))
            ON CONFLICT (connection_id) DO UPDATE SET status = excluded.status,
                schedule_type = excluded.schedule_type, schedule_data = excluded.schedule_data,
                schedule = excluded.schedule;
            RETURN NEW;
        END
        $$ LANGUAGE plpgsql
        """
    )
    db.execute(
        "CREATE TRIGGER connections_schedule_insert AFTER INSERT ON connections "
        "FOR EACH ROW EXECUTE FUNCTION connections_schedule_mirror()"
    )
    db.execute(
        "CREATE TRIGGER connections_schedule_update AFTER UPDATE OF status, data ON connections "
        "FOR EACH ROW EXECUTE FUNCTION connections_schedule_mirror()"
    )
