"""How destination-postgres types records on the server: each batch's RECORD lines are COPYed
as they are into a one-column temporary table (COPY's text escaping done on the whole batch at
once), and one `INSERT ... SELECT` parses each line once (`jsonb`) and builds the typed row.

The typing agrees with record_rows.py (what the SQLite destination does in Python): a value of
the wrong JSON type, a fraction or a value beyond 64 bits in an integer column becomes NULL and
is listed in `_airbyte_meta.changes` (DESTINATION_TYPECAST_ERROR); a string column keeps any
value as its JSON text; object/array columns keep the JSON; JSON null is NULL; fields the schema
does not declare go to `_airbyte_additional_properties`.
"""

from __future__ import annotations

import re

from sluice_connectors.destination_tables import StreamConfig, json_encoder

LINES = "_airbyte_lines"  # the temporary table the batch is COPYed into
LINES_DDL = f"CREATE TEMP TABLE IF NOT EXISTS {LINES} (line text)"
COPY_LINES = f"COPY {LINES} (line) FROM STDIN"
INT64 = "-9223372036854775808 AND 9223372036854775807"
TYPECAST = '[{{"field": {}, "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}}]'
_ESCAPED_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def copy_text(lines: list[bytes]) -> bytes:
    """The batch as COPY text of one column: one line each, with the characters COPY treats
    specially escaped, each by one pass over the whole batch. PostgreSQL cannot hold U+0000:
    an escaped one in the JSON is dropped, as Airbyte's Postgres destination does."""
    data = b"\n".join(lines)
    if b"\\u0000" in data:
        data = _ESCAPED_NUL.sub(rb"\1", data)
    data = data.replace(b"\\", b"\\\\")
    for char, escaped in ((b"\t", b"\\t"), (b"\r", b"\\r")):  # JSON whitespace, rare
        if char in data:
            data = data.replace(char, escaped)
    return data + b"\n"


def typed_select(stream: StreamConfig, numbered: bool) -> str:
    """The SELECT of typed rows from LINES, in the column order `_airbyte_raw_id,
    _airbyte_extracted_at, _airbyte_meta, _airbyte_generation_id, <columns>, additional
    properties` (then the arrival number, when `numbered`). Each subquery level computes its
    values once (OFFSET 0 keeps PostgreSQL from inlining them into every use); rows come out in
    the order of the table's scan, which is the COPY's order."""
    props = [c.name for c in stream.columns]
    kinds = [c.kind for c in stream.columns]
    keys = [literal(p) for p in props]
    values = [f"d->{k} AS v{i}" for i, k in enumerate(keys)]
    typed = []
    for i, kind in enumerate(kinds):
        v = f"v{i}"
        if kind == "string":
            typed.append(f"d->>{keys[i]}")  # the string, or another value's JSON text
        elif kind == "json":
            typed.append(f"CASE WHEN jsonb_typeof({v}) <> 'null' THEN {v} END")
        elif kind == "boolean":
            typed.append(f"CASE WHEN jsonb_typeof({v}) = 'boolean' THEN {v}::boolean END")
        elif kind == "number":
            typed.append(f"CASE WHEN jsonb_typeof({v}) = 'number' THEN {v}::numeric END")
        else:  # integer: whole and within 64 bits (1.0 is 1, as in JSON)
            n = f"{v}::numeric"
            typed.append(
                f"CASE WHEN jsonb_typeof({v}) = 'number' AND {n} = trunc({n}) "
                f"AND {n} BETWEEN {INT64} THEN {n}::bigint END"
            )
    checked = [i for i, kind in enumerate(kinds) if kind in ("integer", "number", "boolean")]
    bad = {i: f"(t{i} IS NULL AND jsonb_typeof(v{i}) <> 'null')" for i in checked}
    sync_id = str(int(stream.sync_id)) if stream.sync_id is not None else "NULL"
    source_changes = (
        "COALESCE(CASE WHEN jsonb_typeof(m->'changes') = 'array' THEN m->'changes' END, '[]')"
    )
    added = "".join(
        f" || CASE WHEN {bad[i]} THEN "
        f"{literal(TYPECAST.format(json_encoder.encode(props[i]).decode()))}::jsonb "
        "ELSE '[]' END"
        for i in checked
    )
    clean = " AND ".join(["m IS NULL", *(f"NOT COALESCE({bad[i]}, false)" for i in checked)])
    meta = (
        f"CASE WHEN {clean} THEN {literal(stream.default_meta)}::jsonb ELSE "
        f"jsonb_build_object('changes', {source_changes}{added}, 'sync_id', {sync_id}::bigint) "
        "END"
    )
    known = "ARRAY[" + ", ".join(keys) + "]::text[]" if keys else "ARRAY[]::text[]"
    extra = f"NULLIF(d - {known}, '{{}}'::jsonb)"
    generation = str(int(stream.generation_id)) if stream.generation_id is not None else "NULL"
    extracted = "CASE WHEN COALESCE(e, 0) = 0 THEN now() ELSE to_timestamp(e / 1000) END"
    seq = ", seq" if numbered else ""
    number = ", row_number() OVER () AS seq" if numbered else ""
    level_typed = "".join(f", {t} AS t{i}" for i, t in enumerate(typed))
    level_values = "".join(f", {v}" for v in values)
    passed = "".join(f", v{i}" for i in range(len(props)))
    out = "".join(f"t{i}, " for i in range(len(props)))
    return (
        f"SELECT gen_random_uuid()::varchar, {extracted}, {meta}, {generation}::bigint, "
        f"{out}{extra}{seq} FROM ("
        f"SELECT d, m, e{seq}{passed}{level_typed} FROM ("
        f"SELECT d, m, e{seq}{level_values} FROM ("
        f"SELECT r->'data' AS d, r->'meta' AS m, (r->'emitted_at')::float8 AS e{seq} FROM ("
        f"SELECT line::jsonb->'record' AS r{number} FROM {LINES} OFFSET 0"
        ") a OFFSET 0) b OFFSET 0) c OFFSET 0) t"
    )
