"""destination-sqlite: typed tables in a local SQLite file (Airbyte's "Local SQLite").

One table per stream, named after the stream (`<namespace>_<stream>` when the stream has a
namespace: SQLite has no schemas). Records are decoded once with a per-stream msgspec Struct
(record_rows.py, one msgspec call per batch) and inserted with one prepared executemany per
batch, inside the transaction that the next state commits.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sluice_connectors.destination_core import Batch, BatchingDestination
from sluice_connectors.destination_tables import (
    ADDITIONAL,
    EXTRACTED_AT,
    GENERATION_ID,
    META,
    META_COLUMNS,
    RAW_ID,
    StreamConfig,
    quote,
    sanitize,
    uuid4_strings,
)
from sluice_connectors.entrypoint import ConfigError, main
from sluice_connectors.paths import resolve_local
from sluice_connectors.record_rows import RowBuilder

SQL_TYPES = {
    "string": "TEXT",
    "integer": "INTEGER",
    "number": "REAL",
    "boolean": "BOOLEAN",
    "json": "TEXT",  # JSON text; TEXT affinity keeps it as written
}
META_TYPES = {RAW_ID: "TEXT NOT NULL", EXTRACTED_AT: "TEXT NOT NULL", META: "TEXT NOT NULL"}
META_TYPES[GENERATION_ID] = "INTEGER"

SPEC: dict[str, Any] = {
    "documentationUrl": "https://docs.airbyte.com/integrations/destinations/sqlite",
    "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
    "supportsIncremental": True,
    "supportsDBT": False,
    "supportsNormalization": False,
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Destination Sqlite",
        "type": "object",
        "required": ["destination_path"],
        "additionalProperties": False,
        "properties": {
            "destination_path": {
                "type": "string",
                "title": "Destination Path",
                "description": "Path to the SQLite database file. It must start with /local/ "
                "(the local mount, Sluice's data root); the file is created there.",
                "example": "/local/sqlite.db",
            }
        },
    },
}


def database_path(config: dict[str, Any]) -> Path:
    setting = config.get("destination_path")
    if not isinstance(setting, str):
        raise ConfigError("destination_path must be a string such as /local/sqlite.db")
    path = resolve_local(setting)
    if path.is_dir():
        raise ConfigError(f"destination_path {config['destination_path']!r} is a directory")
    return path


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout = 30000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")  # a committed batch survives a power cut
    return db


def column_names(stream: StreamConfig) -> list[str]:
    return [*META_COLUMNS, *(c.name for c in stream.columns), ADDITIONAL]


def column_ddl(stream: StreamConfig) -> str:
    parts = [f"{quote(name)} {kind}" for name, kind in META_TYPES.items()]
    parts += [f"{quote(c.name)} {SQL_TYPES[c.kind]}" for c in stream.columns]
    parts.append(f"{quote(ADDITIONAL)} TEXT")
    return ", ".join(parts)


class SqliteTable:
    """One stream's table: where its batches go and how they are deduplicated."""

    def __init__(self, db: sqlite3.Connection, stream: StreamConfig) -> None:
        self.db = db
        self.stream = stream
        base = sanitize(f"{stream.namespace}_{stream.name}" if stream.namespace else stream.name)
        self.final = base
        self.target = f"{base}_airbyte_tmp" if stream.sync_mode == "overwrite" else base
        self.rows = RowBuilder(stream)
        names = column_names(stream)
        self.column_list = ", ".join(quote(n) for n in names)
        marks = ", ".join("?" * len(names))
        self.stage = f"{base}_airbyte_stage"
        into = f"temp.{quote(self.stage)}" if stream.primary_key else quote(self.target)
        self.insert = f"INSERT INTO {into} ({self.column_list}) VALUES ({marks})"

    def prepare(self) -> None:
        db, stream, target = self.db, self.stream, quote(self.target)
        if stream.sync_mode == "overwrite":
            db.execute(f"DROP TABLE IF EXISTS {target}")
        db.execute(f"CREATE TABLE IF NOT EXISTS {target} ({column_ddl(stream)})")
        existing = {row[1] for row in db.execute(f"PRAGMA table_info({target})")}
        for column in stream.columns:
            if column.name not in existing:
                kind = SQL_TYPES[column.kind]
                db.execute(f"ALTER TABLE {target} ADD COLUMN {quote(column.name)} {kind}")
        if ADDITIONAL not in existing and existing:
            db.execute(f"ALTER TABLE {target} ADD COLUMN {quote(ADDITIONAL)} TEXT")
        if stream.primary_key:
            keys = ", ".join(quote(k) for k in stream.primary_key)
            index = quote(f"{self.target}_airbyte_pk")
            db.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {target} ({keys})")
            db.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {quote(self.stage)} ({column_ddl(stream)})"
            )

    def write(self, batch: Batch) -> None:
        self.db.executemany(self.insert, self.rows.build(batch.lines, uuid4_strings(len(batch))))
        if self.stream.primary_key:
            self.merge()

    def merge(self) -> None:
        """Fold the staged batch into the table keeping one row per primary key: the newest
        cursor wins; equal or missing cursors fall back to arrival order (later wins)."""
        stage, target = f"temp.{quote(self.stage)}", quote(self.target)
        keys = [quote(k) for k in self.stream.primary_key]
        same_key = " AND ".join(f"t.{k} IS s.{k}" for k in keys)
        cursor = quote(self.stream.cursor) if self.stream.cursor else None
        order = f"{cursor} DESC NULLS LAST, rowid DESC" if cursor else "rowid DESC"
        older_wins = f"t.{cursor} IS NOT NULL AND (s.{cursor} IS NULL OR t.{cursor} > s.{cursor})"
        db = self.db
        db.execute(
            f"DELETE FROM {stage} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() "
            f"OVER (PARTITION BY {', '.join(keys)} ORDER BY {order}) AS n FROM {stage}) "
            f"WHERE n > 1)"
        )
        db.execute(
            f"DELETE FROM {target} WHERE rowid IN (SELECT t.rowid FROM {target} AS t "
            f"JOIN {stage} AS s ON {same_key} WHERE NOT ({older_wins if cursor else '0'}))"
        )
        db.execute(
            f"DELETE FROM {stage} AS s WHERE EXISTS (SELECT 1 FROM {target} AS t WHERE {same_key})"
        )
        db.execute(
            f"INSERT INTO {target} ({self.column_list}) "
            f"SELECT {self.column_list} FROM {stage} ORDER BY rowid"
        )
        db.execute(f"DELETE FROM {stage}")

    def swap(self) -> None:
        self.db.execute(f"DROP TABLE IF EXISTS {quote(self.final)}")
        self.db.execute(f"ALTER TABLE {quote(self.target)} RENAME TO {quote(self.final)}")

    def discard(self) -> None:
        self.db.execute(f"DROP TABLE IF EXISTS {quote(self.target)}")


class SqliteWriter:
    concurrent = False  # its per-row Python work would contend for the GIL
    arrow = False

    def __init__(self, path: Path, streams: list[StreamConfig]) -> None:
        self.db = connect(path)
        self.tables = {(s.namespace, s.name): SqliteTable(self.db, s) for s in streams}
        finals = [t.final for t in self.tables.values()]
        if len(set(finals)) != len(finals):
            raise ConfigError(f"two streams map to the same table name: {sorted(finals)}")
        self.db.execute("BEGIN IMMEDIATE")
        for table in self.tables.values():
            table.prepare()
        self.db.execute("COMMIT")

    def write(self, stream: StreamConfig, batch: Batch) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
        self.tables[(stream.namespace, stream.name)].write(batch)

    def commit(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def finish(self, streams: list[StreamConfig]) -> None:
        done = {(s.namespace, s.name) for s in streams}
        self.db.execute("BEGIN IMMEDIATE")
        for key, table in self.tables.items():
            if table.stream.sync_mode == "overwrite":
                table.swap() if key in done else table.discard()
        self.db.execute("COMMIT")

    def close(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.close()


class DestinationSqlite(BatchingDestination):
    def spec(self) -> dict[str, Any]:
        return SPEC

    def check(self, config: dict[str, Any]) -> None:
        db = connect(database_path(config))
        try:
            table = quote(f"_airbyte_connection_test_{uuid4_strings(1)[0][:8]}")
            db.execute(f"CREATE TABLE {table} (id INTEGER)")
            db.execute(f"INSERT INTO {table} VALUES (1)")
            db.execute(f"DROP TABLE {table}")
        finally:
            db.close()

    def open_writer(self, config: dict[str, Any], streams: list[StreamConfig]) -> SqliteWriter:
        return SqliteWriter(database_path(config), streams)


def run() -> None:
    main(DestinationSqlite)
