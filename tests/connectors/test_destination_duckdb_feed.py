"""destination-duckdb over more records than one DuckDB row group: the lines of several of the
loop's batches stream into one running statement, re-cut into row groups; the order of
arrival, the commit before a state and the failures in mid-statement hold as for one batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.connectors.destination_support import catalog, event, lines, record, state, write
from tests.connectors.test_destination_duckdb import DuckdbTarget

pytest.importorskip("duckdb")

COUNT = 260_000  # two row groups and part of a third; three of the loop's batches


def events(start: int, stop: int) -> list[bytes]:
    return [record("events", event(i)) for i in range(start, stop)]


@pytest.fixture
def target(tmp_path: Path) -> DuckdbTarget:
    return DuckdbTarget(tmp_path / "local")


def test_records_across_row_groups_keep_their_order_and_values(
    target: DuckdbTarget, tmp_path: Path
) -> None:
    half = COUNT // 2
    messages = [*events(0, half), state("events", half), *events(half, COUNT)]
    messages.append(record("events", {**event(COUNT), "at": "not a number"}))
    result = write(target, tmp_path, lines(*messages), catalog("append", streams=["events"]))
    assert result.returncode == 0, result.stderr[-3000:]
    assert [s["stream"]["stream_state"] for s in result.states] == [{"position": half}]
    ((count, out_of_order, payloads),) = target.query(
        "SELECT count(*), count(*) FILTER (WHERE event_id != n - 1), "
        "count(*) FILTER (WHERE payload->>'$.n' = event_id::VARCHAR) "
        "FROM (SELECT *, row_number() OVER (ORDER BY rowid) AS n FROM main.events)"
    )
    assert (count, out_of_order, payloads) == (COUNT + 1, 0, COUNT + 1)
    ((at, meta),) = target.query(
        'SELECT "at", _airbyte_meta FROM main.events WHERE event_id = ?', COUNT
    )
    assert at is None
    assert '"field":"at"' in meta and "DESTINATION_TYPECAST_ERROR" in meta


def test_a_broken_record_after_many_fails_the_run_and_commits_nothing(
    target: DuckdbTarget, tmp_path: Path
) -> None:
    broken = b'{"type":"RECORD","record":{"stream":"events","data":{"event_id": 1,'
    messages = lines(*events(0, COUNT)) + broken + b"\n" + lines(*events(COUNT, COUNT + 10))
    result = write(target, tmp_path, messages, catalog("append", streams=["events"]))
    assert result.returncode == 1
    (error,) = result.errors
    assert "a batch of stream events did not load" in error["message"]
    assert target.query("SELECT count(*) FROM main.events") == [(0,)]


def test_a_failure_while_the_statement_runs_rolls_it_back(
    target: DuckdbTarget, tmp_path: Path
) -> None:
    """The loop fails (a record of an unknown stream) while the statement is still reading
    the batches before it: the statement is stopped, nothing is committed."""
    messages = [*events(0, COUNT), record("payments", {"id": 1})]
    result = write(target, tmp_path, lines(*messages), catalog("append", streams=["events"]))
    assert result.returncode == 1
    (error,) = result.errors
    assert "not in the configured catalog" in error["message"]
    assert target.query("SELECT count(*) FROM main.events") == [(0,)]
