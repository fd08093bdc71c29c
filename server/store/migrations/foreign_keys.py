"""Foreign keys from sources and destinations to their definitions (m012)."""

from __future__ import annotations

from sqlite_utils import Database

from server.store.migrations.base import log, run_script
from server.store.pg import is_postgres


def m012_definition_foreign_keys(db: Database) -> None:
    """Sources and destinations reference their definitions: a row cannot name a definition
    that does not exist, and deleting a definition deletes what is built on it (ON DELETE
    CASCADE, as `delete_*_definition` already did by hand), through a new index.

    SQLite adds a foreign key only by rebuilding the table (create, copy, drop, rename). It
    runs with foreign-key enforcement off (see `FOREIGN_KEYS_OFF`): dropping the old table
    with it on would cascade into connections and their jobs. Every row is copied as it is; a
    row whose definition is already gone (none should be: deleting a definition deleted them)
    is kept, with a warning, rather than taking its connections and history with it.

    PostgreSQL adds a foreign key in place (its database starts at a later version, so no
    row there can dangle)."""
    if is_postgres(db):
        for table, parent in (
            ("sources", "source_definitions"),
            ("destinations", "destination_definitions"),
        ):
            run_script(
                db,
                f"""
                ALTER TABLE {table} ADD FOREIGN KEY (definition_id)
                    REFERENCES {parent}(id) ON DELETE CASCADE;
                CREATE INDEX {table}_definition ON {table}(definition_id)
                """,
            )
        return
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
