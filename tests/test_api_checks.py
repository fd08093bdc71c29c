"""Connection checks through the HTTP API, with real connectors. A failing check is a 200
with `status: failed`, whatever the reason; only unknown ids are HTTP errors."""

from __future__ import annotations

import time
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


async def create(
    client: httpx.AsyncClient, kind: str, definition_id: str, config: dict[str, Any]
) -> dict[str, Any]:
    r = await post(
        client,
        f"{kind}s/create",
        {
            "workspaceId": await workspace_id(client),
            f"{kind}DefinitionId": definition_id,
            "name": f"my {kind}",
            "connectionConfiguration": config,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def assert_job_info(info: dict[str, Any], config_type: str, succeeded: bool = True) -> None:
    uuid.UUID(info["id"])
    assert info["configType"] == config_type
    assert info["succeeded"] is succeeded
    assert info["connectorConfigurationUpdated"] is False
    assert isinstance(info["logs"]["logLines"], list)


async def faker_checks(client: httpx.AsyncClient, definition_id: str) -> None:
    source = await create(client, "source", definition_id, {"count": 10})
    r = await post(client, "sources/check_connection", {"sourceId": source["sourceId"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "succeeded"
    assert_job_info(r.json()["jobInfo"], "check_connection_source")
    assert r.json()["jobInfo"]["configId"] == source["sourceId"]
    assert any("Check succeeded" in line for line in r.json()["jobInfo"]["logs"]["logLines"])

    # Before saving: a configuration the spec refuses fails, naming the property.
    core = {"sourceDefinitionId": definition_id, "workspaceId": await workspace_id(client)}
    r = await post(
        client,
        "scheduler/sources/check_connection",
        {**core, "connectionConfiguration": {"count": "x"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "failed"
    assert "connectionConfiguration.count" in r.json()["message"]
    r = await post(
        client,
        "scheduler/sources/check_connection",
        {**core, "connectionConfiguration": {"count": 5}},
    )
    assert r.json()["status"] == "succeeded", r.text


async def test_faker_as_a_local_program(client: httpx.AsyncClient) -> None:
    need_faker_program()
    definition_id = await custom_definition(
        client, "source", "Local faker", command=["source-faker"], image=FAKER_IMAGE
    )
    await faker_checks(client, definition_id)


@pytest.mark.docker
async def test_faker_as_a_container(client: httpx.AsyncClient) -> None:
    need_image(docker_client(), FAKER_IMAGE, "scripts/build-faker-image.sh")
    await faker_checks(client, FAKER_SEEDED)


async def test_connector_says_failed_and_secrets_stay_masked(client: httpx.AsyncClient) -> None:
    definition_id = await custom_definition(client, "source", "Fault", command=fault_command())
    source = await create(client, "source", definition_id, {"api_key": "wrong-key-77", "count": 1})
    r = await post(client, "sources/check_connection", {"sourceId": source["sourceId"]})
    assert r.status_code == 200
    read = r.json()
    assert (read["status"], read["message"]) == ("failed", f"Wrong api_key {MASK}")
    assert_job_info(read["jobInfo"], "check_connection_source")  # the job ran fine
    assert "wrong-key-77" not in r.text
    assert f"starting check with api_key {MASK}" in "\n".join(read["jobInfo"]["logs"]["logLines"])

    # For update: the mask keeps the stored key (still wrong); a new key is used as sent.
    update = {
        "sourceId": source["sourceId"],
        "connectionConfiguration": {"api_key": MASK, "count": 1},
    }
    r = await post(client, "sources/check_connection_for_update", update)
    assert r.json()["status"] == "failed" and "wrong-key-77" not in r.text
    update["connectionConfiguration"] = {"api_key": "good", "count": 1}
    r = await post(client, "sources/check_connection_for_update", update)
    assert r.json()["status"] == "succeeded", r.text
    # Checking did not save anything.
    r = await post(client, "sources/check_connection", {"sourceId": source["sourceId"]})
    assert r.json()["status"] == "failed"

    # Before saving, with the source's id: its stored secrets fill the masks.
    core = {
        "sourceDefinitionId": definition_id,
        "sourceId": source["sourceId"],
        "connectionConfiguration": {"api_key": MASK, "count": 1},
    }
    r = await post(client, "scheduler/sources/check_connection", core)
    assert r.json()["message"] == f"Wrong api_key {MASK}"


async def test_destination_checks(client: httpx.AsyncClient) -> None:
    definition_id = await custom_definition(client, "destination", "Fault", command=fault_command())
    destination = await create(
        client, "destination", definition_id, {"api_key": "good", "count": 1}
    )
    r = await post(
        client, "destinations/check_connection", {"destinationId": destination["destinationId"]}
    )
    assert r.json()["status"] == "succeeded", r.text
    assert_job_info(r.json()["jobInfo"], "check_connection_destination")

    update = {
        "destinationId": destination["destinationId"],
        "connectionConfiguration": {"api_key": "nope-nope", "count": 1},
    }
    r = await post(client, "destinations/check_connection_for_update", update)
    assert (r.json()["status"], r.json()["message"]) == ("failed", f"Wrong api_key {MASK}")

    core = {"destinationDefinitionId": definition_id, "connectionConfiguration": {"count": 0}}
    r = await post(client, "scheduler/destinations/check_connection", core)
    assert r.json()["status"] == "failed"
    assert "connectionConfiguration.api_key" in r.json()["message"]  # required, reported first
    core["connectionConfiguration"] = {"api_key": "good", "count": 3}
    r = await post(client, "scheduler/destinations/check_connection", core)
    assert r.json()["status"] == "succeeded"


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("exit1", f"Something broke (api_key {MASK})"),
        ("crash", "The connector exited with code 3 without a CONNECTION_STATUS message"),
        ("hang", "check did not finish within 3 s; the connector was stopped"),
        ("noresult", "The connector ended without a CONNECTION_STATUS message"),
    ],
)
async def test_faulty_connectors_fail_the_check_not_the_request(
    tmp_path: Path, mode: str, message: str
) -> None:
    app = create_app(
        Settings(
            data_dir=str(tmp_path / "data"), check_timeout_seconds=3, connector_path=CONNECTOR_PATH
        )
    )
    async with running(app) as client:
        # The connector gives its spec (so the source can be created); only its check fails.
        command = fault_command(f"check:{mode}")
        definition_id = await custom_definition(client, "source", mode, command=command)
        source = await create(client, "source", definition_id, {"api_key": "sekrit-9", "count": 1})
        started = time.monotonic()
        r = await post(client, "sources/check_connection", {"sourceId": source["sourceId"]})
    assert time.monotonic() - started < 30
    assert r.status_code == 200, r.text
    read = r.json()
    assert (read["status"], read["message"]) == ("failed", message)
    assert_job_info(read["jobInfo"], "check_connection_source", succeeded=False)
    failure = read["jobInfo"]["failureReason"]
    assert failure["externalMessage"] == message and failure["failureOrigin"] == "source"
    assert "sekrit-9" not in r.text


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    for path, body in [
        ("sources/check_connection", {"sourceId": missing}),
        ("destinations/check_connection", {"destinationId": missing}),
        (
            "sources/check_connection_for_update",
            {"sourceId": missing, "connectionConfiguration": {}},
        ),
        (
            "scheduler/sources/check_connection",
            {"sourceDefinitionId": missing, "connectionConfiguration": {}},
        ),
        (
            "scheduler/destinations/check_connection",
            {"destinationDefinitionId": missing, "connectionConfiguration": {}},
        ),
    ]:
        r = await post(client, path, body)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["id"] == missing


@pytest.mark.docker
async def test_missing_image_is_a_failed_check_saying_so(tmp_path: Path) -> None:
    docker_client()
    need_faker_program()
    # The image is missing but the program is installed: the message says to use it.
    app = create_app(Settings(data_dir=str(tmp_path / "d"), connector_path=CONNECTOR_PATH))
    async with running(app) as client:
        definition_id = await custom_definition(
            client,
            "source",
            "Faker, other tag",
            runner="docker",
            command=["source-faker"],
            image="airbyte/source-faker:0.0.0-missing",
        )
        r = await post(
            client,
            "scheduler/sources/check_connection",
            {"sourceDefinitionId": definition_id, "connectionConfiguration": {"count": 1}},
        )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "failed"
    assert "airbyte/source-faker:0.0.0-missing is not present locally" in r.json()["message"]
    assert "set the definition's runner to 'process'" in r.json()["message"]
