"""destination-sqlite, run as a program: the shared destination contract plus its own spec,
path rules, column types, and a run as a Docker image with a volume at /local."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.destination_contract import DestinationContract
from tests.connectors.destination_support import (
    Row,
    catalog,
    check_docker_run,
    check_status,
    lines,
    record,
    row_from_columns,
    table_name,
    user,
    written,
)
from tests.connectors.programs import write_json

NAME = "destination-sqlite"
IMAGE = "sluice/destination-sqlite:0.1.0"


def iso_to_ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


class SqliteTarget:
    name = NAME

    def __init__(self, root: Path) -> None:
        self.root = root
        self.file = root / "out" / "airbyte.sqlite"

    def config(self) -> dict[str, Any]:
        return {"destination_path": "/local/out/airbyte.sqlite"}

    def env(self) -> dict[str, str]:
        return {"SLUICE_LOCAL_ROOT": str(self.root)}

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.file}?mode=ro", uri=True)

    def rows(self, stream: str, namespace: str | None = None) -> list[Row]:
        if not self.file.exists():
            return []
        table = table_name(stream, namespace)
        with self.connect() as db:
            db.row_factory = sqlite3.Row
            found = db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            if not found:
                return []
            result = db.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
        return [
            row_from_columns(stream, dict(r), iso_to_ms(r["_airbyte_extracted_at"])) for r in result
        ]

    def leftovers(self) -> list[str]:
        if not self.file.exists():
            return []
        with self.connect() as db:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master")]
        return [n for n in names if n.endswith("_airbyte_tmp") or "connection_test" in n]


class TestSqliteDestination(DestinationContract):
    @pytest.fixture
    def target(self, tmp_path: Path) -> SqliteTarget:
        return SqliteTarget(tmp_path / "local")

    def test_spec_matches_airbytes_local_sqlite(self, target: SqliteTarget) -> None:
        from tests.connectors.programs import run

        spec = run(NAME, "spec").one("SPEC")["spec"]
        connection = spec["connectionSpecification"]
        assert connection["required"] == ["destination_path"]
        assert connection["properties"]["destination_path"]["type"] == "string"

    def test_columns_have_sqlite_types(self, target: SqliteTarget, tmp_path: Path) -> None:
        written(target, tmp_path, lines(record("users", user(1))), streams=["users"])
        with target.connect() as db:
            declared = {r[1]: r[2] for r in db.execute('PRAGMA table_info("users")')}
        assert declared == {
            "_airbyte_raw_id": "TEXT",
            "_airbyte_extracted_at": "TEXT",
            "_airbyte_meta": "TEXT",
            "_airbyte_generation_id": "INTEGER",
            "id": "INTEGER",
            "name": "TEXT",
            "score": "REAL",
            "active": "BOOLEAN",
            "tags": "TEXT",
            "address": "TEXT",
            "nickname": "TEXT",
            "updated_at": "TEXT",
            "_airbyte_additional_properties": "TEXT",
        }

    def test_values_that_do_not_fit_become_null_with_a_change(
        self, target: SqliteTarget, tmp_path: Path
    ) -> None:
        odd = user(1, name={"first": "A"}, score="high", active=1, id=2**70)
        written(target, tmp_path, lines(record("users", odd)), streams=["users"])
        (row,) = target.rows("users")
        assert row["data"]["name"] == '{"first":"A"}'  # a string column keeps any value as text
        assert "score" not in row["data"] and "active" not in row["data"]
        assert "id" not in row["data"]  # beyond 64 bits
        changes = row["_airbyte_meta"]["changes"]
        assert sorted(c["field"] for c in changes) == ["active", "id", "score"]
        assert {c["reason"] for c in changes} == {"DESTINATION_TYPECAST_ERROR"}

    def test_a_new_schema_column_is_added_on_the_next_run(
        self, target: SqliteTarget, tmp_path: Path
    ) -> None:
        written(target, tmp_path, lines(record("users", user(1))), streams=["users"])
        wider = catalog(streams=["users"])
        wider["streams"][0]["stream"]["json_schema"]["properties"]["rank"] = {"type": "integer"}
        from tests.connectors.destination_support import write

        result = write(target, tmp_path, lines(record("users", {**user(2), "rank": 5})), wider)
        assert result.returncode == 0, result.stderr
        with target.connect() as db:
            ranks = db.execute('SELECT id, rank FROM "users" ORDER BY id').fetchall()
        assert ranks == [(1, None), (2, 5)]

    @pytest.mark.parametrize(
        ("path", "words"),
        [
            ("/local/../escape.sqlite", "escapes the data root"),
            ("/tmp/elsewhere.sqlite", "must start with /local/"),
            ("/local/link/out.sqlite", "escapes the data root"),
        ],
    )
    def test_check_refuses_paths_outside_local(
        self, target: SqliteTarget, tmp_path: Path, path: str, words: str
    ) -> None:
        target.root.mkdir(parents=True, exist_ok=True)
        outside = tmp_path / "outside"
        outside.mkdir()
        (target.root / "link").symlink_to(outside)
        status = check_status(NAME, tmp_path, {"destination_path": path}, target.env())
        assert status["status"] == "FAILED"
        assert words in status["message"]
        assert list(outside.iterdir()) == []

    def test_write_refuses_a_path_outside_local(self, target: SqliteTarget, tmp_path: Path) -> None:
        config = write_json(tmp_path / "bad.json", {"destination_path": "/local/../x.sqlite"})
        catalog_file = write_json(tmp_path / "catalog.json", catalog(streams=["users"]))
        from tests.connectors.programs import run

        result = run(
            NAME,
            "write",
            "--config",
            config,
            "--catalog",
            catalog_file,
            stdin=lines(record("users", user(1))),
            env={**os.environ, **target.env()},
        )
        assert result.returncode == 1
        assert result.errors[0]["failure_type"] == "config_error"
        assert not (tmp_path / "x.sqlite").exists()


@pytest.mark.docker
@pytest.mark.usefixtures("connector_images")
def test_runs_as_a_docker_image_with_a_volume_at_local(tmp_path: Path) -> None:
    target = SqliteTarget(tmp_path / "local")
    check_docker_run(target, IMAGE, tmp_path, target.root, "none")
