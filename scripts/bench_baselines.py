"""The engines' own bulk loads of a saved `source-e2e-test` output, for bench_connectors.py.

    python scripts/bench_baselines.py duckdb|sqlite|postgres --input FILE --catalog FILE \
        --config FILE [--copy-file FILE]

Each creates the same table the destination creates (its own table code, so the same columns
and types) and loads the same records as typed rows, as fast as the engine allows, made
durable at the end. What the destinations do on top (finding values that do not fit,
undeclared fields, source `meta`, a commit per state) the baselines skip, so the ratio is
what those guarantees and the protocol cost:

- duckdb: one `INSERT ... SELECT` from `read_json` of the file (the RECORD lines), typed by a
  `columns` struct, plus `uuid()` and the timestamp; then close (the checkpoint).
- duckdb-typed: DuckDB alone doing what the destination does: the destination's own INSERT
  statement (the same typing, `_airbyte_meta` and undeclared-field expressions), run once
  over the file's RECORD lines as read by DuckDB's CSV reader; then close. The ratio against
  it is what the protocol and the program cost beyond DuckDB's share of the work.
- sqlite: plain Python, as one would write it: msgspec decodes each line into a typed Struct,
  rows get a UUID, timestamp and meta, one `executemany` per 100,000 rows, one transaction.
- postgres: `COPY ... FROM STDIN` of the rows as COPY text (what `psql \\copy` sends), from a
  file made beforehand with `COPY ... TO STDOUT` of the table the destination wrote.

Prints the seconds the load took (the table creation excluded).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
from sluice_connectors import destination_duckdb, destination_postgres, destination_sqlite
from sluice_connectors.destination_tables import ADDITIONAL, IsoTimes, parse_catalog, uuid4_strings
from sluice_connectors.record_rows import FIELD_TYPES


def duckdb(path: Path, config: dict[str, Any], catalog: dict[str, Any]) -> float:
    import duckdb as engine

    (stream,) = parse_catalog(catalog)
    table = destination_duckdb.DuckdbTable(stream, "main", 0)
    db = engine.connect(str(destination_duckdb.database_path(config)))
    table.prepare(db)
    data = ", ".join(
        f"{destination_duckdb.quote(c.name)} {destination_duckdb.SQL_TYPES[c.kind]}"
        for c in stream.columns
    )
    columns = f"{{type: 'VARCHAR', record: 'STRUCT(emitted_at BIGINT, data STRUCT({data}))'}}"
    values = "".join(f"r.data.{destination_duckdb.quote(c.name)}, " for c in stream.columns)
    meta = destination_duckdb.literal(stream.default_meta)
    source = destination_duckdb.literal(str(path))
    started = time.perf_counter()
    db.execute(
        f"INSERT INTO {table.target} ({table.column_list}) SELECT uuid()::VARCHAR, "
        f"to_timestamp(r.emitted_at / 1000), {meta}, {stream.generation_id or 'NULL'}, "
        f"{values}NULL FROM (SELECT record AS r FROM read_json({source}, "
        f"format = 'newline_delimited', columns = {columns}) WHERE type = 'RECORD')"
    )
    db.close()
    return time.perf_counter() - started


def duckdb_typed(path: Path, config: dict[str, Any], catalog: dict[str, Any]) -> float:
    """DuckDB alone doing the destination's work: its own INSERT statement (typing by JSON
    type, `_airbyte_meta.changes`, undeclared fields, raw ids) run once over every RECORD line
    of the file, read by DuckDB's CSV reader as one text column."""
    import duckdb as engine

    (stream,) = parse_catalog(catalog)
    table = destination_duckdb.DuckdbTable(stream, "main", 0)
    db = engine.connect(str(destination_duckdb.database_path(config)))
    table.prepare(db)
    source = destination_duckdb.literal(str(path))
    # \x01 cannot occur in a JSON line (control characters are escaped), so each line is one
    # value; quote and escape off so the text arrives as it is.
    db.execute(
        f"CREATE TEMP VIEW batch_lines AS SELECT line FROM read_csv({source}, "
        f"columns = {{'line': 'VARCHAR'}}, header = false, delim = E'\\x01', quote = '', "
        f"escape = '', auto_detect = false) WHERE starts_with(line, '{{\"type\":\"RECORD\"')"
    )
    started = time.perf_counter()
    db.execute(table.insert_sql)
    db.close()
    return time.perf_counter() - started


def sqlite(path: Path, config: dict[str, Any], catalog: dict[str, Any]) -> float:
    (stream,) = parse_catalog(catalog)
    db = destination_sqlite.connect(destination_sqlite.database_path(config))
    table = destination_sqlite.SqliteTable(db, stream)
    table.prepare()
    fields = [(f"f{i}", FIELD_TYPES[c.kind], None) for i, c in enumerate(stream.columns)]
    rename = {f"f{i}": c.name for i, c in enumerate(stream.columns)}
    data = msgspec.defstruct("Data", fields, rename=rename)
    record = msgspec.defstruct("Record", [("emitted_at", int), ("data", data)])
    message = msgspec.defstruct("Message", [("type", str), ("record", record | None, None)])
    decode = msgspec.json.Decoder(message).decode
    astuple, times = msgspec.structs.astuple, IsoTimes()
    meta, generation = stream.default_meta, stream.generation_id
    started = time.perf_counter()
    db.execute("BEGIN")
    rows: list[tuple[Any, ...]] = []
    with path.open("rb") as lines:
        for line in lines:
            m = decode(line)
            if m.record is not None:
                r = m.record
                rows.append((times(r.emitted_at), meta, generation, *astuple(r.data), None))
            if len(rows) == 100_000:
                ids = uuid4_strings(len(rows))
                db.executemany(table.insert, [(i, *row) for i, row in zip(ids, rows, strict=True)])
                rows = []
    ids = uuid4_strings(len(rows))
    db.executemany(table.insert, [(i, *row) for i, row in zip(ids, rows, strict=True)])
    db.execute("COMMIT")
    db.close()
    return time.perf_counter() - started


def postgres(copy_file: Path, config: dict[str, Any], catalog: dict[str, Any]) -> float:
    import psycopg

    (stream,) = parse_catalog(catalog)
    files: list[str] = []
    conn = psycopg.connect(**destination_postgres.connection_params(config, files))
    writer = destination_postgres.PostgresWriter({**config, "schema": "baseline"}, [stream], conn)
    (table,) = writer.tables.values()
    names = [*destination_postgres.META_COLUMNS, *table.columns.values()]
    columns = ", ".join(destination_postgres.ident(n) for n in [*names, ADDITIONAL])
    started = time.perf_counter()
    statement = f"COPY {table.target} ({columns}) FROM STDIN"
    with conn.cursor() as cur, cur.copy(statement) as copy, copy_file.open("rb") as source:
        while block := source.read(1 << 20):
            copy.write(block)
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("engine", choices=["duckdb", "duckdb-typed", "sqlite", "postgres"])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--copy-file", type=Path)
    args = parser.parse_args()
    config = msgspec.json.decode(args.config.read_bytes())
    catalog = msgspec.json.decode(args.catalog.read_bytes())
    if args.engine == "postgres":
        seconds = postgres(args.copy_file, config, catalog)
    else:
        load = {"duckdb": duckdb, "duckdb-typed": duckdb_typed, "sqlite": sqlite}[args.engine]
        seconds = load(args.input, config, catalog)
    print(f"{seconds:.3f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
