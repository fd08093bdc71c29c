"""The SQL that destination-postgres runs for one stream: its table, the typed INSERT from the
staged JSON lines, the deduplicating merge and the overwrite swap."""

from __future__ import annotations

from typing import Any

from sluice_connectors.destination_core import (
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


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
        self.insert_sql = self._insert_sql()

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

    def _value(self, prop: str, kind: str) -> str:
        """The typed value of one property of `d` (the record's data); NULL when the JSON
        value does not fit. CASE keeps the casts from running on values of another type."""
        v = f"d->{literal(prop)}"
        if kind == "string":
            return f"d->>{literal(prop)}"
        if kind == "boolean":
            return f"CASE WHEN jsonb_typeof({v}) = 'boolean' THEN ({v})::boolean END"
        if kind == "json":
            return f"NULLIF({v}, 'null'::jsonb)"
        number = f"({v})::numeric"
        if kind == "integer":
            fits = f"{number} = trunc({number}) AND abs({number}) <= 9223372036854775807"
            return (
                f"CASE WHEN jsonb_typeof({v}) = 'number' THEN "
                f"CASE WHEN {fits} THEN {number}::bigint END END"
            )
        if self.types["number"] == "numeric":
            return f"CASE WHEN jsonb_typeof({v}) = 'number' THEN {number} END"
        return (
            f"CASE WHEN jsonb_typeof({v}) = 'number' THEN "
            f"CASE WHEN abs({number}) < 1e29 THEN {number} END END"
        )

    def _insert_sql(self) -> str:
        stream = self.stream
        names = [f"c{i}" for i in range(len(stream.columns))]
        values = ", ".join(
            f"{self._value(c.name, c.kind)} AS {n}"
            for c, n in zip(stream.columns, names, strict=True)
        )
        known = ", ".join(literal(c.name) for c in stream.columns)
        extra = (
            f"NULLIF(d - ARRAY[{known}]::text[], '{{}}'::jsonb)"
            if known
            else ("NULLIF(d, '{}'::jsonb)")
        )
        checks = [
            f"CASE WHEN x.{n} IS NULL AND jsonb_typeof(x.d->{literal(c.name)}) <> 'null' "
            f"THEN {literal(c.name)} END"
            for c, n in zip(stream.columns, names, strict=True)
            if c.kind in ("integer", "number", "boolean")
        ]
        bad = (
            f"array_remove(ARRAY[{', '.join(checks)}]::text[], NULL)"
            if checks
            else ("'{}'::text[]")
        )
        sync_id = f"{int(stream.sync_id)}::bigint" if stream.sync_id is not None else "NULL::bigint"
        generation = (
            f"{int(stream.generation_id)}::bigint"
            if stream.generation_id is not None
            else "NULL::bigint"
        )
        change = (
            "jsonb_build_object('field', f, 'change', 'NULLED', "
            "'reason', 'DESTINATION_TYPECAST_ERROR')"
        )
        meta = (
            f"CASE WHEN cardinality(y.bad) = 0 AND y.src IS NULL "
            f"THEN jsonb_build_object('changes', '[]'::jsonb, 'sync_id', {sync_id}) "
            f"ELSE jsonb_build_object('changes', COALESCE(y.src, '[]'::jsonb) || COALESCE("
            f"(SELECT jsonb_agg({change}) FROM unnest(y.bad) AS f), '[]'::jsonb), "
            f"'sync_id', {sync_id}) END"
        )
        typed_columns = [ident(self.columns[c.name]) for c in stream.columns]
        column_list = ", ".join(ident(name) for name in (RAW_ID, EXTRACTED_AT, META, GENERATION_ID))
        column_list += "".join(f", {name}" for name in typed_columns) + f", {ident(ADDITIONAL)}"
        selected = ", ".join([f"y.{n}" for n in names] + ["y.extra"])
        into = self.stage if stream.primary_key else self.target
        seq_column, seq_value = (f", {SEQ}", ", y.seq") if stream.primary_key else ("", "")
        emitted = "(l.line->'record'->>'emitted_at')::double precision / 1000"
        return (
            f"INSERT INTO {into} ({column_list}{seq_column}) "
            f"SELECT gen_random_uuid()::varchar, y.extracted, {meta}, {generation}, {selected}"
            f"{seq_value} FROM ("
            f"SELECT x.*, {bad} AS bad FROM ("
            f"SELECT l.seq, COALESCE(to_timestamp({emitted}), now()) AS extracted, "
            f"l.line->'record'->'meta'->'changes' AS src, d, "
            f"{values + ', ' if values else ''}{extra} AS extra "
            f"FROM (SELECT seq, line, line->'record'->'data' AS d FROM _airbyte_lines) AS l "
            f"OFFSET 0) AS x OFFSET 0) AS y ORDER BY y.seq"
        )

    def load(self, cur: Any) -> None:
        cur.execute(self.insert_sql, prepare=True)
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
