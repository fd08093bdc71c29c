from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from server.app import create_app
from server.core.definitions import NewDefinition, new_source_definition
from server.settings import Settings
from server.store.definitions import insert_source_definition
from tests.conftest import post, running

FAKER = "dfd88b22-b603-4c3d-aad7-3701784586b1"
E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"


async def _definitions(client: httpx.AsyncClient) -> list[dict[str, object]]:
    r = await post(client, "source_definitions/list")
    assert r.status_code == 200
    return r.json()["sourceDefinitions"]  # type: ignore[no-any-return]


async def test_seeded_definitions_use_airbyte_ids_and_names(client: httpx.AsyncClient) -> None:
    by_name = {d["name"]: d for d in await _definitions(client)}
    faker = by_name["Sample Data (Faker)"]
    assert faker["sourceDefinitionId"] == FAKER
    assert (faker["dockerRepository"], faker["dockerImageTag"]) == ("airbyte/source-faker", "7.2.1")
    assert (faker["runner"], faker["command"]) == ("docker", ["source-faker"])
    assert faker["documentationUrl"] == "https://docs.airbyte.com/integrations/sources/faker"
    e2e = by_name["E2E Testing"]
    assert e2e["sourceDefinitionId"] == "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
    assert (e2e["runner"], e2e["command"]) == ("process", ["source-e2e-test"])
    assert (e2e["dockerRepository"], e2e["dockerImageTag"]) == ("sluice/source-e2e-test", "0.1.0")
    assert by_name["File (CSV, JSON, Excel, Feather, Parquet)"]["command"] == ["source-file"]
    assert all(d["custom"] is False for d in by_name.values())


async def test_create_early_shape_then_get_update_delete(client: httpx.AsyncClient) -> None:
    body = {
        "name": "My API",
        "dockerRepository": "airbyte/source-api",
        "dockerImageTag": "1.0.0",
        "documentationUrl": "https://example.com/docs",
        "icon": "<svg/>",
    }
    r = await post(client, "source_definitions/create", body)
    assert r.status_code == 200, r.text
    created = r.json()
    definition_id = created["sourceDefinitionId"]
    uuid.UUID(definition_id)
    assert created["custom"] is True and created["icon"] == "<svg/>"
    # Without a command, the program is the repository's last part; Docker is the default.
    assert (created["runner"], created["command"]) == ("docker", ["source-api"])

    r = await post(client, "source_definitions/get", {"sourceDefinitionId": definition_id})
    assert r.json() == created

    r = await post(
        client,
        "source_definitions/update",
        {
            "sourceDefinitionId": definition_id,
            "dockerImageTag": "1.1.0",
            "resourceRequirements": {"default": {"cpu_limit": "2", "memory_limit": "1Gi"}},
            "runner": "process",
            "command": ["source-e2e-test", "--fast"],
        },
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["dockerImageTag"] == "1.1.0" and updated["name"] == "My API"
    assert updated["resourceRequirements"] == {"default": {"cpu_limit": "2", "memory_limit": "1Gi"}}
    assert (updated["runner"], updated["command"]) == ("process", ["source-e2e-test", "--fast"])

    r = await post(client, "source_definitions/delete", {"sourceDefinitionId": definition_id})
    assert r.status_code == 204 and r.content == b""
    r = await post(client, "source_definitions/get", {"sourceDefinitionId": definition_id})
    assert r.status_code == 404 and r.json()["id"] == definition_id
    assert definition_id not in {d["sourceDefinitionId"] for d in await _definitions(client)}


async def test_create_custom_modern_shape(client: httpx.AsyncClient) -> None:
    workspace_id = (await post(client, "workspaces/list")).json()["workspaces"][0]["workspaceId"]
    body = {
        "workspaceId": workspace_id,
        "sourceDefinition": {
            "name": "Local faker",
            "dockerRepository": "airbyte/source-faker",
            "dockerImageTag": "7.2.1",
            "documentationUrl": "https://docs.airbyte.com/integrations/sources/faker",
            "runner": "process",
            "command": ["source-faker"],
        },
    }
    r = await post(client, "source_definitions/create_custom", body)
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["runner"]) == ("Local faker", "process")


async def test_create_custom_in_unknown_workspace_is_404_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await _definitions(client)
    missing = str(uuid.uuid4())
    body = {
        "workspaceId": missing,
        "sourceDefinition": {
            "name": "x",
            "dockerRepository": "sluice/x",
            "dockerImageTag": "1",
            "documentationUrl": "https://example.com",
        },
    }
    r = await post(client, "source_definitions/create_custom", body)
    assert r.status_code == 404 and r.json()["id"] == missing
    assert await _definitions(client) == before


async def test_bad_values_are_422_naming_the_property(client: httpx.AsyncClient) -> None:
    base = {
        "name": "x",
        "dockerRepository": "acme/x",
        "dockerImageTag": "1",
        "documentationUrl": "https://example.com",
    }
    cases = {
        "runner": {**base, "runner": "kubernetes"},
        "command": {**base, "command": []},
        "dockerRepository": {**base, "dockerRepository": "Not A Repo"},
        "dockerImageTag": {**base, "dockerImageTag": "bad tag"},
    }
    for field, body in cases.items():
        r = await post(client, "source_definitions/create", body)
        assert r.status_code == 422, (field, r.text)
        assert r.json()["validationErrors"][0]["propertyPath"] == field


async def test_deleting_a_definition_deletes_its_sources(client: httpx.AsyncClient) -> None:
    workspace_id = (await post(client, "workspaces/list")).json()["workspaces"][0]["workspaceId"]
    # A definition of Sluice's own test source, which runs as a local program.
    r = await post(
        client,
        "source_definitions/create",
        {
            "name": "Another E2E",
            "dockerRepository": "sluice/source-e2e-test",
            "dockerImageTag": "0.1.0",
            "documentationUrl": "https://docs.airbyte.com/integrations/sources/e2e-test",
            "runner": "process",
        },
    )
    definition_id = r.json()["sourceDefinitionId"]
    r = await post(
        client,
        "sources/create",
        {
            "workspaceId": workspace_id,
            "sourceDefinitionId": definition_id,
            "name": "s",
            "connectionConfiguration": {},
        },
    )
    assert r.status_code == 200, r.text
    source_id = r.json()["sourceId"]
    r = await post(client, "source_definitions/delete", {"sourceDefinitionId": definition_id})
    assert r.status_code == 204
    r = await post(client, "sources/get", {"sourceId": source_id})
    assert r.status_code == 404


async def test_definitions_survive_a_restart_and_seeds_are_not_duplicated(
    settings: Settings,
) -> None:
    async with running(create_app(settings)) as c:
        first = await _definitions(c)
        await post(
            c,
            "source_definitions/update",
            {"sourceDefinitionId": FAKER, "dockerImageTag": "7.3.0"},
        )
    async with running(create_app(settings)) as c:
        again = await _definitions(c)
    assert len(again) == len(first)
    assert {d["sourceDefinitionId"]: d["dockerImageTag"] for d in again}[FAKER] == "7.3.0"


# --- what a definition may run ---------------------------------------------------------------

SHELLS = [
    ["/bin/sh", "-c", "id > owned.txt", "sh"],
    ["sh", "-c", "id > owned.txt"],
    ["bash", "-c", "id > owned.txt"],
    ["env", "sh", "-c", "id > owned.txt"],
    ["python3", "-c", "open('owned.txt', 'w')"],
    ["perl", "-e", "1"],
    ["touch", "owned.txt"],  # on $PATH, not in a connector directory
    ["../bin/source-e2e-test"],
    ["no-such-connector"],
]


async def test_updating_a_definition_to_run_a_shell_is_refused(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's attack: update the faker definition to a shell, then ask for its spec."""
    monkeypatch.chdir(tmp_path)
    before = (await post(client, "source_definitions/get", {"sourceDefinitionId": FAKER})).json()
    for command in SHELLS:
        r = await post(
            client,
            "source_definitions/update",
            {"sourceDefinitionId": FAKER, "runner": "process", "command": command},
        )
        assert r.status_code == 422, (command, r.text)
        error = r.json()["validationErrors"][0]
        assert error["propertyPath"] == "command", r.text
        assert error["invalidValue"] == json.dumps(command, separators=(",", ":"))
        r = await post(
            client, "source_definition_specifications/get", {"sourceDefinitionId": FAKER}
        )
    after = (await post(client, "source_definitions/get", {"sourceDefinitionId": FAKER})).json()
    assert after == before
    assert not list(tmp_path.rglob("owned.txt"))


async def test_a_stored_shell_command_is_refused_at_run_time(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    # A row written before the rule existed (here: straight into the store).
    owned = tmp_path / "owned.txt"
    row = new_source_definition(
        NewDefinition(
            name="Old row",
            docker_repository="airbyte/old",
            docker_image_tag="1",
            documentation_url="https://example.com",
            runner="process",
            command=["sh", "-c", f"touch {owned}"],
        )
    )
    db = Database(settings.db_path)
    with db.conn:
        insert_source_definition(db, row)
    db.close()
    definition_id = str(row.source_definition_id)
    r = await post(
        client, "source_definition_specifications/get", {"sourceDefinitionId": definition_id}
    )
    assert r.status_code >= 400 and r.status_code != 500, r.text
    assert "'sh' is a shell, interpreter or launcher" in r.json()["message"]
    assert not owned.exists()


async def test_images_outside_the_allow_list_are_refused(client: httpx.AsyncClient) -> None:
    definition = {
        "name": "Evil",
        "dockerRepository": "evil/source-shell",
        "dockerImageTag": "1",
        "documentationUrl": "https://example.com",
    }
    r = await post(client, "source_definitions/create", definition)
    assert r.status_code == 422, r.text
    error = r.json()["validationErrors"][0]
    assert (error["propertyPath"], error["invalidValue"]) == (
        "dockerRepository",
        "evil/source-shell",
    )
    assert "SLUICE_ALLOWED_IMAGES" in error["message"]

    r = await post(client, "source_definitions/create_custom", {"sourceDefinition": definition})
    assert r.status_code == 422, r.text
    assert r.json()["validationErrors"][0]["propertyPath"] == "sourceDefinition.dockerRepository"

    # A process definition's command is checked the same way in the wrapped create.
    process = {**definition, "dockerRepository": "sluice/x", "runner": "process", "command": ["sh"]}
    r = await post(client, "source_definitions/create_custom", {"sourceDefinition": process})
    assert r.status_code == 422, r.text
    assert r.json()["validationErrors"][0]["propertyPath"] == "sourceDefinition.command"

    # A process definition's image is not run; switching it to Docker checks the image.
    local = {**definition, "name": "Local", "runner": "process", "command": ["source-file"]}
    r = await post(client, "source_definitions/create", local)
    assert r.status_code == 200, r.text
    definition_id = r.json()["sourceDefinitionId"]
    r = await post(
        client,
        "source_definitions/update",
        {"sourceDefinitionId": definition_id, "runner": "docker"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["validationErrors"][0]["propertyPath"] == "dockerRepository"
    r = await post(client, "source_definitions/get", {"sourceDefinitionId": definition_id})
    assert r.json()["runner"] == "process"
    assert "Evil" not in {d["name"] for d in await _definitions(client)}


async def test_the_allow_list_and_connector_path_are_settings(tmp_path: Path) -> None:
    connectors = tmp_path / "connectors"
    connectors.mkdir()
    program = connectors / "source-mine"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    settings = Settings(
        data_dir=str(tmp_path / "d"),
        connector_path=str(connectors),
        allowed_images="registry.local:5000/*",
    )
    base = {"dockerImageTag": "1", "documentationUrl": "https://example.com"}
    async with running(create_app(settings)) as c:
        r = await post(
            c,
            "source_definitions/create",
            {**base, "name": "Mine", "dockerRepository": "registry.local:5000/acme/source-mine"},
        )
        assert r.status_code == 200, r.text
        r = await post(
            c,
            "source_definitions/create",
            {**base, "name": "Hub", "dockerRepository": "airbyte/source-faker"},
        )
        assert r.status_code == 422, r.text
        r = await post(
            c,
            "source_definitions/create",
            {
                **base,
                "name": "Local",
                "dockerRepository": "acme/source-mine",
                "runner": "process",
                "command": ["source-mine", "--verbose"],
            },
        )
        assert r.status_code == 200, r.text
        # Seeded definitions still run under any settings: their programs are built in.
        r = await post(
            c, "source_definitions/update", {"sourceDefinitionId": E2E, "dockerImageTag": "0.1.1"}
        )
        assert r.status_code == 200, r.text
