"""destination-duckdb, run as a program: the shared destination contract plus its spec, path
rules, schema option and column types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.connectors.destination_contract import DestinationContract
from tests.connectors.destination_support import (
    Row,
    check_docker_run,
    check_status,
    event,
    lines,
    record,
    row_from_columns,
    table_name,
    user,
    written,
)
from tests.connectors.programs import run

duckdb = pytest.importorskip("duckdb")

NAME = "destination-duckdb"


class DuckdbTarget:
    name = NAME

    def __init__(self, root: Path, schema: str | None = None) -> None:
        self.root = root
        self.file = root / "warehouse" / "data.duckdb"
        self.schema = schema

    def config(self) -> dict[str, Any]:
        config = {"destination_path": "/local/warehouse/data.duckdb"}
        return {**config, "schema": self.schema} if self.schema else config

    def env(self) -> dict[str, str]:
        return {"SLUICE_LOCAL_ROOT": str(self.root)}

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.file), read_only=True) as db:
            result: list[tuple[Any, ...]] = db.execute(sql, list(params)).fetchall()
            return result

    def rows(self, stream: str, namespace: str | None = None) -> list[Row]:
        if not self.file.exists():
            return []
        table = table_name(stream).lower()
        schema = namespace or self.schema or "main"
        with duckdb.connect(str(self.file), read_only=True) as db:
            found = db.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                [schema, table],
            ).fetchall()
            if not found:
                return []
            cur = db.execute(
                f'SELECT * EXCLUDE ("_airbyte_extracted_at"), '
                f'epoch_ms("_airbyte_extracted_at") AS "_ms" FROM "{schema}"."{table}" '
                f"ORDER BY rowid"
            )
            names = [d[0] for d in cur.description]
            result = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        return [row_from_columns(stream, r, r["_ms"]) for r in result]

    def leftovers(self) -> list[str]:
        if not self.file.exists():
            return []
        names = self.query("SELECT table_name FROM information_schema.tables")
        return [n for (n,) in names if n.endswith("_airbyte_tmp") or "connection_test" in n]


class TestDuckdbDestination(DestinationContract):
    @pytest.fixture
    def target(self, tmp_path: Path) -> DuckdbTarget:
        return DuckdbTarget(tmp_path / "local")

    def test_spec_matches_airbytes_duckdb(self, target: DuckdbTarget) -> None:
        spec = run(NAME, "spec").one("SPEC")["spec"]
        connection = spec["connectionSpecification"]
        assert connection["required"] == ["destination_path"]
        assert set(connection["properties"]) == {"destination_path", "schema"}

    def test_the_schema_option_places_the_tables(
        self, target: DuckdbTarget, tmp_path: Path
    ) -> None:
        target.schema = "analytics"
        written(target, tmp_path, lines(record("users", user(1))), streams=["users"])
        assert [r["data"]["id"] for r in target.rows("users")] == [1]
        tables = target.query("SELECT table_schema, table_name FROM information_schema.tables")
        assert ("analytics", "users") in tables
        assert ("main", "users") not in tables

    def test_columns_have_duckdb_types(self, target: DuckdbTarget, tmp_path: Path) -> None:
        written(target, tmp_path, lines(record("users", user(1))), streams=["users"])
        types = dict(
            target.query(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'users'"
            )
        )
        assert types == {
            "_airbyte_raw_id": "VARCHAR",
            "_airbyte_extracted_at": "TIMESTAMP WITH TIME ZONE",
            "_airbyte_meta": "JSON",
            "_airbyte_generation_id": "BIGINT",
            "id": "BIGINT",
            "name": "VARCHAR",
            "score": "DOUBLE",
            "active": "BOOLEAN",
            "tags": "JSON",
            "address": "JSON",
            "nickname": "VARCHAR",
            "updated_at": "VARCHAR",
            "_airbyte_additional_properties": "JSON",
        }

    def test_values_that_do_not_fit_become_null_with_a_change(
        self, target: DuckdbTarget, tmp_path: Path
    ) -> None:
        odd_event = {**event(1), "event_id": "seven", "at": "noon"}
        written(target, tmp_path, lines(record("events", odd_event)), streams=["events"])
        (row,) = target.rows("events")
        assert "event_id" not in row["data"] and "at" not in row["data"]
        changes = row["_airbyte_meta"]["changes"]
        assert sorted(c["field"] for c in changes) == ["at", "event_id"]
        assert {c["change"] for c in changes} == {"NULLED"}

    def test_check_refuses_a_path_outside_local(self, target: DuckdbTarget, tmp_path: Path) -> None:
        config = {"destination_path": "/local/../../etc/evil.duckdb"}
        status = check_status(NAME, tmp_path, config, target.env())
        assert status["status"] == "FAILED"
        assert "escapes the data root" in status["message"]

    def test_check_refuses_motherduck(self, target: DuckdbTarget, tmp_path: Path) -> None:
        status = check_status(NAME, tmp_path, {"destination_path": "md:my_db"}, target.env())
        assert status["status"] == "FAILED"
        assert "MotherDuck" in status["message"]


@pytest.mark.docker
@pytest.mark.usefixtures("connector_images")
def test_runs_as_a_docker_image_with_a_volume_at_local(tmp_path: Path) -> None:
    target = DuckdbTarget(tmp_path / "local")
    check_docker_run(target, "sluice/destination-duckdb:0.1.0", tmp_path, target.root, "none")
