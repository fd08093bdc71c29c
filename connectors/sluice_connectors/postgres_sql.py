"""The SQL that destination-postgres runs for one stream: its table, the COPY of a batch (CSV
from postgres_arrow.py, or rows from record_rows.py), the deduplicating merge and the overwrite
swap."""

from __future__ import annotations

from typing import Any

from sluice_connectors.destination_tables import (
    ADDITIONAL,
    EXTRACTED_AT,
    GENERATION_ID,
    META,
    RAW_ID,
    StreamConfig,
)

META_DDL = (
    f'"{RAW_ID}" varchar(36) NOT NULL, "{EXTRACTED_AT}" timestamptz NOT NULL, '
    f'"{META}" jsonb NOT NULL, "{GENERATION_ID}" bigint'
)
SEQ = "_airbyte_seq"
TMP_SUFFIX = "_airbyte_tmp"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresTable:
    def __init__(
        self,
        stream: StreamConfig,
        schema: str,
        name: str,
        columns: dict[str, str],
        numeric_type: str,
        cascade: bool,
        position: int,
    ) -> None:
        self.stream = stream
        self.schema = schema
        self.final = name
        overwrite = stream.sync_mode == "overwrite"
        self.table = name[: 63 - len(TMP_SUFFIX)] + TMP_SUFFIX if overwrite else name
        self.columns = columns  # property -> column name
        self.types = {
            "string": "varchar",
            "integer": "bigint",
            "number": numeric_type,
            "boolean": "boolean",
            "json": "jsonb",
        }
        self.cascade = " CASCADE" if cascade else ""
        self.target = f"{ident(schema)}.{ident(self.table)}"
        self.stage = ident(f"_airbyte_stage_{position}")
        self.copy_statement = self._copy_statement()
        self.copy_csv_statement = self.copy_statement + " WITH (FORMAT csv)"

    # -- DDL ----------------------------------------------------------------------------------

    def column_ddl(self) -> str:
        typed = [f"{ident(self.columns[c.name])} {self.types[c.kind]}" for c in self.stream.columns]
        return ", ".join([META_DDL, *typed, f"{ident(ADDITIONAL)} jsonb"])

    def prepare(self, cur: Any) -> None:
        cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,))
        if cur.fetchone() is None:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(self.schema)}")
        if self.stream.sync_mode == "overwrite":
            cur.execute(f"DROP TABLE IF EXISTS {self.target}{self.cascade}")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.target} ({self.column_ddl()})")
        for column in self.stream.columns:
            name, kind = self.columns[column.name], self.types[column.kind]
            cur.execute(f"ALTER TABLE {self.target} ADD COLUMN IF NOT EXISTS {ident(name)} {kind}")
        cur.execute(f"ALTER TABLE {self.target} ADD COLUMN IF NOT EXISTS {ident(ADDITIONAL)} jsonb")
        if self.stream.primary_key:
            keys = ", ".join(ident(self.columns[k]) for k in self.stream.primary_key)
            index = ident(f"{self.table[:50]}_airbyte_pk")
            cur.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {self.target} ({keys})")
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {self.stage} "
                f"(LIKE {self.target} INCLUDING DEFAULTS, {SEQ} bigint)"
            )

    # -- loading ------------------------------------------------------------------------------

    def _copy_statement(self) -> str:
        names = [RAW_ID, EXTRACTED_AT, META, GENERATION_ID, *self.columns.values(), ADDITIONAL]
        columns = ", ".join(ident(n) for n in names)
        if self.stream.primary_key:
            return f"COPY {self.stage} ({columns}, {SEQ}) FROM STDIN"
        return f"COPY {self.target} ({columns}) FROM STDIN"

    def load(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        """COPY the batch's typed rows (text format; psycopg dumps each row in C), into the
        stage first when the stream is deduplicated."""
        with cur.copy(self.copy_statement) as copy:
            write_row = copy.write_row
            if self.stream.primary_key:
                for seq, row in enumerate(rows):
                    write_row((*row, seq))
            else:
                for row in rows:
                    write_row(row)
        if self.stream.primary_key:
            self.merge(cur)

    def load_csv(self, cur: Any, data: bytes) -> None:
        """COPY the batch as CSV (the rows, then the arrival number for a dedup stage)."""
        with cur.copy(self.copy_csv_statement) as copy:
            copy.write(data)
        if self.stream.primary_key:
            self.merge(cur)

    def merge(self, cur: Any) -> None:
        """Fold the staged batch into the table, one row per primary key: the newest cursor
        wins, equal or missing cursors fall back to arrival order (later wins). A NULL key
        matches nothing, so such rows are kept."""
        keys = [ident(self.columns[k]) for k in self.stream.primary_key]
        cursor = ident(self.columns[self.stream.cursor]) if self.stream.cursor else None
        same_key = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        order = f"{cursor} DESC NULLS LAST, {SEQ} DESC" if cursor else f"{SEQ} DESC"
        older_wins = (
            f"t.{cursor} IS NOT NULL AND (s.{cursor} IS NULL OR t.{cursor} > s.{cursor})"
            if cursor
            else "false"
        )
        stage, target = self.stage, self.target
        columns = ", ".join(
            ident(c)
            for c in [RAW_ID, EXTRACTED_AT, META, GENERATION_ID, *self.columns.values(), ADDITIONAL]
        )
        cur.execute(
            f"DELETE FROM {stage} AS s USING (SELECT ctid AS id, row_number() OVER "
            f"(PARTITION BY {', '.join(keys)} ORDER BY {order}) AS n FROM {stage} "
            f"WHERE {not_null}) AS w WHERE s.ctid = w.id AND w.n > 1",
            prepare=True,
        )
        cur.execute(
            f"DELETE FROM {target} AS t USING {stage} AS s WHERE {same_key} AND NOT ({older_wins})",
            prepare=True,
        )
        cur.execute(f"DELETE FROM {stage} AS s USING {target} AS t WHERE {same_key}", prepare=True)
        cur.execute(
            f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {stage} ORDER BY {SEQ}",
            prepare=True,
        )
        cur.execute(f"TRUNCATE {stage}")

    # -- the end of a run ---------------------------------------------------------------------

    def swap(self, cur: Any) -> None:
        final = f"{ident(self.schema)}.{ident(self.final)}"
        cur.execute(f"DROP TABLE IF EXISTS {final}{self.cascade}")
        cur.execute(f"ALTER TABLE {self.target} RENAME TO {ident(self.final)}")

    def discard(self, cur: Any) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {self.target}")
