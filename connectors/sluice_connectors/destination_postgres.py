"""destination-postgres: typed tables in a PostgreSQL database (Airbyte's "Postgres").

Each batch goes to the server in one COPY, inside the run's transaction: as CSV made by pyarrow
from the whole batch at once (postgres_arrow.py) when every record fits its types exactly,
else as typed rows decoded once (record_rows.py: values that do not fit their column become
NULL and are listed in `_airbyte_meta.changes`, as Airbyte's typing does). The writer runs in
a thread beside the reading loop: parsing, formatting and the server's load need no GIL.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sluice_connectors.destination_core import Batch, BatchingDestination
from sluice_connectors.destination_tables import (
    ADDITIONAL,
    META_COLUMNS,
    StreamConfig,
    json_encoder,
    sanitize,
    uuid4_strings,
)
from sluice_connectors.entrypoint import ConfigError, main
from sluice_connectors.postgres_arrow import ArrowRows
from sluice_connectors.postgres_spec import SPEC
from sluice_connectors.postgres_sql import PostgresTable, ident
from sluice_connectors.record_rows import RowBuilder

# JDBC URL parameters with a libpq equivalent; others are ignored (they tune the JVM driver).
JDBC_TO_LIBPQ = {
    "applicationname": "application_name",
    "connecttimeout": "connect_timeout",
    "options": "options",
    "sslmode": "sslmode",
    "sslrootcert": "sslrootcert",
    "sslcert": "sslcert",
    "sslkey": "sslkey",
    "tcpkeepalive": "keepalives",
}
MAX_IDENTIFIER = 63


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # the optional extra is missing
        raise ConfigError("destination-postgres needs psycopg: pip install psycopg") from exc
    return psycopg


def connection_params(config: dict[str, Any], files: list[str]) -> dict[str, Any]:
    """libpq keyword parameters for a configuration in Airbyte's shape."""
    for key in ("host", "database", "username"):
        if not isinstance(config.get(key), str) or not config[key]:
            raise ConfigError(f"`{key}` is required")
    tunnel = config.get("tunnel_method")
    if isinstance(tunnel, dict) and tunnel.get("tunnel_method", "NO_TUNNEL") != "NO_TUNNEL":
        raise ConfigError("SSH tunnels are not supported: connect to the database directly")
    port = config.get("port", 5432)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"`port` must be an integer between 1 and 65535, not {port!r}")
    params: dict[str, Any] = {
        "host": config["host"],
        "port": port,
        "dbname": config["database"],
        "user": config["username"],
        "connect_timeout": 10,
        "application_name": "sluice-destination-postgres",
    }
    if config.get("password"):
        params["password"] = config["password"]
    ssl_mode = config.get("ssl_mode")
    if isinstance(ssl_mode, dict) and ssl_mode.get("mode"):
        mode = ssl_mode["mode"]
        if mode not in ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"):
            raise ConfigError(f"ssl_mode.mode {mode!r} is not a PostgreSQL SSL mode")
        params["sslmode"] = mode
        for field, param in (
            ("ca_certificate", "sslrootcert"),
            ("client_certificate", "sslcert"),
            ("client_key", "sslkey"),
        ):
            if ssl_mode.get(field):
                params[param] = _secret_file(ssl_mode[field], files)
        if ssl_mode.get("client_key_password"):
            params["sslpassword"] = ssl_mode["client_key_password"]
    elif config.get("ssl") is True:
        params["sslmode"] = "require"
    elif config.get("ssl") is False:
        params["sslmode"] = "disable"
    for pair in str(config.get("jdbc_url_params") or "").split("&"):
        key, _, value = pair.partition("=")
        libpq = JDBC_TO_LIBPQ.get(key.strip().lower())
        if libpq and value:
            params[libpq] = value
    return params


def _secret_file(content: str, files: list[str]) -> str:
    """Certificates and keys arrive as text; libpq wants files (private, removed at exit)."""
    fd, path = tempfile.mkstemp(prefix="sluice-pg-", suffix=".pem")
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    files.append(path)
    return path


def table_identifier(name: str) -> str:
    """Airbyte's Postgres names: sanitized, lower case, at most 63 bytes."""
    return sanitize(name).lower()[:MAX_IDENTIFIER]


def column_identifiers(stream: StreamConfig) -> dict[str, str]:
    """Property name -> column name: as the source spells it, cut to 63 bytes."""
    names: dict[str, str] = {}
    for column in stream.columns:
        name = column.name.encode()[:MAX_IDENTIFIER].decode(errors="ignore")
        if name in names.values() or name in (*META_COLUMNS, ADDITIONAL):
            raise ConfigError(
                f"stream {stream.label}: column {column.name!r} collides with another "
                f"after cutting it to {MAX_IDENTIFIER} bytes"
            )
        names[column.name] = name
    return names


class PostgresWriter:
    concurrent = True  # most batches need no GIL (pyarrow, the server): load while reading
    arrow = False

    def __init__(
        self, config: dict[str, Any], streams: list[StreamConfig], connection: Any
    ) -> None:
        self.conn = connection
        schema = config.get("schema") or "public"
        if not isinstance(schema, str):
            raise ConfigError("`schema` must be a string")
        self.tables: dict[tuple[str | None, str], PostgresTable] = {}
        numeric = "numeric" if config.get("unconstrained_number", True) else "decimal(38, 9)"
        for position, stream in enumerate(streams):
            table_schema = table_identifier(stream.namespace) if stream.namespace else schema
            self.tables[(stream.namespace, stream.name)] = PostgresTable(
                stream,
                schema=table_schema,
                name=table_identifier(stream.name),
                columns=column_identifiers(stream),
                numeric_type=numeric,
                cascade=bool(config.get("drop_cascade")),
                position=position,
            )
        finals = [(t.schema, t.final) for t in self.tables.values()]
        if len(set(finals)) != len(finals):
            raise ConfigError(f"two streams map to the same table: {sorted(finals)}")
        self.builders = {key: RowBuilder(t.stream) for key, t in self.tables.items()}
        self.csv_rows = {
            key: ArrowRows(t.stream, numbered=bool(t.stream.primary_key))
            for key, t in self.tables.items()
        }
        # Batches become CSV in this thread while the engine thread loads the one before.
        self.converter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv")
        # Row positions holding JSON text: _airbyte_meta, object/array columns, extras.
        self.json_positions = {
            key: frozenset(
                [2, 4 + len(t.stream.columns)]
                + [4 + i for i, c in enumerate(t.stream.columns) if c.kind == "json"]
            )
            for key, t in self.tables.items()
        }
        with self.conn.transaction():
            cur = self.conn.cursor()
            cur.execute("SET TIME ZONE 'UTC'")  # the zone of postgres_arrow's timestamps
            for table in self.tables.values():
                table.prepare(cur)

    def prepare(self, stream: StreamConfig, batch: Batch) -> Future[bytes | None]:
        return self.converter.submit(
            self.csv_rows[(stream.namespace, stream.name)].csv, batch.lines
        )

    def write(self, stream: StreamConfig, batch: Batch) -> None:
        key = (stream.namespace, stream.name)
        csv = batch.prepared.result() if batch.prepared else self.csv_rows[key].csv(batch.lines)
        if csv is not None:
            self.tables[key].load_csv(self.conn.cursor(), csv)
            return
        rows = self.builders[key].build(batch.lines, uuid4_strings(len(batch)))
        if b"\\u0000" in b"\n".join(batch.lines):  # one scan of the batch, not one per line
            rows = [without_nul(row, self.json_positions[key]) for row in rows]
        self.tables[key].load(self.conn.cursor(), rows)

    def commit(self) -> None:
        self.conn.commit()

    def finish(self, streams: list[StreamConfig]) -> None:
        done = {(s.namespace, s.name) for s in streams}
        cur = self.conn.cursor()
        for key, table in self.tables.items():
            if table.stream.sync_mode == "overwrite":
                table.swap(cur) if key in done else table.discard(cur)
        self.conn.commit()

    def close(self) -> None:
        self.converter.shutdown(cancel_futures=True)
        self.conn.close()


_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def without_nul(row: tuple[Any, ...], json_positions: frozenset[int]) -> tuple[Any, ...]:
    """PostgreSQL text and jsonb cannot hold U+0000: drop it, as Airbyte's Postgres
    destination does (an escaped one in JSON text, a raw one in plain text)."""
    return tuple(
        (_ESCAPED_NUL.sub(r"\1", v) if i in json_positions else v.replace("\0", ""))
        if isinstance(v, str)
        else v
        for i, v in enumerate(row)
    )


class DestinationPostgres(BatchingDestination):
    def spec(self) -> dict[str, Any]:
        return SPEC

    def connect(self, config: dict[str, Any], files: list[str]) -> Any:
        psycopg = _psycopg()
        try:
            return psycopg.connect(**connection_params(config, files))
        except psycopg.OperationalError as exc:
            host = f"{config.get('host')}:{config.get('port', 5432)}"
            raise ConfigError(f"could not connect to {host}: {str(exc).strip()}") from exc

    def check(self, config: dict[str, Any]) -> None:
        files: list[str] = []
        try:
            conn = self.connect(config, files)
            with conn:
                name = config.get("schema") or "public"
                schema, table = ident(name), f"{ident(name)}._airbyte_connection_test"
                found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,))
                if found.fetchone() is None:  # creating needs a privilege an existing one doesn't
                    conn.execute(f"CREATE SCHEMA {schema}")
                conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (id int, data jsonb)")
                conn.execute(
                    f"INSERT INTO {table} VALUES (1, %s::jsonb)",
                    (json_encoder.encode({"ok": True}).decode(),),
                )
                conn.execute(f"DROP TABLE {table}")
        finally:
            _remove(files)

    def write(self, config: dict[str, Any], catalog: dict[str, Any], stdin: Any) -> None:
        self._files: list[str] = []
        try:
            super().write(config, catalog, stdin)
        finally:
            _remove(self._files)

    def open_writer(self, config: dict[str, Any], streams: list[StreamConfig]) -> PostgresWriter:
        conn = self.connect(config, self._files)
        try:
            return PostgresWriter(config, streams, conn)
        except BaseException:
            conn.close()
            raise


def _remove(files: list[str]) -> None:
    for path in files:
        with contextlib.suppress(OSError):
            os.unlink(path)


def run() -> None:
    main(DestinationPostgres)
