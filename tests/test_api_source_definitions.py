from __future__ import annotations

import uuid

import httpx

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running

FAKER = "dfd88b22-b603-4c3d-aad7-3701784586b1"


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
        "dockerRepository": "acme/source-api",
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
            "command": ["python", "-m", "source_api"],
        },
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["dockerImageTag"] == "1.1.0" and updated["name"] == "My API"
    assert updated["resourceRequirements"] == {"default": {"cpu_limit": "2", "memory_limit": "1Gi"}}
    assert (updated["runner"], updated["command"]) == ("process", ["python", "-m", "source_api"])

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
            "dockerRepository": "acme/x",
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
