"""The bulk paths of the destinations (issue 14): records are routed by their line prefix and
parsed once per batch, so what only the full decode sees must still come out right, in every
SQL and file destination: records serialized another way, lines between records, a line that
only looks like a record, and batches where a few rows need the slow path."""

from __future__ import annotations

import uuid
from pathlib import Path

import msgspec
import pytest
from sluice_connectors import destination_tables

from tests.connectors.destination_support import (
    SYNC_ID,
    Target,
    catalog,
    lines,
    record,
    state,
    user,
    without_nulls,
    write,
    written,
)
from tests.connectors.test_destination_duckdb import DuckdbTarget
from tests.connectors.test_destination_jsonl import JsonlTarget
from tests.connectors.test_destination_postgres import PostgresTarget
from tests.connectors.test_destination_sqlite import SqliteTarget


@pytest.fixture(params=["sqlite", "duckdb", "jsonl", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    if request.param == "postgres":
        return PostgresTarget(request.getfixturevalue("postgres_server"))
    if request.param == "duckdb":
        pytest.importorskip("duckdb")
        return DuckdbTarget(tmp_path / "local")
    return {"sqlite": SqliteTarget, "jsonl": JsonlTarget}[request.param](tmp_path / "local")


def reordered(stream: str, data: dict[str, object], offset: int = 0) -> bytes:
    """A RECORD as another serializer may write it: keys in another order, with spaces."""
    body = {"emitted_at": 1_700_000_000_000 + offset, "data": data, "stream": stream}
    return b'{"record": ' + msgspec.json.encode(body) + b', "type": "RECORD"}'


def test_records_written_any_way_read_back_alike_and_in_order(
    target: Target, tmp_path: Path
) -> None:
    users = [user(i) for i in range(1, 11)]
    messages = [
        record("users", users[0]),
        reordered("users", users[1]),
        record("users", users[2]),
        state("users", 3),
        b"",  # a blank line is skipped
        reordered("users", users[3]),
        *(record("users", u) for u in users[4:9]),
        state("users", 9),
        reordered("users", users[9]),
    ]
    # Batches of 4 records: the slow-path lines and the prefix runs share and cross batches.
    result = written(
        target, tmp_path, lines(*messages), env={"SLUICE_BATCH_RECORDS": "4"}, streams=["users"]
    )
    assert [line for line in result.lines if b'"STATE"' in line] == [
        state("users", 3),
        state("users", 9),
    ]
    rows = target.rows("users")
    assert [r["data"] for r in rows] == [without_nulls(u) for u in users]
    assert {r["_airbyte_meta"]["sync_id"] for r in rows} == {SYNC_ID}


def test_a_line_that_only_looks_like_a_record_fails_clearly(target: Target, tmp_path: Path) -> None:
    broken = b'{"type":"RECORD","record":{"stream":"users","data":{"id":1,'
    result = write(target, tmp_path, lines(record("users", user(1)), broken), catalog())
    assert result.returncode == 1
    (error,) = result.errors
    assert "users" in error["message"] or "not an Airbyte message" in error["message"]
    assert "not an Airbyte message" in error["message"] or "did not load" in error["message"]


def test_only_the_rows_that_need_it_get_changes_or_extra_fields(
    target: Target, tmp_path: Path
) -> None:
    """A batch of clean records with one value that does not fit and one undeclared field:
    each shows up on its own row only."""
    sent = [user(i) for i in range(1, 7)]
    sent[2] = user(3, score="high")  # not a number
    sent[4] = user(5, extra_field=[1, 2])  # not in the schema
    written(target, tmp_path, lines(*(record("users", u) for u in sent)), streams=["users"])
    rows = {r["data"]["id"]: r for r in target.rows("users")}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    changes = {i: r["_airbyte_meta"]["changes"] for i, r in rows.items()}
    if target.name == "destination-jsonl":  # keeps records as sent: no typing
        assert changes == {key: [] for key in rows}
        assert rows[3]["data"]["score"] == "high"
    else:
        assert [c["field"] for c in changes.pop(3)] == ["score"]
        assert "score" not in rows[3]["data"]
        assert changes == {key: [] for key in changes}
    assert rows[5]["data"]["extra_field"] == [1, 2]
    assert all("extra_field" not in r["data"] for i, r in rows.items() if i != 5)


@pytest.mark.parametrize("count", [1, 64, 65, 5000])
def test_uuid4_strings_are_distinct_version_4_uuids(count: int) -> None:
    ids = destination_tables.uuid4_strings(count)
    assert len(set(ids)) == count
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
