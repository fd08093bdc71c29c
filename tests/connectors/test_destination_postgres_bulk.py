"""destination-postgres's bulk path (postgres_arrow.py): a batch whose records all fit their
types goes to the server as CSV made by pyarrow; any other batch takes the exact row path. Both
must write the same rows, and the strict reader must refuse whatever the exact path would type
differently."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from sluice_connectors.destination_tables import parse_catalog
from sluice_connectors.postgres_arrow import ArrowRows

from tests.connectors.conftest import PostgresServer
from tests.connectors.destination_support import catalog, lines, record, write
from tests.connectors.test_destination_postgres import PostgresTarget

psycopg = pytest.importorskip("psycopg")
pytest.importorskip("pyarrow")
pytestmark = pytest.mark.postgres

FLAT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "score": {"type": ["null", "number"]},
        "active": {"type": ["null", "boolean"]},
    },
}
CLEAN = [
    {"id": 2**62, "name": 'q " , \t \n \\ ünï', "score": 9205.39, "active": True},
    {"id": -1, "name": "", "score": None, "active": False},  # empty string, not NULL
    {"id": 3, "name": None, "score": 0.1},
    {"id": 4, "name": "x" * 5000, "score": 1e300, "active": None},
    {"id": 3, "name": "later", "score": -2},  # the same key again: dedup keeps this one
]


def flat_catalog(mode: str) -> dict[str, Any]:
    result = catalog(mode, streams=["users"], cursor=None)
    configured = result["streams"][0]
    configured["stream"].update(name="flat", json_schema=copy.deepcopy(FLAT_SCHEMA))
    configured["primary_key"] = [["id"]]
    return result


def read_back(server: PostgresServer, schema: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(server.dsn()) as conn:
        return conn.execute(
            f'SELECT id, name, score, active, "_airbyte_meta", "_airbyte_generation_id", '
            f'(extract(epoch FROM "_airbyte_extracted_at") * 1000)::bigint, '
            f'"_airbyte_additional_properties", length("_airbyte_raw_id") '
            f'FROM "{schema}".flat ORDER BY ctid'
        ).fetchall()


def test_the_strict_reader_takes_only_batches_that_fit() -> None:
    (stream,) = parse_catalog(flat_catalog("append"))
    rows = ArrowRows(stream, numbered=False)
    assert rows.csv([record("flat", d, offset=i) for i, d in enumerate(CLEAN)]) is not None
    for misfit in (
        {"id": 1.5},
        {"id": "1"},
        {"id": 1.0},
        {"active": 1},
        {"score": "2"},
        {"name": 42},
        {"id": 2**63},
        {"other": 1},
        {"name": "a\u0000b"},
    ):
        batch = [record("flat", CLEAN[0]), record("flat", {"id": 9, **misfit})]
        assert rows.csv(batch) is None, misfit
    with_meta = record("flat", CLEAN[0], meta={"changes": []})
    assert rows.csv([with_meta]) is None  # meta's changes go through the exact path


@pytest.mark.parametrize("mode", ["append", "append_dedup"])
def test_bulk_and_exact_paths_write_the_same_rows(
    postgres_server: PostgresServer, tmp_path: Path, mode: str
) -> None:
    bulk, exact = PostgresTarget(postgres_server), PostgresTarget(postgres_server)
    messages = [record("flat", d, offset=i) for i, d in enumerate(CLEAN)]
    misfit = record("flat", {"id": 99, "score": "not a number"})
    for target, sent in ((bulk, messages), (exact, [*messages, misfit])):
        result = write(target, tmp_path, lines(*sent), flat_catalog(mode))
        assert result.returncode == 0, result.stderr
    got, expected = (
        read_back(postgres_server, bulk.schema),
        read_back(postgres_server, exact.schema),
    )
    assert expected[-1][0] == 99 and expected[-1][4]["changes"][0]["field"] == "score"
    assert got == expected[:-1]
    names = [row[1] for row in got]
    if mode == "append":
        assert names == [d["name"] for d in CLEAN]
        assert got[0][0] == 2**62 and float(got[0][2]) == 9205.39 and got[0][3] is True
    else:  # one row per key; the later arrival of id 3 wins
        assert sorted(row[0] for row in got) == [-1, 3, 4, 2**62]
        assert "later" in names and None not in names
    assert "" in names  # an empty string stays a string
    assert all(row[8] == 36 for row in got)  # a UUID each
