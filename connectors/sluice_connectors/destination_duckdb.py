"""destination-duckdb: typed tables in a local DuckDB file (Airbyte's "DuckDB").

The original RECORD lines reach DuckDB as Arrow string arrays, streamed into one statement per
stream and transaction (destination_duckdb_feed.py) that types them inside DuckDB
(`json_transform`, vectorised, multi-threaded) beside the reading loop, so the connector does
no per-record work beyond routing. Tables live in the configured `schema` (default `main`), or
in a schema named after the stream's namespace. Values that do not fit their column's type
become NULL and are listed in `_airbyte_meta.changes` (`DESTINATION_TYPECAST_ERROR`), judged
by the value's JSON type as the other destinations do; fields the schema does not declare are
kept in `_airbyte_additional_properties`: each row's keys are counted (`json_keys`, a second,
lighter parse) and the fields are extracted only from rows with more keys than declared values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sluice_connectors.destination_core import Batch, BatchingDestination
from sluice_connectors.destination_duckdb_feed import Feed
from sluice_connectors.destination_tables import (
    ADDITIONAL,
    EXTRACTED_AT,
    GENERATION_ID,
    META,
    RAW_ID,
    StreamConfig,
    json_encoder,
    quote,
    sanitize,
)
from sluice_connectors.entrypoint import ConfigError, main
from sluice_connectors.paths import resolve_local

SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "json": "JSON",
}
META_DDL = (
    f"{quote(RAW_ID)} VARCHAR NOT NULL, {quote(EXTRACTED_AT)} TIMESTAMPTZ NOT NULL, "
    f"{quote(META)} JSON NOT NULL, {quote(GENERATION_ID)} BIGINT"
)
SEQ = "_airbyte_seq"
CHANGE = "STRUCT(field VARCHAR, change VARCHAR, reason VARCHAR)"
CHECKED = ("integer", "number", "boolean")  # kinds whose values may not fit their column

SPEC: dict[str, Any] = {
    "documentationUrl": "https://docs.airbyte.com/integrations/destinations/duckdb",
    "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
    "supportsIncremental": True,
    "supportsDBT": False,
    "supportsNormalization": False,
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Destination Duckdb",
        "type": "object",
        "required": ["destination_path"],
        "additionalProperties": True,
        "properties": {
            "destination_path": {
                "type": "string",
                "title": "Destination DB",
                "description": "Path to the .duckdb file. It must start with /local/ (the "
                "local mount, Sluice's data root); the file is created there.",
                "examples": ["/local/destination.duckdb"],
            },
            "schema": {
                "type": "string",
                "title": "Destination Schema",
                "description": "Database schema for streams without a namespace; DuckDB's "
                "default is main.",
                "examples": ["main"],
            },
        },
    },
}


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:  # the optional extra is missing
        raise ConfigError("destination-duckdb needs duckdb: pip install duckdb") from exc
    return duckdb


def database_path(config: dict[str, Any]) -> Path:
    setting = config.get("destination_path")
    if not isinstance(setting, str):
        raise ConfigError("destination_path must be a string such as /local/destination.duckdb")
    if setting.startswith(("md:", "motherduck:")):
        raise ConfigError("MotherDuck databases are not supported: use a /local/... file")
    path = resolve_local(setting)
    if path.is_dir():
        raise ConfigError(f"destination_path {setting!r} is a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckdbTable:
    def __init__(self, stream: StreamConfig, schema: str, position: int) -> None:
        self.stream = stream
        self.schema = schema
        self.final = sanitize(stream.name)
        overwrite = stream.sync_mode == "overwrite"
        self.table = f"{self.final}_airbyte_tmp" if overwrite else self.final
        self.target = f"{quote(schema)}.{quote(self.table)}"
        self.stage = quote(f"_airbyte_stage_{position}")
        names = [RAW_ID, EXTRACTED_AT, META, GENERATION_ID]
        names += [c.name for c in stream.columns] + [ADDITIONAL]
        self.column_list = ", ".join(quote(n) for n in names)
        self.insert_sql = self._insert_sql()

    def column_ddl(self) -> str:
        typed = [f"{quote(c.name)} {SQL_TYPES[c.kind]}" for c in self.stream.columns]
        return ", ".join([META_DDL, *typed, f"{quote(ADDITIONAL)} JSON"])

    def prepare(self, db: Any) -> None:
        db.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema)}")
        if self.stream.sync_mode == "overwrite":
            db.execute(f"DROP TABLE IF EXISTS {self.target}")
        db.execute(f"CREATE TABLE IF NOT EXISTS {self.target} ({self.column_ddl()})")
        existing = {
            row[0]
            for row in db.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [self.schema, self.table],
            ).fetchall()
        }
        for column in self.stream.columns:
            if column.name not in existing:
                kind = SQL_TYPES[column.kind]
                db.execute(f"ALTER TABLE {self.target} ADD COLUMN {quote(column.name)} {kind}")
        if ADDITIONAL not in existing:
            db.execute(f"ALTER TABLE {self.target} ADD COLUMN {quote(ADDITIONAL)} JSON")
        if self.stream.primary_key:
            db.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {self.stage} AS "
                f"SELECT *, 0::BIGINT AS {SEQ} FROM {self.target} LIMIT 0"
            )

    def _insert_sql(self) -> str:
        """One statement: type the staged lines with json_transform (one parse per line) and
        insert them (into the stage when the stream is deduplicated). Integer, number and
        boolean values come out as their JSON text and are cast here by their JSON type (DuckDB's
        own casts would take "yes" for true, "123" for 123 and round 1.5 to 2), so a value
        that does not fit is known without parsing the line again. The costly parts sit in
        CASE branches that DuckDB evaluates only for the rows that need them."""
        stream = self.stream
        checked = {i for i, c in enumerate(stream.columns) if c.kind in CHECKED}
        change_type = {"field": "VARCHAR", "change": "VARCHAR", "reason": "VARCHAR"}
        data = {
            c.name: "JSON" if i in checked else SQL_TYPES[c.kind]
            for i, c in enumerate(stream.columns)
        }
        structure = {
            "record": {"emitted_at": "BIGINT", "meta": {"changes": [change_type]}, "data": data}
        }
        field = [f"r.data.{quote(c.name)}" for c in stream.columns]
        # Level b: each checked value's JSON text (j<i>; NULL for null or missing), and an
        # integer's cast (which rounds fractions: checked against the text in level c).
        texts = "".join(f", {field[i]}::VARCHAR AS j{i}" for i in sorted(checked))
        texts += "".join(
            f", TRY_CAST(j{i} AS BIGINT) AS i{i}"
            for i, c in enumerate(stream.columns)
            if c.kind == "integer"
        )
        typed = []
        for i, c in enumerate(stream.columns):
            j = f"j{i}"
            if c.kind == "integer":
                f = f"TRY_CAST({j} AS DOUBLE)"
                typed.append(
                    f"CASE WHEN i{i}::VARCHAR = {j} THEN i{i} WHEN {f} = trunc({f}) "
                    f"AND {f} >= -9223372036854775808.0 AND {f} < 9223372036854775808.0 "
                    f"THEN {f}::BIGINT END"
                )
            elif c.kind == "number":
                typed.append(f"TRY_CAST({j} AS DOUBLE)")
            elif c.kind == "boolean":
                typed.append(f"CASE {j} WHEN 'true' THEN true WHEN 'false' THEN false END")
            else:
                typed.append(field[i])
        value = [f"t{i}" for i in range(len(typed))]
        bad_names = [
            f"CASE WHEN t{i} IS NULL AND j{i} IS NOT NULL THEN {literal(c.name)} END"
            for i, c in enumerate(stream.columns)
            if i in checked
        ]
        bad = f"[f FOR f IN [{', '.join(bad_names)}] IF f IS NOT NULL]" if bad_names else "[]"
        sync_id = str(int(stream.sync_id)) if stream.sync_id is not None else "NULL"
        generation = str(int(stream.generation_id)) if stream.generation_id is not None else "NULL"
        typecast = "{'field': f, 'change': 'NULLED', 'reason': 'DESTINATION_TYPECAST_ERROR'}"
        meta = (
            f"to_json({{'changes': list_concat(COALESCE(r.meta.changes, []::{CHANGE}[]), "
            f"[{typecast} FOR f IN {bad}]::{CHANGE}[]), 'sync_id': {sync_id}::BIGINT}})"
        )
        clean = " AND ".join(
            ["r.meta IS NULL", *(f"(t{i} IS NOT NULL OR j{i} IS NULL)" for i in sorted(checked))]
        )
        meta = f"CASE WHEN {clean} THEN {literal(stream.default_meta)}::JSON ELSE {meta} END"
        # Undeclared fields: only when the object has more keys than declared values came out.
        removed = json_encoder.encode({c.name: None for c in stream.columns}).decode()
        present = [f"j{i}" if i in checked else f"t{i}" for i in range(len(typed))]
        count = " + ".join(f"({v} IS NOT NULL)::INTEGER" for v in present) or "0"
        extra = (
            f"CASE WHEN len(json_keys(line, '$.record.data')) > {count} THEN "
            f"NULLIF(json_merge_patch(line->'$.record.data', {literal(removed)}), '{{}}'::JSON) "
            f"END"
        )
        into = self.stage if stream.primary_key else self.target
        seq_column, seq_value = (f", {quote(SEQ)}", ", seq") if stream.primary_key else ("", "")
        seq = "seq, " if stream.primary_key else ""
        order = " ORDER BY seq" if stream.primary_key else ""  # else DuckDB keeps arrival order
        passed = "".join(f", j{i}" for i in sorted(checked))
        level_c = "".join(f", {t} AS t{i}" for i, t in enumerate(typed))
        return (
            f"INSERT INTO {into} ({self.column_list}{seq_column}) "
            f"SELECT uuid()::VARCHAR, COALESCE(to_timestamp(r.emitted_at / 1000), now()), "
            f"{meta}, {generation}::BIGINT, {''.join(v + ', ' for v in value)}{extra}{seq_value} "
            f"FROM (SELECT {seq}line, r{passed}{level_c} FROM (SELECT {seq}line, r{texts} "
            f"FROM (SELECT {seq}line, json_transform(line, "
            f"{literal(json_encoder.encode(structure).decode())}).record AS r "
            f"FROM batch_lines))){order}"
        )

    def merge(self, db: Any) -> None:
        """One row per primary key: the newest cursor wins; equal or missing cursors fall back
        to arrival order (later wins). A NULL key matches nothing, so such rows are kept."""
        keys = [quote(k) for k in self.stream.primary_key]
        cursor = quote(self.stream.cursor) if self.stream.cursor else None
        same_key = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        order = f"{cursor} DESC NULLS LAST, {SEQ} DESC" if cursor else f"{SEQ} DESC"
        older_wins = (
            f"t.{cursor} IS NOT NULL AND (s.{cursor} IS NULL OR t.{cursor} > s.{cursor})"
            if cursor
            else "false"
        )
        stage, target = self.stage, self.target
        db.execute(
            f"DELETE FROM {stage} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() "
            f"OVER (PARTITION BY {', '.join(keys)} ORDER BY {order}) AS n FROM {stage} "
            f"WHERE {not_null}) WHERE n > 1)"
        )
        db.execute(
            f"DELETE FROM {target} AS t USING {stage} AS s WHERE {same_key} AND NOT ({older_wins})"
        )
        db.execute(f"DELETE FROM {stage} AS s USING {target} AS t WHERE {same_key}")
        db.execute(
            f"INSERT INTO {target} ({self.column_list}) "
            f"SELECT {self.column_list} FROM {stage} ORDER BY {SEQ}"
        )
        db.execute(f"DELETE FROM {stage}")

    def swap(self, db: Any) -> None:
        db.execute(f"DROP TABLE IF EXISTS {quote(self.schema)}.{quote(self.final)}")
        db.execute(f"ALTER TABLE {self.target} RENAME TO {quote(self.final)}")

    def discard(self, db: Any) -> None:
        db.execute(f"DROP TABLE IF EXISTS {self.target}")


class DuckdbWriter:
    concurrent = True  # DuckDB runs a statement without the GIL: load while the loop reads
    arrow = True

    def __init__(self, path: Path, config: dict[str, Any], streams: list[StreamConfig]) -> None:
        schema = config.get("schema") or "main"
        if not isinstance(schema, str):
            raise ConfigError("`schema` must be a string")
        self.duckdb = _duckdb()
        self.db = self.duckdb.connect(str(path))
        # Not `self.arrow`: that is the flag that has the loop send Arrow batches.
        self.pyarrow: Any = __import__("pyarrow")
        self.tables = {
            (s.namespace, s.name): DuckdbTable(
                s, sanitize(s.namespace) if s.namespace else schema, position
            )
            for position, s in enumerate(streams)
        }
        finals = [(t.schema, t.final) for t in self.tables.values()]
        if len(set(finals)) != len(finals):
            raise ConfigError(f"two streams map to the same table: {sorted(finals)}")
        self.db.execute("BEGIN TRANSACTION")
        for table in self.tables.values():
            table.prepare(self.db)
        self.db.execute("COMMIT")
        self.in_transaction = False
        self.feed: Feed | None = None  # the running INSERT, of `feeding`'s lines
        self.feeding: DuckdbTable | None = None

    def write(self, stream: StreamConfig, batch: Batch) -> None:
        table = self.tables[(stream.namespace, stream.name)]
        if self.feed is not None and self.feeding is not table:
            self.end_feed()  # another stream's records: its statement ends, in order
        if not self.in_transaction:
            self.db.execute("BEGIN TRANSACTION")
            self.in_transaction = True
        if self.feed is None:
            numbered = bool(stream.primary_key)
            self.feed = Feed(self.db, self.pyarrow, table.insert_sql, numbered)
            self.feeding = table
        self.feed.add(batch.arrow())
        # A deduplicated stream is staged in memory and merged a batch at a time; a statement
        # that failed ends here (end_feed raises why); a full one makes way for the next.
        if stream.primary_key or self.feed.failed or self.feed.full:
            self.end_feed()

    def end_feed(self) -> None:
        """Finish the running statement (and merge a deduplicated stream's stage)."""
        feed, table = self.feed, self.feeding
        if feed is None or table is None:
            return
        self.feed = self.feeding = None
        try:
            feed.end()
        except self.duckdb.InvalidInputException as exc:  # e.g. a line that is not JSON
            self.db.execute("ROLLBACK")  # the failed statement aborted the transaction
            self.in_transaction = False
            label = table.stream.label
            raise ValueError(f"a batch of stream {label} did not load: {exc}") from exc
        if table.stream.primary_key:
            table.merge(self.db)

    def commit(self) -> None:
        self.end_feed()
        if self.in_transaction:
            self.db.execute("COMMIT")
            self.in_transaction = False

    def finish(self, streams: list[StreamConfig]) -> None:
        done = {(s.namespace, s.name) for s in streams}
        self.db.execute("BEGIN TRANSACTION")
        for key, table in self.tables.items():
            if table.stream.sync_mode == "overwrite":
                table.swap(self.db) if key in done else table.discard(self.db)
        self.db.execute("COMMIT")

    def close(self) -> None:
        if self.feed is not None:  # a failed run: stop the statement, roll it back
            self.feed.abort()
            self.feed = self.feeding = None
        if self.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.close()


class DestinationDuckdb(BatchingDestination):
    def spec(self) -> dict[str, Any]:
        return SPEC

    def check(self, config: dict[str, Any]) -> None:
        db = _duckdb().connect(str(database_path(config)))
        try:
            schema = quote(config.get("schema") or "main")
            db.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            db.execute(f"CREATE TABLE {schema}._airbyte_connection_test (id INTEGER)")
            db.execute(f"INSERT INTO {schema}._airbyte_connection_test VALUES (1)")
            db.execute(f"DROP TABLE {schema}._airbyte_connection_test")
        finally:
            db.close()

    def open_writer(self, config: dict[str, Any], streams: list[StreamConfig]) -> DuckdbWriter:
        return DuckdbWriter(database_path(config), config, streams)


def run() -> None:
    main(DestinationDuckdb)
