"""sources/discover_schema and scheduler/sources/discover_schema through the HTTP API."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.domain.secrets import MASK
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
from tests.support.postgres import current_database_url

FAKER_SEEDED = "dfd88b22-b603-4c3d-aad7-3701784586b1"  # runner docker


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=str(tmp_path / "data"),
        connector_path=CONNECTOR_PATH,
        database_url=current_database_url(),
    )


async def create_source(
    client: httpx.AsyncClient, definition_id: str, config: dict[str, Any]
) -> str:
    r = await post(
        client,
        "sources/create",
        {
            "workspaceId": await workspace_id(client),
            "sourceDefinitionId": definition_id,
            "name": "src",
            "connectionConfiguration": config,
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["sourceId"])


async def faker_discover(client: httpx.AsyncClient, definition_id: str) -> None:
    source_id = await create_source(client, definition_id, {"count": 10})
    r = await post(client, "sources/discover_schema", {"sourceId": source_id})
    assert r.status_code == 200, r.text
    read = r.json()
    info = read["jobInfo"]
    assert (info["configType"], info["succeeded"], info["configId"]) == (
        "discover_schema",
        True,
        source_id,
    )
    assert info["logs"]["logLines"]  # the connector ran
    catalog_id = read["catalogId"]
    uuid.UUID(catalog_id)

    streams = {s["stream"]["name"]: s for s in read["catalog"]["streams"]}
    assert set(streams) == {"users", "products", "purchases"}
    users = streams["users"]
    assert users["stream"]["jsonSchema"]["properties"]["email"]["type"] == "string"
    assert users["stream"]["supportedSyncModes"] == ["full_refresh", "incremental"]
    assert users["stream"]["sourceDefinedCursor"] is True
    assert users["stream"]["defaultCursorField"] == ["updated_at"]
    assert users["stream"]["sourceDefinedPrimaryKey"] == [["id"]]
    # Airbyte's suggested configuration for a discovered stream.
    assert users["config"] == {
        "syncMode": "full_refresh",
        "destinationSyncMode": "append",
        "cursorField": ["updated_at"],
        "primaryKey": [["id"]],
        "aliasName": "users",
        "selected": True,
        "suggested": True,
    }
    # The 2020 shape, for old clients.
    early = {s["name"]: s for s in read["schema"]["streams"]}
    assert set(early) == set(streams)
    fields = {f["name"]: f for f in early["users"]["fields"]}
    assert fields["id"]["dataType"] == "number" and fields["id"]["selected"] is True
    assert fields["email"]["dataType"] == "string"

    # Cached per configuration: no run, same catalog.
    again = (await post(client, "sources/discover_schema", {"sourceId": source_id})).json()
    assert again["catalogId"] == catalog_id and again["jobInfo"]["logs"]["logLines"] == []
    # disable_cache runs it again; the same catalog keeps its id.
    fresh = (
        await post(
            client, "sources/discover_schema", {"sourceId": source_id, "disable_cache": True}
        )
    ).json()
    assert fresh["jobInfo"]["logs"]["logLines"] and fresh["catalogId"] == catalog_id

    # Before saving a source.
    r = await post(
        client,
        "scheduler/sources/discover_schema",
        {"sourceDefinitionId": definition_id, "connectionConfiguration": {"count": 20}},
    )
    assert r.status_code == 200 and r.json()["jobInfo"]["succeeded"] is True
    assert len(r.json()["catalog"]["streams"]) == 3


async def test_faker_as_a_local_program(client: httpx.AsyncClient) -> None:
    need_faker_program()
    definition_id = await custom_definition(
        client, "source", "Local faker", command=["source-faker"], image=FAKER_IMAGE
    )
    await faker_discover(client, definition_id)


@pytest.mark.docker
async def test_faker_as_a_container(client: httpx.AsyncClient) -> None:
    need_image(docker_client(), FAKER_IMAGE, "scripts/build-faker-image.sh")
    await faker_discover(client, FAKER_SEEDED)


async def test_a_failing_discover_is_a_200_without_a_catalog(client: httpx.AsyncClient) -> None:
    definition_id = await custom_definition(
        client, "source", "Broken", command=fault_command("discover:exit1")
    )
    source_id = await create_source(client, definition_id, {"api_key": "sekrit-5", "count": 1})
    r = await post(client, "sources/discover_schema", {"sourceId": source_id})
    assert r.status_code == 200, r.text
    read = r.json()
    assert "catalog" not in read and "catalogId" not in read
    assert read["jobInfo"]["succeeded"] is False
    failure = read["jobInfo"]["failureReason"]
    assert failure["externalMessage"] == f"Something broke (api_key {MASK})"
    assert failure["failureType"] == "config_error" and failure["fromTraceMessage"] is True
    assert "sekrit-5" not in r.text
    # A failure is not cached: the next call runs the connector again.
    again = (await post(client, "sources/discover_schema", {"sourceId": source_id})).json()
    assert again["jobInfo"]["logs"]["logLines"]


async def test_a_huge_line_fails_the_discover(tmp_path: Path) -> None:
    app = create_app(
        Settings(
            data_dir=str(tmp_path / "d"), max_line_bytes=1 << 20, connector_path=CONNECTOR_PATH
        )
    )
    async with running(app) as client:
        definition_id = await custom_definition(
            client, "source", "Loud", command=fault_command("discover:hugeline")
        )
        source_id = await create_source(client, definition_id, {"api_key": "good", "count": 1})
        r = await post(client, "sources/discover_schema", {"sourceId": source_id})
    assert r.status_code == 200
    assert r.json()["jobInfo"]["succeeded"] is False
    assert "longer than 1048576 bytes" in r.json()["jobInfo"]["failureReason"]["externalMessage"]


async def test_scheduler_discover_refuses_a_bad_configuration(client: httpx.AsyncClient) -> None:
    definition_id = await custom_definition(client, "source", "Fault", command=fault_command())
    r = await post(
        client,
        "scheduler/sources/discover_schema",
        {"sourceDefinitionId": definition_id, "connectionConfiguration": {"api_key": "good"}},
    )
    assert r.status_code == 200
    assert r.json()["jobInfo"]["succeeded"] is False
    message = r.json()["jobInfo"]["failureReason"]["externalMessage"]
    assert "connectionConfiguration.count" in message


async def test_unknown_source_is_404(client: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    r = await post(client, "sources/discover_schema", {"sourceId": missing})
    assert r.status_code == 404 and r.json()["id"] == missing
