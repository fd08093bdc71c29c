"""destination-jsonl, run as a program: the shared destination contract plus its spec, file
layout (Airbyte's Local JSON), path rules and recovery from a half-written line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.connectors.destination_contract import DestinationContract
from tests.connectors.destination_support import (
    Row,
    check_docker_run,
    check_status,
    lines,
    record,
    table_name,
    user,
    without_nulls,
    written,
)
from tests.connectors.programs import run

NAME = "destination-jsonl"


class JsonlTarget:
    name = NAME

    def __init__(self, root: Path) -> None:
        self.root = root
        self.directory = root / "json_data"

    def config(self) -> dict[str, Any]:
        return {"destination_path": "/local/json_data"}

    def env(self) -> dict[str, str]:
        return {"SLUICE_LOCAL_ROOT": str(self.root)}

    def file(self, stream: str, namespace: str | None = None) -> Path:
        return self.directory / f"_airbyte_raw_{table_name(stream, namespace)}.jsonl"

    def rows(self, stream: str, namespace: str | None = None) -> list[Row]:
        path = self.file(stream, namespace)
        if not path.exists():
            return []
        rows = []
        for line in path.read_bytes().splitlines():
            item = msgspec.json.decode(line)
            rows.append(
                {
                    "_airbyte_raw_id": item["_airbyte_ab_id"],
                    "_airbyte_extracted_at": item["_airbyte_emitted_at"],
                    "_airbyte_meta": item["_airbyte_meta"],
                    "_airbyte_generation_id": item["_airbyte_generation_id"],
                    "data": without_nulls(item["_airbyte_data"]),
                }
            )
        return rows

    def leftovers(self) -> list[str]:
        if not self.directory.exists():
            return []
        return [p.name for p in self.directory.iterdir() if not p.name.startswith("_airbyte_raw_")]


class TestJsonlDestination(DestinationContract):
    @pytest.fixture
    def target(self, tmp_path: Path) -> JsonlTarget:
        return JsonlTarget(tmp_path / "local")

    def test_spec_matches_airbytes_local_json(self, target: JsonlTarget) -> None:
        spec = run(NAME, "spec").one("SPEC")["spec"]
        connection = spec["connectionSpecification"]
        assert connection["required"] == ["destination_path"]
        assert set(connection["properties"]) == {"destination_path"}

    def test_lines_carry_airbytes_local_json_fields_and_the_record_bytes(
        self, target: JsonlTarget, tmp_path: Path
    ) -> None:
        sent = record("users", user(1, name="é \\ \t"))
        written(target, tmp_path, lines(sent), streams=["users"])
        (line,) = target.file("users").read_bytes().splitlines()
        item = msgspec.json.decode(line)
        assert list(item) == [
            "_airbyte_ab_id",
            "_airbyte_emitted_at",
            "_airbyte_data",
            "_airbyte_meta",
            "_airbyte_generation_id",
        ]
        data_bytes = msgspec.json.encode(msgspec.json.decode(sent)["record"]["data"])
        assert data_bytes in line  # copied as sent, not re-encoded

    def test_a_half_written_line_from_a_killed_run_is_cut_off(
        self, target: JsonlTarget, tmp_path: Path
    ) -> None:
        written(target, tmp_path, lines(record("users", user(1))), streams=["users"])
        with open(target.file("users"), "ab") as handle:
            handle.write(b'{"_airbyte_ab_id":"abc","_airbyte_da')
        written(target, tmp_path, lines(record("users", user(2))), streams=["users"])
        assert [r["data"]["id"] for r in target.rows("users")] == [1, 2]

    @pytest.mark.parametrize(
        ("path", "words"),
        [
            ("/local/../../outside", "escapes the data root"),
            ("/json_data", "must start with /local/"),
        ],
    )
    def test_check_refuses_paths_outside_local(
        self, target: JsonlTarget, tmp_path: Path, path: str, words: str
    ) -> None:
        status = check_status(NAME, tmp_path, {"destination_path": path}, target.env())
        assert status["status"] == "FAILED"
        assert words in status["message"]

    def test_check_refuses_a_file_as_the_directory(
        self, target: JsonlTarget, tmp_path: Path
    ) -> None:
        target.root.mkdir(parents=True)
        (target.root / "json_data").write_text("not a directory")
        status = check_status(NAME, tmp_path, target.config(), target.env())
        assert status["status"] == "FAILED"
        assert "not a directory" in status["message"]


@pytest.mark.docker
@pytest.mark.usefixtures("connector_images")
def test_runs_as_a_docker_image_with_a_volume_at_local(tmp_path: Path) -> None:
    target = JsonlTarget(tmp_path / "local")
    check_docker_run(target, "sluice/destination-jsonl:0.1.0", tmp_path, target.root, "none")
