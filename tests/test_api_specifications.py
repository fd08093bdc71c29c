"""source_definition_specifications/get and destination_definition_specifications/get, through
the HTTP API, with real connectors (source-faker as a program and as an image; the fault
connector)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running
from tests.connector_fixtures import (
    CONNECTOR_PATH,
    FAKER_IMAGE,
    custom_definition,
    docker_client,
    fault_command,
    need_faker_program,
    need_image,
    workspace_id,
)

FAKER_SEEDED = "dfd88b22-b603-4c3d-aad7-3701784586b1"  # "Sample Data (Faker)", runner docker


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=str(tmp_path / "data"), connector_path=CONNECTOR_PATH)


async def test_source_spec_of_a_local_program_is_run_once_then_cached(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    need_faker_program()
    definition_id = await custom_definition(
        client, "source", "Local faker", command=["source-faker"], image=FAKER_IMAGE
    )
    body = {"sourceDefinitionId": definition_id, "workspaceId": await workspace_id(client)}

    r = await post(client, "source_definition_specifications/get", body)
    assert r.status_code == 200, r.text
    read = r.json()
    assert read["sourceDefinitionId"] == definition_id
    assert read["connectionSpecification"]["properties"]["count"]["type"] == "integer"
    assert read["documentationUrl"] == "https://docs.airbyte.com/integrations/sources/faker"
    info = read["jobInfo"]
    assert (info["configType"], info["succeeded"], info["connectorConfigurationUpdated"]) == (
        "get_spec",
        True,
        False,
    )
    uuid.UUID(info["id"])
    assert info["createdAt"] <= info["endedAt"]
    assert any("Running spec" in line for line in info["logs"]["logLines"])

    started = time.monotonic()
    again = (await post(client, "source_definition_specifications/get", body)).json()
    assert time.monotonic() - started < 1.0  # no connector run
    assert again["connectionSpecification"] == read["connectionSpecification"]
    assert again["jobInfo"]["logs"]["logLines"] == []

    # The cache is in SQLite: a restarted server that cannot even find the program still has it.
    restarted = create_app(Settings(data_dir=str(tmp_path / "data"), connector_path=""))
    async with running(restarted) as other:
        r = await post(other, "source_definition_specifications/get", body)
    assert r.status_code == 200, r.text
    assert r.json()["connectionSpecification"] == read["connectionSpecification"]


async def test_destination_spec(client: httpx.AsyncClient) -> None:
    definition_id = await custom_definition(client, "destination", "Fault", command=fault_command())
    r = await post(
        client,
        "destination_definition_specifications/get",
        {"destinationDefinitionId": definition_id, "workspaceId": await workspace_id(client)},
    )
    assert r.status_code == 200, r.text
    read = r.json()
    assert read["destinationDefinitionId"] == definition_id
    assert read["supportedDestinationSyncModes"] == ["append", "overwrite"]
    assert (read["supportsDbt"], read["supportsNormalization"]) == (False, False)
    assert read["documentationUrl"] == "https://example.invalid/fault-connector"
    assert read["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"] is True


async def test_spec_for_a_source_and_a_destination_id(client: httpx.AsyncClient) -> None:
    workspace = await workspace_id(client)
    source_def = await custom_definition(client, "source", "Fault", command=fault_command())
    dest_def = await custom_definition(client, "destination", "Fault", command=fault_command())
    config = {"api_key": "good", "count": 1}
    source = await post(
        client,
        "sources/create",
        {
            "workspaceId": workspace,
            "sourceDefinitionId": source_def,
            "name": "s",
            "connectionConfiguration": config,
        },
    )
    destination = await post(
        client,
        "destinations/create",
        {
            "workspaceId": workspace,
            "destinationDefinitionId": dest_def,
            "name": "d",
            "connectionConfiguration": config,
        },
    )
    r = await post(
        client,
        "source_definition_specifications/get_for_source",
        {"sourceId": source.json()["sourceId"]},
    )
    assert r.status_code == 200 and r.json()["sourceDefinitionId"] == source_def
    r = await post(
        client,
        "destination_definition_specifications/get_for_destination",
        {"destinationId": destination.json()["destinationId"]},
    )
    assert r.status_code == 200 and r.json()["destinationDefinitionId"] == dest_def


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    r = await post(client, "source_definition_specifications/get", {"sourceDefinitionId": missing})
    assert r.status_code == 404 and r.json()["id"] == missing
    r = await post(
        client, "destination_definition_specifications/get", {"destinationDefinitionId": missing}
    )
    assert r.status_code == 404
    definition_id = await custom_definition(client, "source", "Fault", command=fault_command())
    r = await post(
        client,
        "source_definition_specifications/get",
        {"sourceDefinitionId": definition_id, "workspaceId": missing},
    )
    assert r.status_code == 404 and r.json()["id"] == missing


async def test_a_connector_that_cannot_give_its_spec_is_a_clear_400(
    client: httpx.AsyncClient,
) -> None:
    definition_id = await custom_definition(
        client, "source", "Crashing", command=fault_command("crash")
    )
    r = await post(
        client, "source_definition_specifications/get", {"sourceDefinitionId": definition_id}
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert "Could not get the specification of connector 'Crashing'" in body["message"]
    assert "exited with code 3" in body["message"]
    assert any("RuntimeError: crashed" in line for line in body["details"]["logLines"])
    # Nothing was cached: the next call runs the connector again (and fails again).
    r = await post(
        client, "source_definition_specifications/get", {"sourceDefinitionId": definition_id}
    )
    assert r.status_code == 400


@pytest.mark.docker
async def test_spec_of_the_faker_image(client: httpx.AsyncClient) -> None:
    engine = docker_client()
    need_image(engine, FAKER_IMAGE, "scripts/build-faker-image.sh")
    # The seeded tag's spec ships with the server (no run); another tag of the same image is
    # not the seeded version, so its spec is asked of the image, run as a container.
    engine.images.get(FAKER_IMAGE).tag("airbyte/source-faker", "7.2.1-spec-test")
    try:
        moved = await post(
            client,
            "source_definitions/update",
            {"sourceDefinitionId": FAKER_SEEDED, "dockerImageTag": "7.2.1-spec-test"},
        )
        assert moved.status_code == 200, moved.text
        r = await post(
            client,
            "source_definition_specifications/get",
            {"sourceDefinitionId": FAKER_SEEDED, "workspaceId": await workspace_id(client)},
        )
    finally:
        engine.images.remove("airbyte/source-faker:7.2.1-spec-test")
        engine.close()
    assert r.status_code == 200, r.text
    assert "count" in r.json()["connectionSpecification"]["properties"]
    lines = r.json()["jobInfo"]["logs"]["logLines"]
    assert any("image airbyte/source-faker:7.2.1-spec-test" in x for x in lines), lines


@pytest.mark.docker
async def test_spec_of_a_missing_image_says_how_to_build_it(client: httpx.AsyncClient) -> None:
    docker_client()
    definition_id = await custom_definition(
        client, "source", "Ghost", runner="docker", image="sluice/no-such-image:0.0.1"
    )
    r = await post(
        client, "source_definition_specifications/get", {"sourceDefinitionId": definition_id}
    )
    assert r.status_code == 400
    assert "sluice/no-such-image:0.0.1 is not present locally" in r.json()["message"]
