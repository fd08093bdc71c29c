"""PostgreSQL behind the store's one interface: what store functions use of sqlite-utils'
`Database`, on a psycopg 3 connection.

Store functions call `db.execute(sql, params)` with `?` placeholders and read the cursor
(`fetchone`, `fetchall`, `rowcount`, iteration); `db.conn` begins and ends transactions. A
`PgDatabase` gives them exactly that, so the same store code and the same migrations run on
both engines. What it translates, and nothing more:

- `?` placeholders become `%s` (and a literal `%` is doubled), outside quoted text;
- in `CREATE TABLE` and `ALTER TABLE`, SQLite's types become PostgreSQL's of the same range
  (INTEGER -> BIGINT, REAL -> DOUBLE PRECISION, BLOB -> BYTEA, `INTEGER PRIMARY KEY`
  -> an identity column), and every table gets a `rowid` identity column
  standing in for SQLite's implicit one: store code orders by it (insertion order);
- `BEGIN IMMEDIATE` is `BEGIN` (PostgreSQL locks rows, not the database).

Values: `bytes` are sent as text (the JSON documents are stored as TEXT), booleans as 0/1
and integers as BIGINT, as SQLite would store them; NUMERIC results (`SUM` of integers)
come back as int. Two SQLite functions the stored SQL uses, `json_extract` (a `$.a.b` path)
and `instr`, exist as SQL functions (`install_functions`, run before the migrations).
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, cast

import psycopg
from psycopg.adapt import Buffer, Dumper, Loader
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import Int8Dumper
from sqlite_utils import Database

SCHEMES = ("postgresql://", "postgres://")


def is_url(target: object) -> bool:
    """Whether a database setting names a PostgreSQL server (else it is a SQLite file)."""
    return isinstance(target, str) and target.startswith(SCHEMES)


def is_postgres(db: Database) -> bool:
    return isinstance(db, PgDatabase)


class _TextBytesDumper(Dumper):
    """bytes as text of an unknown type: the server casts it to the column's (TEXT)."""

    oid = 0

    def dump(self, obj: Any) -> Buffer:
        return bytes(obj)


class _BoolAsIntDumper(Dumper):
    """True/False as 1/0: SQLite has no boolean, the columns are INTEGER."""

    oid = 0

    def dump(self, obj: Any) -> Buffer:
        return b"1" if obj else b"0"


class _NumericLoader(Loader):
    """NUMERIC (what SUM of BIGINT gives) as int when whole, as SQLite returns it."""

    def load(self, data: Buffer) -> Any:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


def connect(url: str, name: str = "sluice") -> psycopg.Connection[Any]:
    """A connection in autocommit mode: transactions are explicit BEGIN ... COMMIT, as on
    SQLite. `name` is its application_name (pg_stat_activity shows who holds what)."""
    conn = psycopg.connect(url, autocommit=True, application_name=name)
    conn.adapters.register_dumper(bytes, _TextBytesDumper)
    conn.adapters.register_dumper(bool, _BoolAsIntDumper)
    conn.adapters.register_dumper(int, Int8Dumper)
    conn.adapters.register_loader("numeric", _NumericLoader)
    return conn


class PgConnection:
    """What the store uses of `sqlite3.Connection`: execute, in_transaction, close."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Any = None) -> psycopg.Cursor[Any]:
        return _execute(self.raw, sql, params)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


class PgDatabase(Database):
    """A sqlite-utils `Database` in type only: store functions get one and call `execute` and
    `conn`; nothing else of sqlite-utils is used on it (so its constructor is not run)."""

    def __init__(self, url: str) -> None:  # no super().__init__: no SQLite here
        self.url = url
        self.pg = PgConnection(connect(url))
        # Typed as sqlite3.Connection by sqlite-utils; PgConnection has the part used of it.
        self.conn = cast(sqlite3.Connection, self.pg)

    def execute(self, sql: str, parameters: Iterable[Any] | Mapping[str, Any] | None = None) -> Any:
        return _execute(self.pg.raw, sql, parameters)

    def close(self) -> None:
        self.pg.close()

    def __hash__(self) -> int:  # secret_box keys its rings by database
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __repr__(self) -> str:
        return f"<PgDatabase {_without_password(self.url)}>"


def _without_password(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _execute(raw: psycopg.Connection[Any], sql: str, params: Any) -> psycopg.Cursor[Any]:
    if params is None or (not isinstance(params, Mapping) and not params):
        # No parameters: nothing is interpolated, so `%` stays as written.
        return raw.execute(_statement(sql, False))
    if isinstance(params, Mapping):
        return raw.execute(_statement(sql, True), params)
    return raw.execute(_statement(sql, True), list(params))


_QUOTED = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")")
_DDL = re.compile(r"^\s*(CREATE\s+TABLE|ALTER\s+TABLE)\b", re.IGNORECASE)
_TYPES = [
    (
        # SQLite's INTEGER PRIMARY KEY is the rowid: numbered on insert when not given.
        re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", re.IGNORECASE),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
]
ROWID = "rowid BIGINT GENERATED BY DEFAULT AS IDENTITY"


@functools.lru_cache(maxsize=2048)
def _statement(sql: str, with_params: bool) -> str:
    """`sql` as PostgreSQL takes it (see the module docstring)."""
    stripped = sql.strip()
    if re.fullmatch(r"BEGIN\s+IMMEDIATE", stripped, re.IGNORECASE):
        return "BEGIN"
    parts = _QUOTED.split(sql)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:  # outside quotes
            if _DDL.match(sql):
                for pattern, replacement in _TYPES:
                    part = pattern.sub(replacement, part)
            if with_params:
                part = part.replace("%", "%%").replace("?", "%s")
        elif with_params:
            part = part.replace("%", "%%")
        out.append(part)
    text = "".join(out)
    if re.match(r"^\s*CREATE\s+TABLE\b", text, re.IGNORECASE) and "(" in text:
        close = text.rstrip().rstrip(";").rstrip()
        if close.endswith(")"):
            text = f"{close[:-1].rstrip()},\n    {ROWID}\n)"
    return text


def install_functions(db: PgDatabase) -> None:
    """SQLite's `json_extract` (paths `$.a.b`) and `instr`, which stored SQL uses: a scalar
    comes back as text (a JSON string unquoted), an object or array as its JSON text, JSON
    null and a missing path as NULL."""
    db.execute(
        """
        CREATE OR REPLACE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT AS $$
            SELECT CASE jsonb_typeof(v) WHEN 'null' THEN NULL
                WHEN 'string' THEN v #>> '{}' ELSE v::text END
            FROM (SELECT doc::jsonb #> string_to_array(substr(path, 3), '.') AS v) AS found
        $$ LANGUAGE SQL IMMUTABLE
        """
    )
    db.execute(
        """
        CREATE OR REPLACE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS BIGINT AS $$
            SELECT strpos(haystack, needle)::BIGINT
        $$ LANGUAGE SQL IMMUTABLE
        """
    )


class SessionLock:
    """An advisory lock held by a connection of its own for as long as it lives: the one
    scheduler of several processes. If the holder dies or loses the server, the connection
    goes and the lock with it, and another process's next `hold` takes it."""

    def __init__(self, url: str, key: int, name: str) -> None:
        self.url, self.key, self.name = url, key, name
        self._conn: psycopg.Connection[Any] | None = None
        self._held = False

    def hold(self) -> bool:
        """Whether this process holds the lock now (taking it if free). Blocking."""
        try:
            if self._conn is None or self._conn.broken or self._conn.closed:
                self._conn, self._held = connect(self.url, self.name), False
            if self._held:
                self._conn.execute("SELECT 1")  # still connected, so still held
            else:
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
                self._held = bool(row and row[0])
        except psycopg.Error:
            self.release()
            return False
        return self._held

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn, self._held = None, False
