"""The seeded connectors' specs ship with the server (server/core/shipped_specs/): equal to what
the programs print, used for a seeded definition at its seeded version (either runner), so a
fresh server creates, checks and discovers a faker source without running `spec`; another tag,
another command or a custom definition still runs it."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest
from sqlite_utils import Database

from server.app import create_app
from server.core import seeded_specs
from server.runner.base import ConnectorImage
from server.settings import Settings
from server.store import definitions
from tests.conftest import post, running
from tests.connector_fixtures import FAKER_BIN, ROOT, need_faker_program, workspace_id
from tests.support.public import API

FAKER = "dfd88b22-b603-4c3d-aad7-3701784586b1"  # seeded "Sample Data (Faker)", runner docker
FAKER_IMAGE = "airbyte/source-faker:7.2.1"
DATA = ROOT / "server" / "core" / seeded_specs.DATA_DIR


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "seeded_specs_script", ROOT / "scripts/seeded_specs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


def shipped(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def test_the_index_lists_every_seeded_definition_at_its_seeded_version() -> None:
    # A seeded definition moved to another tag without rerunning the script fails here.
    assert seeded_specs.read_index() == SCRIPT.seeded()
    listed = {entry.file for entry in seeded_specs.read_index()} | {seeded_specs.INDEX}
    assert {p.name for p in DATA.glob("*.json")} == listed


@pytest.mark.parametrize(
    "entry",
    [e for e in seeded_specs.read_index() if e.docker_image.startswith("sluice/")],
    ids=lambda e: e.command[0],
)
def test_sluice_connector_specs_are_what_the_programs_print(
    entry: seeded_specs.ShippedSpec,
) -> None:
    if SCRIPT.find_program(entry.command[0]) is None:
        pytest.skip(f"{entry.command[0]} is not installed (scripts/setup.sh)")
    assert shipped(entry.file) == SCRIPT.printed_spec(entry.command)


def test_faker_spec_is_what_source_faker_7_2_1_prints() -> None:
    need_faker_program()
    assert shipped("source-faker.json") == SCRIPT.printed_spec(["source-faker"])


def _image(runner: str = "docker", image: str = FAKER_IMAGE, command: str = "source-faker") -> Any:
    return ConnectorImage(name="x", runner=runner, docker_image=image, command=(command,))  # type: ignore[arg-type]  # the runner literal, from a parameter


def test_a_shipped_spec_is_for_the_seeded_version_and_command_only(db: Database) -> None:
    expected = msgspec.json.decode(
        (DATA / "source-faker.json").read_bytes(), type=seeded_specs.ConnectorSpecification
    )
    assert seeded_specs.seeded_spec(db, _image()) == expected
    assert seeded_specs.seeded_spec(db, _image(image="airbyte/source-faker:7.2.0")) is None
    # The seeded definition runs its image: a process of the same name is someone else's ...
    assert seeded_specs.seeded_spec(db, _image("process")) is None
    # ... until the definition runs it as a process, with its seeded command only.
    faker = definitions.get_source_definition(db, FAKER)
    definitions.update_source_definition(db, msgspec.structs.replace(faker, runner="process"))
    assert seeded_specs.seeded_spec(db, _image("process")) == expected
    assert seeded_specs.seeded_spec(db, _image("process", command="my-faker")) is None
    assert seeded_specs.seeded_spec(db, _image()) is None
    definitions.delete_source_definition(db, FAKER)
    assert seeded_specs.seeded_spec(db, _image("process")) is None
    e2e = _image("process", "sluice/source-e2e-test:0.1.0", "source-e2e-test")
    assert seeded_specs.seeded_spec(db, e2e) is not None


def _recording_faker(tmp_path: Path) -> tuple[Path, Path]:
    """A connector directory whose `source-faker` notes each command, then runs the real one."""
    need_faker_program()
    bin_dir, runs = tmp_path / "bin", tmp_path / "faker-runs.log"
    bin_dir.mkdir()
    program = bin_dir / "source-faker"
    program.write_text(f'#!/bin/sh\necho "$1" >> {runs}\nexec {FAKER_BIN / "source-faker"} "$@"\n')
    program.chmod(0o755)
    runs.touch()
    return bin_dir, runs


async def test_a_fresh_server_creates_faker_sources_without_running_spec(tmp_path: Path) -> None:
    bin_dir, runs = _recording_faker(tmp_path)
    settings = Settings(
        data_dir=str(tmp_path / "data"), scheduler_tick_seconds=0, connector_path=str(bin_dir)
    )
    async with running(create_app(settings)) as client:
        r = await post(
            client, "source_definitions/update", {"sourceDefinitionId": FAKER, "runner": "process"}
        )
        assert r.status_code == 200, r.text
        ws = await workspace_id(client)

        started = time.monotonic()
        public = await client.post(
            f"{API}/sources",
            json={"name": "F", "workspaceId": ws, "configuration": {"sourceType": "faker"}},
        )
        first = time.monotonic() - started
        assert public.status_code == 200, public.text
        assert first < 1.0, first  # a `spec` run of source-faker takes seconds
        started = time.monotonic()
        body = {"workspaceId": ws, "sourceDefinitionId": FAKER, "name": "F2"}
        config = await post(
            client, "sources/create", {**body, "connectionConfiguration": {"count": 10}}
        )
        assert config.status_code == 200, config.text
        assert time.monotonic() - started < 1.0
        r = await post(client, "source_definition_specifications/get", {**body})
        assert r.status_code == 200, r.text
        assert (
            r.json()["connectionSpecification"]
            == shipped("source-faker.json")["connectionSpecification"]
        )
        assert r.json()["jobInfo"]["logs"]["logLines"] == []
        source_id = config.json()["sourceId"]
        r = await post(client, "sources/check_connection", {"sourceId": source_id})
        assert r.json()["status"] == "succeeded", r.text
        r = await post(client, "sources/discover_schema", {"sourceId": source_id})
        assert r.json()["catalog"]["streams"], r.text
    assert runs.read_text().split() == ["check", "discover"]  # the program ran, never `spec`
    with sqlite3.connect(settings.db_path) as conn:
        key, data = conn.execute("SELECT key, data FROM connector_specs").fetchone()
    assert key == f"process:{FAKER_IMAGE}:source-faker"  # cached from the shipped copy
    assert json.loads(data) == shipped("source-faker.json")


async def test_faker_through_docker_needs_no_spec_run_either(tmp_path: Path) -> None:
    # The seeded runner: the image is not run to create a source (it runs at check).
    settings = Settings(data_dir=str(tmp_path / "data"), scheduler_tick_seconds=0)
    async with running(create_app(settings)) as client:
        ws = await workspace_id(client)
        started = time.monotonic()
        r = await client.post(
            f"{API}/sources",
            json={"name": "F", "workspaceId": ws, "configuration": {"sourceType": "faker"}},
        )
        assert r.status_code == 200, r.text
        assert time.monotonic() - started < 1.0
    with sqlite3.connect(settings.db_path) as conn:
        rows = conn.execute("SELECT key FROM connector_specs").fetchall()
    assert rows == [(f"docker:{FAKER_IMAGE}",)]
    assert not list((tmp_path / "data" / "runs").glob("*"))


async def test_a_definition_moved_to_another_tag_runs_spec(tmp_path: Path) -> None:
    bin_dir, runs = _recording_faker(tmp_path)
    settings = Settings(
        data_dir=str(tmp_path / "data"), scheduler_tick_seconds=0, connector_path=str(bin_dir)
    )
    async with running(create_app(settings)) as client:
        r = await post(
            client,
            "source_definitions/update",
            {"sourceDefinitionId": FAKER, "runner": "process", "dockerImageTag": "7.2.2"},
        )
        assert r.status_code == 200, r.text
        r = await post(
            client,
            "sources/create",
            {
                "workspaceId": await workspace_id(client),
                "sourceDefinitionId": FAKER,
                "name": "F",
                "connectionConfiguration": {},
            },
        )
        assert r.status_code == 200, r.text
    assert runs.read_text().split() == ["spec"]
